"""What the AcuRev 2100 and AcuLink 810 pages share: name, serial, log format, time stamps."""

from __future__ import annotations

from typing import Any

from app.core.sources import validation as v
from app.core.sources.setup import check_device
from app.ui.wizards.base_page import FormPage


class AccuenergyPage(FormPage):
    """An Accuenergy logger posting CSV or JSON logs; subclasses add their own fields."""

    CONNECTOR = ""
    SERIAL_WORDS = "serial"

    def __init__(self, title: str, subtitle: str, name: str, serial_label: str,
                 serial_hint: str, stamps: list[str], tz_label: str) -> None:  # fmt: skip
        super().__init__(title, subtitle)
        self.name = self.line("Device na&me:", name, "e.g. site-b-gateway (it goes in the URL)")
        self.serial = self.line(serial_label, "", serial_hint)
        self.format = self.combo("Log file &format:", ["JSON", "CSV"])
        self.stamp = self.combo("T&imestamp format:", stamps)
        self.tz = self.combo(tz_label, v.common_timezones()[:9])

    def problem(self) -> str | None:
        return v.first_error(
            check_device(self.name.text().strip(), self.CONNECTOR, self.tz.currentText()),
            v.check_required(self.serial.text(), self.SERIAL_WORDS),
        )

    def values(self) -> dict[str, Any]:
        return {
            "serial": self.serial.text().strip(),
            "format": self.format.currentText().lower(),
            "timestamp": self.stamp.currentText(),
            "tz": self.tz.currentText(),
        }
