"""Verdigris: client credentials and the circuits to pull."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QLineEdit, QToolButton

from app.core.sources import validation as v
from app.ui.wizards.base_page import FormPage
from connectors.verdigris.api import DEFAULT_API_URL, DEFAULT_AUTH_URL

INTERVALS = ["15m", "1h", "1m", "1d"]


class VerdigrisPage(FormPage):
    """Source settings of a Verdigris pull."""

    def __init__(self) -> None:
        super().__init__(
            "Verdigris",
            "Create API client credentials in Verdigris; the secret is kept in the OS keyring.",
        )
        self.name = self.line("Source na&me:", "Verdigris", "e.g. Campus circuits")
        self.client_id = self.line("&Client id:", "")
        self.secret = self.line("Client &secret:", "")
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.ids = self.line(
            "C&ircuit ids:",
            "",
            "optional: list and check them on the next page",
            help="Comma-separated ids (e.g. 1201,1202), or pick them from Verdigris' list next.",
        )
        self.what = self.combo("M&easure:", ["energy (kWh)", "power (kW)"])
        self.interval = self.combo("Interva&l:", INTERVALS)
        self.more = QToolButton()
        self.more.setText("Advanced ▸")
        self.more.setAccessibleName("Show advanced Verdigris settings")
        self.more.setCheckable(True)
        self.form.addRow("", self.more)
        self.api_url = self.line("API &address:", DEFAULT_API_URL,
                                 help="Only for a test or regional Verdigris server")  # fmt: skip
        self.auth_url = self.line("T&oken address:", DEFAULT_AUTH_URL,
                                  help="Where credentials become a token")  # fmt: skip
        self.more.toggled.connect(self._show_advanced)
        self._show_advanced(False)

    def _show_advanced(self, shown: bool) -> None:
        self.more.setText("Advanced ▾" if shown else "Advanced ▸")
        for edit in (self.api_url, self.auth_url):
            edit.setVisible(shown)
            self.form.labelForField(edit).setVisible(shown)

    def circuit_ids(self) -> list[str]:
        """The ids typed, cleaned."""
        return [i.strip() for i in self.ids.text().split(",") if i.strip()]

    def problem(self) -> str | None:
        return v.first_error(
            v.check_name(self.name.text()),
            v.check_required(self.client_id.text(), "client id"),
            v.check_required(self.secret.text(), "client secret"),
            v.check_url(self.api_url.text().strip(), https_only=False),
            v.check_url(self.auth_url.text().strip(), https_only=False),
        )

    def values(self) -> dict[str, Any]:
        return {
            "client_id": self.client_id.text().strip(),
            "ids": self.circuit_ids(),
            "measure": self.what.currentText().split()[0],
            "interval": self.interval.currentText(),
        } | {  # only when changed under Advanced (the defaults are Verdigris' own)
            key: edit.text().strip()
            for key, edit, default in (("api_url", self.api_url, DEFAULT_API_URL),
                                       ("auth_url", self.auth_url, DEFAULT_AUTH_URL))
            if edit.text().strip() and edit.text().strip() != default
        }  # fmt: skip
