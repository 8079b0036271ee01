"""For SFTP: fetch the server's host key and have the user accept its fingerprint."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QLineEdit

from app.core.pulls.sftp.host_keys import HostKey, fetch_host_key
from app.core.sources import validation as v
from app.ui.plain_errors import DetailsLine
from app.ui.wizards.base_page import FormPage, button
from app.ui.wizards.pages.sftp_listing import list_what_would_be_taken
from app.ui.workers import Worker, start


class SftpTestPage(FormPage):
    """Connect once, show the fingerprint, pin it when the user accepts."""

    def __init__(self) -> None:
        super().__init__(
            "Check the SFTP server",
            "Compare the fingerprint with the one your data collector gives you. "
            "meterbridge refuses the server if its key ever changes.",
        )
        self.fetch = button(
            "&Connect and show the host key",
            "Connect and show the host key",
            self._on_fetch_clicked,
        )
        self.form.addRow("", self.fetch)
        self.fingerprint = QLineEdit()
        self.fingerprint.setPlaceholderText("SHA256:…")
        self.add("Host key &fingerprint:", self.fingerprint)
        self.accept_box = self.check("I have checked this fingerprint: &trust this server")
        self.login = button(
            "Log &in and list the files", "Log in and list the files", self.list_files
        )
        self.form.addRow("", self.login)
        self.listing = DetailsLine("Files the source would take")  # the detail behind Details…
        self.form.addRow("", self.listing)
        self.key: HostKey | None = None
        self.worker: Worker | None = None

    def _on_fetch_clicked(self) -> None:
        source = self.wiz().page_values("source")
        host, port = source.get("host", ""), int(source.get("port", 22))
        self.error.setText(f"Connecting to {host}:{port}…")
        worker = Worker(lambda _p, _c: fetch_host_key(host, port))
        worker.signals.succeeded.connect(self._on_key_fetched)
        worker.signals.failed.connect(self._on_fetch_failed)
        self.worker = start(worker)

    def _on_fetch_failed(self, error: BaseException) -> None:
        self.error.setText("")
        self.listing.error(error, "Not connected")

    def list_files(self) -> Worker:
        """Log in as the source will (password or key) and list what it would take."""
        source = self.wiz().source_page
        values = self.wiz().page_values("source")
        args = (values.get("host", ""), int(values.get("port", 22)), values.get("user", ""),
                source.password.text(), values.get("key_file", ""),
                self.fingerprint.text().strip(), list(values.get("folders", [])))  # fmt: skip
        self.listing.setText("Logging in…")
        worker = Worker(lambda _p, _c: list_what_would_be_taken(*args))
        worker.signals.succeeded.connect(self.listing.setText)
        worker.signals.failed.connect(lambda error: self.listing.error(error, "Not logged in"))
        self.worker = start(worker)
        return worker

    def _on_key_fetched(self, key: HostKey) -> None:
        self.key = key
        self.fingerprint.setText(key.fingerprint)
        self.error.setText(f"The server offered a {key.key_type} key.")

    def problem(self) -> str | None:
        return v.first_error(
            v.check_fingerprint(self.fingerprint.text()),
            None if self.accept_box.isChecked() else "Tick the box once you checked the key.",
        )

    def values(self) -> dict[str, Any]:
        return {"host_key_fingerprint": self.fingerprint.text().strip()}
