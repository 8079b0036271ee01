"""EpiSensor gateway: the gateway pushes; name it and say which zone its times are in."""

from __future__ import annotations

from typing import Any

from app.core.sources import validation as v
from app.core.sources.setup import check_device
from app.ui.wizards.base_page import FormPage

CONNECTOR = "episensor"


class EpiSensorPage(FormPage):
    """Source settings of an EpiSensor gateway (RKDAP JSON via HTTP)."""

    def __init__(self) -> None:
        super().__init__(
            "EpiSensor gateway",
            "In the gateway's web UI, add an export of type “RKDAP via HTTP(S)”. "
            "meterbridge gives you its address and token on the next page.",
        )
        self.name = self.line("Device na&me:", "EpiSensor", "e.g. head-office (it goes in the URL)")
        self.gateway = self.line(
            "&Gateway serial (optional):", "", "e.g. 000D6F0001A303D4",
            help="Only for your reference; readings are keyed by their export ID.",
        )  # fmt: skip
        self.tz = self.combo("&Time zone of naive times:", v.common_timezones()[:9])
        self.registers = self.check("Sensor 333/300/301 values are &cumulative registers", True)

    def problem(self) -> str | None:
        return check_device(self.name.text().strip(), CONNECTOR, self.tz.currentText())

    def values(self) -> dict[str, Any]:
        return {
            "gateway": self.gateway.text().strip(),
            "tz": self.tz.currentText(),
            "cumulative": self.registers.isChecked(),
        }
