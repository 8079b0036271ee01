"""Generic readings: any CSV with an id, a time and a value per row."""

from __future__ import annotations

from typing import Any

from app.core.sources import validation as v
from app.ui.wizards.base_page import FormPage


class GenericPage(FormPage):
    """Which columns hold what, and how times are written."""

    def __init__(self) -> None:
        super().__init__(
            "Generic CSV readings",
            "Name the columns as they appear in the header row.",
        )
        self.name = self.line("Source na&me:", "Readings CSV", "e.g. BMS export")
        self.folder = self.line("&Folder the files arrive in:", "", "a folder on this computer")
        self.id_column = self.line("&Id column:", "meter")
        self.time_column = self.line("&Time column:", "time")
        self.value_column = self.line("&Value column:", "value")
        self.quantity = self.combo("&Quantity:", ["kWh", "kW", "kVArh", "kVAr"])
        self.time_format = self.line("Time format (&optional):", "", "e.g. %d/%m/%Y %H:%M")
        self.tz = self.combo("Time &zone of naive times:", v.common_timezones()[:9])
        self.delimiter = self.combo("&Delimiter:", [",", ";", "tab", "|"])

    def problem(self) -> str | None:
        return v.first_error(
            v.check_name(self.name.text()),
            v.check_existing_folder(self.folder.text()),
            v.check_required(self.id_column.text(), "id column"),
            v.check_required(self.time_column.text(), "time column"),
            v.check_required(self.value_column.text(), "value column"),
        )

    def values(self) -> dict[str, Any]:
        delimiter = self.delimiter.currentText()
        return {
            "folder": self.folder.text().strip(),
            "id_column": self.id_column.text().strip(),
            "time_column": self.time_column.text().strip(),
            "value_column": self.value_column.text().strip(),
            "quantity": self.quantity.currentText(),
            "time_format": self.time_format.text().strip(),
            "tz": self.tz.currentText(),
            "delimiter": "\t" if delimiter == "tab" else delimiter,
        }
