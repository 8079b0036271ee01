"""UK half-hourly files: from a local folder, or an SFTP folder the collector fills."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QFileDialog, QLineEdit

from app.core.pulls.folder import check_archive
from app.core.sources import validation as v
from app.ui.wizards.base_page import FormPage
from app.ui.wizards.prefill import set_field
from connectors.tabular.layout import builtin_layouts

MODES = ["Files in a folder on this computer", "An SFTP folder (data collector)"]
AUTO_LAYOUT = "Recognise from the header (any known layout)"
BASES = ["Europe/London local time", "UTC throughout"]


class UkHhPage(FormPage):
    """Where the 48-column files arrive and how their times are meant."""

    def __init__(self) -> None:
        super().__init__(
            "UK half-hourly files",
            "meterbridge recognises the layout (IMServ, Stark, EDF, Sheffield …) from the header.",
        )
        self.name = self.line("Source na&me:", "UK half-hourly", "e.g. IMServ feed")
        self.mode = self.combo("&Files come from:", MODES)
        self.folder = self.path_field(
            "&Local folder:", "", "Browse for the local folder", self._on_browse_clicked
        )
        self.host = self.line("SFTP &host:", "", "sftp.collector.example")
        self.port = self.spin("SFTP &port:", 1, 65535, 22)
        self.user = self.line("&User name:", "")
        self.key_file = self.path_field(
            "Private &key file:", "optional: log in with a private key instead",
            "Browse for the key file", self._on_browse_key,
        )  # fmt: skip
        self.password = self.line("Pass&word or key passphrase (kept in the OS keyring):", "")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.remote = self.line("&Remote folders:", "/outgoing", "comma-separated, e.g. /hh,/hh2")
        self.basis = self.combo("Time bas&is:", BASES)
        layouts = [AUTO_LAYOUT, *(x.name for x in builtin_layouts())]
        self.layout_box = self.combo(
            "La&yout:", layouts, help="Fix one layout if the header alone is ambiguous"
        )
        self.archive = self.line(
            "Move imported files to s&ubfolder:", "", "optional, e.g. imported (empty: leave them)",
            help="Imported files are moved there; nothing is ever deleted",
        )  # fmt: skip
        self.mode.currentIndexChanged.connect(self._on_mode_changed)
        self._on_mode_changed(0)

    def _on_browse_key(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(self, "Private key file", "", "All files (*)")
        if chosen:
            self.key_file.setText(chosen)

    def _on_browse_clicked(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Folder the files arrive in")
        if chosen:
            self.folder.setText(chosen)

    @property
    def sftp(self) -> bool:
        """Whether files come from SFTP."""
        return self.mode.currentIndex() == 1

    def _on_mode_changed(self, _index: int) -> None:
        key_holder = self.key_file.parentWidget()
        for widget in (self.host, self.port, self.user, key_holder, self.password, self.remote):
            widget.setVisible(self.sftp)
            self.form.labelForField(widget).setVisible(self.sftp)
        holder = self.folder.parentWidget()
        holder.setVisible(not self.sftp)
        self.form.labelForField(holder).setVisible(not self.sftp)

    def load(self, settings: dict[str, Any]) -> None:
        """Show a saved source's settings (Edit); a saved password is kept, not shown."""
        self.mode.setCurrentIndex(1 if settings.get("host") else 0)
        for key in ("folder", "host", "port", "user", "archive", "key_file"):
            if key in settings:
                set_field(getattr(self, key), settings[key])
        self.remote.setText(", ".join(settings.get("folders", [])) or self.remote.text())
        self.basis.setCurrentIndex(1 if settings.get("tz") == "UTC" else 0)
        set_field(self.layout_box, settings.get("layout") or AUTO_LAYOUT)
        self.password.setPlaceholderText("leave empty to keep the saved password")

    def problem(self) -> str | None:
        bad_archive = check_archive(self.archive.text().strip())
        if not self.sftp:
            return v.first_error(
                v.check_name(self.name.text()), v.check_existing_folder(self.folder.text()),
                bad_archive,
            )  # fmt: skip
        folders = [f.strip() for f in self.remote.text().split(",") if f.strip()]
        return v.first_error(
            v.check_name(self.name.text()),
            v.check_host(self.host.text()),
            v.check_required(self.user.text(), "user name"),
            v.check_existing_file(self.key_file.text()) if self.key_file.text().strip() else None,
            *(v.check_remote_path(f) for f in folders or [""]),
        )

    def values(self) -> dict[str, Any]:
        tz = "Europe/London" if self.basis.currentIndex() == 0 else "UTC"
        shared: dict[str, Any] = {"tz": tz}
        if self.layout_box.currentIndex() > 0:
            shared["layout"] = self.layout_box.currentText()
        if self.archive.text().strip():
            shared["archive"] = self.archive.text().strip()
        if not self.sftp:
            return {"folder": self.folder.text().strip(), **shared}
        folders = [f.strip() for f in self.remote.text().split(",") if f.strip()]
        return {
            "host": self.host.text().strip(),
            "port": self.port.value(),
            "user": self.user.text().strip(),
            "folders": folders,
            **({"key_file": self.key_file.text().strip()} if self.key_file.text().strip() else {}),
            **shared,
        }
