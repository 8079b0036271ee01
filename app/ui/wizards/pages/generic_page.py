"""Generic readings: any CSV with an id, a time and a value per row, set up from a sample file.

The user picks a sample; its first rows are shown, the columns are offered in lists (a
likely one chosen), the date format and decimal mark are chosen from examples, and
“Test with this file” reads it with those settings before anything is saved.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QTableWidget,
    QTableWidgetItem,
)

from app.core.sources import validation as v
from app.ui.plain_errors import DetailsLine
from app.ui.tables import name_corner_button
from app.ui.wizards.base_page import FormPage, button
from app.ui.wizards.pages.generic_sample import (
    DATE_FORMATS,
    Sample,
    guess_column,
    read_sample,
    test_read,
)
from app.ui.wizards.prefill import set_field
from app.ui.workers import Worker, start

DELIMITERS = {"comma": ",", "semicolon": ";", "tab": "\t", "bar": "|"}
DECIMALS = {"point (1.5)": ".", "comma (1,5)": ","}


class GenericPage(FormPage):
    """Which columns hold what, and how times and numbers are written — seen in a sample."""

    def __init__(self) -> None:
        super().__init__("Generic CSV readings", "Start from one of the files: its columns are "
                         "listed to choose from.")  # fmt: skip
        self.name = self.line("Source na&me:", "Readings CSV", "e.g. BMS export")
        self.sample_path = self.path_field(
            "&Sample file:", "one of the files, to see its columns",
            "Browse for a sample file", self._on_browse_sample,
        )  # fmt: skip
        self.sample_path.editingFinished.connect(self.load_sample)
        self.rows = QTableWidget(0, 0)
        self.rows.setAccessibleName("First rows of the sample")
        self.rows.setMaximumHeight(130)
        name_corner_button(self.rows)
        self.form.addRow("", self.rows)
        self.folder = self.path_field(
            "&Folder the files arrive in:", "a folder on this computer",
            "Browse for the folder", self._on_browse,
        )  # fmt: skip
        self.id_column = self._column("&Id column:", "meter")
        self.time_column = self._column("&Time column:", "time")
        self.value_column = self._column("&Value column:", "value")
        self.quantity = self.combo("&Quantity:", ["kWh", "kW", "kVArh", "kVAr"])
        self.time_format = self.combo("Date f&ormat:", [label for label, _ in DATE_FORMATS])
        self.time_format.setEditable(True)  # another strftime pattern may be typed
        self.decimal = self.combo("Decimal mar&k:", list(DECIMALS))
        self.tz = self.combo("Time &zone of naive times:", v.common_timezones()[:9])
        self.delimiter = self.combo("&Delimiter:", list(DELIMITERS))
        self.test_button = button("T&est with this file", "Test with this file", self.test_sample)
        self.result = DetailsLine("Test result")  # technical detail behind Details…
        self.form.addRow(self.test_button, self.result)
        self.worker: Worker | None = None

    def _column(self, label: str, default: str) -> QComboBox:
        box = self.combo(label, [default])
        box.setEditable(True)  # a name or a 1-based number when the sample has none
        return box

    def _on_browse_sample(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Sample file", "", "CSV (*.csv *.txt);;All (*)")
        if name:
            self.sample_path.setText(name)
            self.load_sample()

    def _on_browse(self) -> None:
        name = QFileDialog.getExistingDirectory(self, "Folder the files arrive in")
        if name:
            self.folder.setText(name)

    # --- the sample ------------------------------------------------------------------
    def load_sample(self) -> Sample | None:
        """Read the sample file: show its first rows and offer its columns."""
        text = self.sample_path.text().strip()
        if not text:
            return None
        try:
            sample = read_sample(Path(text))
        except ValueError as exc:
            self.error.setText(str(exc))
            return None
        self.error.setText("")
        self._show_rows(sample)
        taken: set[str] = set()
        for box, role in ((self.id_column, "id"), (self.time_column, "time"),
                          (self.value_column, "value")):  # fmt: skip
            box.clear()
            box.addItems(sample.header)
            box.setCurrentText(guess_column(role, sample.header, taken))
            taken.add(box.currentText())
        separator = next((k for k, d in DELIMITERS.items() if d == sample.delimiter), "comma")
        self.delimiter.setCurrentText(separator)
        self.decimal.setCurrentIndex(1 if sample.decimal_comma else 0)
        if not self.folder.text().strip():
            self.folder.setText(str(Path(text).parent))
        return sample

    def _show_rows(self, sample: Sample) -> None:
        self.rows.clear()
        self.rows.setColumnCount(len(sample.header))
        self.rows.setRowCount(len(sample.rows))
        self.rows.setHorizontalHeaderLabels(sample.header)
        for r, row in enumerate(sample.rows):
            for c, cell in enumerate(row[: len(sample.header)]):
                self.rows.setItem(r, c, QTableWidgetItem(cell))
        self.rows.resizeColumnsToContents()

    def test_sample(self) -> Worker | None:
        """Read the sample with the settings chosen (on a worker) and say what came out."""
        path = Path(self.sample_path.text().strip())
        if not path.is_file():
            self.result.setText("Choose a sample file first.")
            return None
        options = self.values()
        self.result.setText("Reading…")
        worker = Worker(lambda _p, _c: test_read(path, options))
        worker.signals.succeeded.connect(self.result.setText)
        worker.signals.failed.connect(lambda error: self.result.error(error, "Not read"))
        self.worker = start(worker)
        return worker

    def load(self, settings: dict[str, Any]) -> None:
        """Show a saved source's settings (Edit)."""
        self.folder.setText(str(settings.get("folder", "")))
        for box, key in ((self.id_column, "id_column"), (self.time_column, "time_column"),
                         (self.value_column, "value_column"), (self.quantity, "quantity"),
                         (self.tz, "tz")):  # fmt: skip
            if settings.get(key):
                set_field(box, str(settings[key]))
        pattern = str(settings.get("time_format", ""))
        label = next((lab for lab, pat in DATE_FORMATS if pat == pattern), pattern)
        self.time_format.setCurrentText(label)
        decimal = next((k for k, d in DECIMALS.items() if d == settings.get("decimal")), None)
        self.decimal.setCurrentText(decimal or "point (1.5)")
        separator = next((k for k, d in DELIMITERS.items() if d == settings.get("delimiter")), None)
        self.delimiter.setCurrentText(separator or "comma")

    # --- the result ----------------------------------------------------------------------
    def problem(self) -> str | None:
        return v.first_error(
            v.check_name(self.name.text()),
            v.check_existing_folder(self.folder.text()),
            v.check_required(self.id_column.currentText(), "id column"),
            v.check_required(self.time_column.currentText(), "time column"),
            v.check_required(self.value_column.currentText(), "value column"),
        )

    def values(self) -> dict[str, Any]:
        chosen = self.time_format.currentText()
        time_format = dict(DATE_FORMATS).get(chosen, chosen)  # an example, or a typed pattern
        decimal = DECIMALS.get(self.decimal.currentText(), ".")
        return {
            "folder": self.folder.text().strip(),
            "id_column": self.id_column.currentText().strip(),
            "time_column": self.time_column.currentText().strip(),
            "value_column": self.value_column.currentText().strip(),
            "quantity": self.quantity.currentText(),
            "time_format": time_format.strip(),
            "tz": self.tz.currentText(),
            "delimiter": DELIMITERS.get(self.delimiter.currentText(), ","),
        } | ({"decimal": decimal} if decimal != "." else {})  # a point is the default
