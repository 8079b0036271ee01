"""The source page of an Accuenergy logger (AcuRev 2100 meter, AcuLink 810 gateway).

Both post CSV or JSON logs over HTTP and take the same settings (name, serial,
log format, time stamps, zone); an `AccuenergyDevice` holds the words and
choices that differ, and the one or two fields a device adds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.core.sources import validation as v
from app.core.sources.setup import check_device
from app.ui.wizards.base_page import FormPage


@dataclass(frozen=True)
class AccuenergyDevice:
    """What one Accuenergy device's page says and asks beyond the shared fields."""

    connector: str
    title: str
    subtitle: str
    default_name: str
    serial: tuple[str, str, str]  # the field's label, its placeholder, how a problem names it
    stamps: tuple[str, ...]
    tz_label: str
    asks_interval: bool = False  # the log interval (AcuLink: not in its logs)
    asks_circuits: bool = False  # circuits to import and demand keys (AcuRev)


ACUREV_2100 = AccuenergyDevice(
    "acurev2100", "AcuRev 2100 meter",
    "Set one of the meter's post channels to HTTP and point a data logger at it.",
    "AcuRev-2100", ("Meter &serial / Meter ID:", "as set in the post channel", "meter serial"),
    ("UTC seconds", "ISO-8601", "Local time string"), "Time &zone (local time strings):",
    asks_circuits=True,
)  # fmt: skip
ACULINK_810 = AccuenergyDevice(
    "aculink810", "AcuLink 810 gateway",
    "Readings are keyed by gateway serial, device serial and parameter.",
    "AcuLink-810", ("&Gateway serial:", "starts with S8P…", "gateway serial"),
    ("UTC seconds", "ISO-8601", "Local time"), "Time &zone (local times):", asks_interval=True,
)  # fmt: skip


class AccuenergyPage(FormPage):
    """Source settings of an Accuenergy logger posting CSV or JSON logs."""

    def __init__(self, device: AccuenergyDevice) -> None:
        super().__init__(device.title, device.subtitle)
        self.device = device
        serial_label, serial_hint, _ = device.serial
        self.name = self.line(
            "Device na&me:", device.default_name, "e.g. site-b-gateway (it goes in the URL)"
        )
        self.serial = self.line(serial_label, "", serial_hint)
        self.format = self.combo("Log file &format:", ["JSON", "CSV"])
        self.stamp = self.combo("T&imestamp format:", list(device.stamps))
        self.tz = self.combo(device.tz_label, v.common_timezones()[:9])
        if device.asks_interval:
            self.interval = self.spin("&Log interval (minutes):", 1, 1440, 15)
        if device.asks_circuits:
            self.circuits = self.spin("&Circuits to import (1–18):", 1, 18, 18)
            self.demand = self.check("Also import &demand (kW) from DMD_* keys", True)

    def problem(self) -> str | None:
        return v.first_error(
            check_device(self.name.text().strip(), self.device.connector, self.tz.currentText()),
            v.check_required(self.serial.text(), self.device.serial[2]),
        )

    def values(self) -> dict[str, Any]:
        values: dict[str, Any] = {
            "serial": self.serial.text().strip(),
            "format": self.format.currentText().lower(),
            "timestamp": self.stamp.currentText(),
            "tz": self.tz.currentText(),
        }
        if self.device.asks_interval:
            values["interval_s"] = self.interval.value() * 60
        if self.device.asks_circuits:
            values["circuits"] = self.circuits.value()
            values["demand"] = self.demand.isChecked()
        return values
