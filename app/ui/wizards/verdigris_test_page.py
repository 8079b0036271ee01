"""For Verdigris: prove the client credentials work (one token request)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QPushButton

from app.ui.wizards.base_page import FormPage
from app.ui.workers import Worker, start


class VerdigrisTestPage(FormPage):
    """A button that asks Verdigris for a token with the credentials given."""

    def __init__(self) -> None:
        super().__init__(
            "Test the Verdigris credentials",
            "One token request (Verdigris allows 20 an hour). You may skip this.",
        )
        self.button = QPushButton("&Test credentials")
        self.button.setAccessibleName("Test Verdigris credentials")
        self.button.clicked.connect(self._on_button_clicked)
        self.result = QLabel("Not tested yet.")
        self.result.setAccessibleName("Verdigris test result")
        self.result.setWordWrap(True)
        self.form.addRow("", self.button)
        self.form.addRow("Result:", self.result)
        self.worker: Worker | None = None

    def _on_button_clicked(self) -> None:
        from connectors.verdigris_api import DEFAULT_AUTH_URL, request_token

        page = self.wiz().source_page
        client_id, secret = page.client_id.text().strip(), page.secret.text()  # type: ignore[attr-defined]
        self.result.setText("Asking Verdigris for a token…")
        worker = Worker(lambda _p, _c: request_token(DEFAULT_AUTH_URL, client_id, secret))
        worker.signals.succeeded.connect(
            lambda _t: self.result.setText("The credentials work: Verdigris issued a token.")
        )
        worker.signals.failed.connect(lambda m: self.result.setText(f"Refused: {m}"))
        self.worker = start(worker)
