"""AcuLink 810: a gateway posting the logs of up to 32 meters over HTTP."""

from __future__ import annotations

from typing import Any

from app.core.sources import validation as v
from app.core.sources.setup import check_device
from app.ui.wizards.base_page import FormPage

CONNECTOR = "aculink810"


class AcuLinkPage(FormPage):
    """Source settings of an AcuLink 810 gateway."""

    def __init__(self) -> None:
        super().__init__(
            "AcuLink 810 gateway",
            "Readings are keyed by gateway serial, device serial and parameter.",
        )
        self.name = self.line("Device na&me:", "AcuLink-810", "e.g. site-b-gateway")
        self.serial = self.line("&Gateway serial:", "", "starts with S8P…")
        self.format = self.combo("Log file &format:", ["JSON", "CSV"])
        self.stamp = self.combo("T&imestamp format:", ["UTC seconds", "ISO-8601", "Local time"])
        self.tz = self.combo("Time &zone (local times):", v.common_timezones()[:9])
        self.interval = self.spin("&Log interval (minutes):", 1, 1440, 15)

    def problem(self) -> str | None:
        return v.first_error(
            check_device(self.name.text().strip(), CONNECTOR, self.tz.currentText()),
            v.check_required(self.serial.text(), "gateway serial"),
        )

    def values(self) -> dict[str, Any]:
        return {
            "serial": self.serial.text().strip(),
            "format": self.format.currentText().lower(),
            "timestamp": self.stamp.currentText(),
            "tz": self.tz.currentText(),
            "interval_s": self.interval.value() * 60,
        }
