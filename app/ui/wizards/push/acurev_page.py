"""AcuRev 2100: the meter's data logger posts CSV or JSON logs over HTTP."""

from __future__ import annotations

from typing import Any

from app.ui.wizards.push.accuenergy_page import AccuenergyPage

CONNECTOR = "acurev2100"
TIMESTAMPS = ["UTC seconds", "ISO-8601", "Local time string"]


class AcuRevPage(AccuenergyPage):
    """Source settings of an AcuRev 2100 (post channel + data logger)."""

    CONNECTOR = CONNECTOR
    SERIAL_WORDS = "meter serial"

    def __init__(self) -> None:
        super().__init__(
            "AcuRev 2100 meter",
            "Set one of the meter's post channels to HTTP and point a data logger at it.",
            "AcuRev-2100", "Meter &serial / Meter ID:", "as set in the post channel",
            TIMESTAMPS, "Time &zone (local time strings):",
        )  # fmt: skip
        self.circuits = self.spin("&Circuits to import (1–18):", 1, 18, 18)
        self.demand = self.check("Also import &demand (kW) from DMD_* keys", True)

    def values(self) -> dict[str, Any]:
        return {**super().values(), "circuits": self.circuits.value(),
                "demand": self.demand.isChecked()}  # fmt: skip
