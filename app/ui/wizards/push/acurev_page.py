"""AcuRev 2100: the meter's data logger posts CSV or JSON logs over HTTP."""

from __future__ import annotations

from typing import Any

from app.core.sources import validation as v
from app.core.sources.setup import check_device
from app.ui.wizards.base_page import FormPage

CONNECTOR = "acurev2100"
TIMESTAMPS = ["UTC seconds", "ISO-8601", "Local time string"]


class AcuRevPage(FormPage):
    """Source settings of an AcuRev 2100 (post channel + data logger)."""

    def __init__(self) -> None:
        super().__init__(
            "AcuRev 2100 meter",
            "Set one of the meter's post channels to HTTP and point a data logger at it.",
        )
        self.name = self.line("Device na&me:", "AcuRev-2100", "e.g. plant-room-panel")
        self.serial = self.line("Meter &serial / Meter ID:", "", "as set in the post channel")
        self.format = self.combo("Log file &format:", ["JSON", "CSV"])
        self.stamp = self.combo("T&imestamp format:", TIMESTAMPS)
        self.tz = self.combo("Time &zone (local time strings):", v.common_timezones()[:9])
        self.circuits = self.spin("&Circuits to import (1–18):", 1, 18, 18)
        self.demand = self.check("Also import &demand (kW) from DMD_* keys", True)

    def problem(self) -> str | None:
        return v.first_error(
            check_device(self.name.text().strip(), CONNECTOR, self.tz.currentText()),
            v.check_required(self.serial.text(), "meter serial"),
        )

    def values(self) -> dict[str, Any]:
        return {
            "serial": self.serial.text().strip(),
            "format": self.format.currentText().lower(),
            "timestamp": self.stamp.currentText(),
            "tz": self.tz.currentText(),
            "circuits": self.circuits.value(),
            "demand": self.demand.isChecked(),
        }
