"""AcuLink 810: a gateway posting the logs of up to 32 meters over HTTP."""

from __future__ import annotations

from typing import Any

from app.ui.wizards.push.accuenergy_page import AccuenergyPage

CONNECTOR = "aculink810"


class AcuLinkPage(AccuenergyPage):
    """Source settings of an AcuLink 810 gateway."""

    CONNECTOR = CONNECTOR
    SERIAL_WORDS = "gateway serial"

    def __init__(self) -> None:
        super().__init__(
            "AcuLink 810 gateway",
            "Readings are keyed by gateway serial, device serial and parameter.",
            "AcuLink-810", "&Gateway serial:", "starts with S8P…",
            ["UTC seconds", "ISO-8601", "Local time"], "Time &zone (local times):",
        )  # fmt: skip
        self.interval = self.spin("&Log interval (minutes):", 1, 1440, 15)

    def values(self) -> dict[str, Any]:
        return {**super().values(), "interval_s": self.interval.value() * 60}
