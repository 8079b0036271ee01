"""For Verdigris: prove the credentials (one token request) and pick the circuits to pull."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QHBoxLayout, QProgressBar

from app.ui.plain_errors import DetailsLine
from app.ui.wizards.base_page import FormPage, button
from app.ui.wizards.verdigris.channels_page import ChannelPicker
from app.ui.workers import Worker, start
from connectors.verdigris.api import DEFAULT_API_URL, DEFAULT_AUTH_URL
from connectors.verdigris.listing import Node


class VerdigrisTestPage(FormPage):
    """Test the credentials; on success the account's buildings and circuits are listed."""

    def __init__(self, auth_url: str = DEFAULT_AUTH_URL, api_url: str = DEFAULT_API_URL) -> None:
        super().__init__(
            "Test the credentials and choose the circuits",
            "One token request (Verdigris allows 20 an hour), then the account's buildings "
            "and circuits are listed: check the circuits to pull.",
        )
        self.auth_url, self.api_url = auth_url, api_url
        self.button = button(
            "&Test credentials and list circuits",
            "Test Verdigris credentials and list circuits",
            self._on_button_clicked,
        )
        self.retry = button("&Retry", "Retry the Verdigris test", self._on_button_clicked)
        self.retry.hide()
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setAccessibleName("Asking Verdigris")
        self.busy.setMaximumWidth(120)
        self.busy.hide()
        row = QHBoxLayout()
        for widget in (self.button, self.retry, self.busy):
            row.addWidget(widget)
        row.addStretch(1)
        self.form.addRow("", row)
        self.result = DetailsLine("Verdigris test result")  # technical detail behind Details…
        self.result.setText("Not tested yet.")
        self.form.addRow("Result:", self.result)
        self.picker = ChannelPicker()
        self.picker.setEnabled(False)
        self.extra.addWidget(self.picker, 1)
        outer = self.layout()  # the form page's: form, extra, stretch, error
        outer.setStretch(1, 1)  # the tree takes the room the stretch would
        outer.setStretch(2, 0)
        self.buildings: list[Node] | None = None
        self.worker: Worker | None = None
        self.asking = False

    def _source(self) -> Any:
        return self.wiz().source_page

    def initializePage(self) -> None:
        """Show the circuit ids typed on the previous page as the choice so far."""
        if self.buildings is None:
            typed = self._source().circuit_ids()
            self.picker.summary.setText(
                f"Typed on the previous page: {', '.join(typed)}" if typed else ""
            )

    def _on_button_clicked(self) -> None:
        from app.core.pulls.verdigris_pull import list_channels

        if self.asking:
            return
        page = self._source()
        client_id, secret = page.client_id.text().strip(), page.secret.text()
        if not secret and client_id:  # editing a source: the saved secret, from the keyring
            from app.core.pulls.verdigris_auth import client_secret

            secret = client_secret(self.wiz().context.secrets, client_id) or ""
        chosen = page.values()  # Advanced on the previous page may point elsewhere
        auth_url = chosen.get("auth_url", self.auth_url)
        api_url = chosen.get("api_url", self.api_url)
        self.result.setText("Asking Verdigris for a token and the account's buildings…")
        self._busy(True)
        worker = Worker(
            lambda _p, _c: list_channels(client_id, secret, auth_url=auth_url, api_url=api_url)
        )
        worker.signals.succeeded.connect(self._on_listed)
        worker.signals.failed.connect(self._on_failed)
        worker.signals.finished.connect(lambda: self._busy(False))
        self.worker = start(worker)

    def _busy(self, busy: bool) -> None:
        # The buttons stay enabled (a disabled focused button would hand the focus, and
        # with it Enter, to Back); a second press while busy does nothing.
        self.busy.setVisible(busy)
        self.asking = busy

    def _on_listed(self, buildings: list[Node]) -> None:
        self.buildings = buildings
        chosen = set(self.picker.checked_circuits()) or set(self._source().circuit_ids())
        self.picker.set_buildings(buildings, chosen)
        self.picker.setEnabled(True)
        self.retry.hide()
        circuits = sum(1 for b in buildings for _d, n in b.walk() if n.kind == "circuit")
        self.result.setText(
            f"The credentials work: {len(buildings)} building(s) with {circuits} circuit(s). "
            "Check the circuits to pull."
        )
        self.error.setText("")
        self.picker.tree.setFocus()

    def _on_failed(self, error: BaseException) -> None:
        self.result.error(error, "Not listed")
        self.retry.show()
        self.retry.setFocus()

    def chosen(self) -> list[str]:
        """The circuits to pull: checked in the tree, else those typed before."""
        if self.buildings is not None:
            return self.picker.checked_circuits()
        return list(self._source().circuit_ids())

    def problem(self) -> str | None:
        if self.chosen():
            return None
        if self.buildings is None:
            return "Test the credentials to list the circuits, or type circuit ids (Back)."
        return "Check at least one circuit to pull."

    def values(self) -> dict[str, Any]:
        if self.buildings is None:
            return {}
        values: dict[str, Any] = {"ids": self.chosen()}
        zone = self.picker.zone_of_checked()
        if zone:
            values["timezone"] = zone
        return values
