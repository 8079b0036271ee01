"""The setup wizard: shared pages (mapping, schedule, summary) around a kind's own pages."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QPushButton, QWidget, QWizard, QWizardPage

from app.core.secrets import NoKeyringError
from app.core.sources.records import PUSH_KINDS, SourceSetup
from app.core.sources.setup import save_source
from app.ui.context import AppContext
from app.ui.wizards.base_page import FormPage
from app.ui.wizards.kinds import WizardKind, kind_named
from app.ui.wizards.names import free_name, name_problem, taken_names
from app.ui.wizards.pages.generic_page import GenericPage
from app.ui.wizards.pages.kind_page import KindPage
from app.ui.wizards.pages.mapping_page import MappingPage
from app.ui.wizards.pages.schedule_page import SchedulePage
from app.ui.wizards.pages.sftp_test_page import SftpTestPage
from app.ui.wizards.pages.summary_page import SummaryPage
from app.ui.wizards.pages.ukhh_page import UkHhPage
from app.ui.wizards.prefill import prefill_page
from app.ui.wizards.push.accuenergy_page import ACULINK_810, ACUREV_2100, AccuenergyPage
from app.ui.wizards.push.device_edit_page import DeviceEditPage
from app.ui.wizards.push.episensor_page import EpiSensorPage
from app.ui.wizards.push.push_test_page import PushTestPage
from app.ui.wizards.verdigris.account_page import VerdigrisPage
from app.ui.wizards.verdigris.connection_page import VerdigrisTestPage
from connectors.base import SourceError

log = logging.getLogger(__name__)

KIND, SOURCE, TEST, MAPPING, SCHEDULE, SUMMARY = range(1, 7)
DESTINATION = SUMMARY  # where readings go is said on the summary (it is app-wide)
SOURCE_PAGES: dict[str, Callable[[], FormPage]] = {
    "episensor": EpiSensorPage,
    "acurev2100": partial(AccuenergyPage, ACUREV_2100),
    "aculink810": partial(AccuenergyPage, ACULINK_810),
    "uk-hh": UkHhPage,
    "verdigris": VerdigrisPage,
    "generic": GenericPage,
}
TEST_PAGES: dict[str, type[FormPage]] = {
    "episensor": PushTestPage,
    "acurev2100": PushTestPage,
    "aculink810": PushTestPage,
    "uk-hh": SftpTestPage,
    "verdigris": VerdigrisTestPage,
}


class SourceWizard(QWizard):
    """Walks through source settings, a connection test, mapping, schedule, destination.

    With `editing` (a saved source) it opens on that source's settings, filled
    in; Finish saves over it (its job, device settings and record; a device
    keeps its token unless the user asks for a new one).
    """

    source_saved = Signal(object)  # SourceSetup

    def __init__(
        self,
        context: AppContext,
        kind: str | None = None,
        parent: QWidget | None = None,
        editing: SourceSetup | None = None,
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.editing = editing
        self._keep_device = False
        kind = editing.kind if editing is not None else kind
        self._kind = kind or "episensor"
        self.setAccessibleName("Edit source wizard" if editing else "Add source wizard")
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.setOption(QWizard.WizardOption.HaveHelpButton, False)
        self.resize(680, 560)
        if kind is None:
            self.setPage(KIND, KindPage())
        for number, page in (
            (MAPPING, MappingPage()),
            (SCHEDULE, SchedulePage()),
            (SUMMARY, SummaryPage()),
        ):
            self.setPage(number, page)
        self.set_kind(self._kind)
        self.setStartId(KIND if kind is None else SOURCE)
        self._name_buttons()
        if editing is not None:
            self._prefill(editing)

    def _name_buttons(self) -> None:
        for which, name in (
            (QWizard.WizardButton.NextButton, "Next"),
            (QWizard.WizardButton.BackButton, "Back"),
            (QWizard.WizardButton.FinishButton, "Finish"),
            (QWizard.WizardButton.CancelButton, "Cancel"),
        ):
            self.button(which).setAccessibleName(name)

    # --- kinds and routing --------------------------------------------------------
    def set_kind(self, kind: str) -> None:
        """Install the kind's own pages (source settings and connection test)."""
        self._kind = kind_named(kind).kind
        self.setWindowTitle(f"meterbridge — add {kind_named(kind).title.rstrip('…')}")
        if self.editing is not None:
            self.setWindowTitle(f"meterbridge — edit {self.editing.name}")
        for number in (SOURCE, TEST):
            if self.page(number) is not None:
                self.removePage(number)
        source = SOURCE_PAGES[self._kind]()
        if self.editing is None:  # start from a free name: the first guess must not clash
            source.name.setText(free_name(source.name.text(), taken_names(self.context)))
        self.setPage(SOURCE, source)
        test = TEST_PAGES.get(self._kind)
        if self.editing is not None and self._kind in PUSH_KINDS:
            test = DeviceEditPage  # the device keeps its registration and token
        if test is not None:
            self.setPage(TEST, test())
        self._enter_means_next()

    def _enter_means_next(self) -> None:
        """In-page buttons are pressed with Space; Enter always goes to the next page."""
        for number in self.pageIds():
            for button in self.page(number).findChildren(QPushButton):
                button.setAutoDefault(False)

    @property
    def kind(self) -> str:
        """The kind being set up (``uk-hh-sftp`` when UK files come over SFTP)."""
        if self._kind == "uk-hh" and getattr(self.source_page, "sftp", False):
            return "uk-hh-sftp"
        return self._kind

    def kind_info(self) -> WizardKind:
        """The chosen kind's description."""
        return kind_named(self._kind)

    @property
    def source_page(self) -> FormPage:
        """The kind's source settings page."""
        return self.page(SOURCE)  # type: ignore[return-value]

    def source_name(self) -> str:
        """The name typed on the source page."""
        return str(self.source_page.name.text()).strip()  # type: ignore[attr-defined]

    def next_after(self, page: QWizardPage) -> int:
        """The id of the page after `page` for the chosen kind."""
        current = self._id_of(page)
        if current == KIND:
            return SOURCE
        if current == SOURCE:
            return TEST if self._has_test() else MAPPING
        if current == TEST:
            return MAPPING
        if current == MAPPING:  # a push device has no schedule: it sends when it sends
            return SUMMARY if self.kind in PUSH_KINDS else SCHEDULE
        return {SCHEDULE: SUMMARY}.get(current, -1)

    def _has_test(self) -> bool:
        if self.page(TEST) is None:
            return False
        return self.kind != "uk-hh"

    def _id_of(self, page: QWizardPage) -> int:
        return next((i for i in self.pageIds() if self.page(i) is page), -1)

    def validateCurrentPage(self) -> bool:
        """On the kind page, install the chosen kind's pages before moving on."""
        page = self.currentPage()
        if isinstance(page, KindPage) and page.chosen() != self._kind:
            self.set_kind(page.chosen())
        if page is self.source_page and self.editing is None:  # said here, not on the last page
            taken = name_problem(self.source_name(), taken_names(self.context))
            if taken is not None:
                self.source_page.error.setText(taken)
                return False
        return super().validateCurrentPage()

    # --- the result -------------------------------------------------------------------
    def page_values(self, which: str) -> dict[str, Any]:
        """The values of one page: source, test, mapping, schedule or destination."""
        number = {"source": SOURCE, "test": TEST, "mapping": MAPPING, "schedule": SCHEDULE}
        page = self.page(number[which])
        return page.values() if isinstance(page, FormPage) else {}

    def setup(self) -> SourceSetup:
        """The source as configured so far."""
        settings = self.page_values("source")
        if self._has_test() and TEST in self.visitedIds():
            settings.update(self.page_values("test"))
        schedule = self.page_values("schedule")
        return SourceSetup(
            kind=self.kind,
            name=self.source_name(),
            connector=self.kind_info().connector,
            settings=settings,
            mapping_file=self.page_values("mapping").get("mapping_file", ""),
            interval_minutes=int(schedule.get("interval_minutes", 30)),
        )

    def accept(self) -> None:
        """Save the source (secrets to the keyring); stay open and say why on a problem."""
        setup = self.setup()
        summary = self.page(SUMMARY)
        replaces = self.editing.name if self.editing is not None else None
        try:
            save_source(setup, self.context.paths, self.context.secrets, self._secrets(),
                        replaces=replaces)  # fmt: skip
        except (NoKeyringError, SourceError, ValueError, OSError) as exc:
            if isinstance(summary, FormPage):
                summary.error.setText(f"Not saved: {exc}")
            return
        self._keep_device = True
        log.info("source %s (%s) saved", setup.name, setup.kind)
        self.source_saved.emit(setup)
        super().accept()

    def reject(self) -> None:
        """Cancel: forget a device the connection step registered."""
        test = self.page(TEST)
        if isinstance(test, PushTestPage) and not self._keep_device:
            test.forget()
        super().reject()

    def _secrets(self) -> dict[str, str]:
        page: Any = self.source_page
        if self._kind == "verdigris":
            return {"client_secret": page.secret.text()}
        if self.kind == "uk-hh-sftp":
            return {"password": page.password.text()}
        return {}

    # --- editing -------------------------------------------------------------------------
    def _prefill(self, setup: SourceSetup) -> None:
        """Fill every page from the saved source."""
        page: Any = self.source_page
        prefill_page(page, setup.name, setup.settings)
        if setup.kind in PUSH_KINDS:  # the name is in the device's push address
            page.name.setReadOnly(True)
            page.name.setToolTip("The name is part of the device's push address: to rename "
                                 "the device, remove it and add it again.")  # fmt: skip
        if setup.kind == "verdigris":  # its page asks for the secret: show the saved one
            from app.core.pulls.verdigris_auth import client_secret

            page.secret.setText(
                client_secret(self.context.secrets, setup.settings.get("client_id", "")) or ""
            )
        test: Any = self.page(TEST)
        if isinstance(test, SftpTestPage) and setup.settings.get("host_key_fingerprint"):
            test.fingerprint.setText(setup.settings["host_key_fingerprint"])
            test.accept_box.setChecked(True)
        mapping: Any = self.page(MAPPING)
        mapping.file.setText(setup.mapping_file)
        schedule: Any = self.page(SCHEDULE)
        schedule.interval.setValue(setup.interval_minutes)
        self.currentIdChanged.connect(self._on_current_id_changed)

    def _on_current_id_changed(self, number: int) -> None:
        """A new server needs its host key accepted again."""
        test = self.page(TEST)
        if number == TEST and self.editing is not None and isinstance(test, SftpTestPage):
            old, new = self.editing.settings, self.page_values("source")
            if (old.get("host"), old.get("port")) != (new.get("host"), new.get("port")):
                test.fingerprint.clear()  # the pinned key was the old server's
                test.accept_box.setChecked(False)
