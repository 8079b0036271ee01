"""Shared page: how often to pull or look for files (pushed sources: on arrival)."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QLabel

from app.core.sources import validation as v
from app.ui.wizards.base_page import FormPage


class SchedulePage(FormPage):
    """An interval in minutes; explains what it means for this kind."""

    def __init__(self) -> None:
        super().__init__("Schedule", "When meterbridge fetches or sends this source's readings.")
        self.explain = QLabel()
        self.explain.setWordWrap(True)
        self.extra.addWidget(self.explain)
        self.interval = self.spin("&Every (minutes):", 1, 7 * 24 * 60, 30)
        self.catch_up = self.check("&Catch up missed runs after the computer was off", True)

    def initializePage(self) -> None:
        """Say what the interval does for the kind chosen."""
        wizard = self.wiz()
        if wizard.kind_info().push:
            text = (
                "The device pushes its readings; meterbridge journals them on arrival and "
                "delivers them to EnergyCAP at this interval."
            )
        elif wizard.kind in ("verdigris", "uk-hh-sftp"):
            text = "meterbridge pulls new readings at this interval."
        else:
            text = "meterbridge looks for new files in the folder at this interval."
        self.explain.setText(text)

    def problem(self) -> str | None:
        return v.check_interval_minutes(self.interval.value())

    def values(self) -> dict[str, Any]:
        return {"interval_minutes": self.interval.value(), "catch_up": self.catch_up.isChecked()}
