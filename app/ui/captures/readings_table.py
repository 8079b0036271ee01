"""The lower half of map-by-example: the readings every held body gives under a mapping."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QPlainTextEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

PREVIEW_ROWS = 500
PREVIEW_HEADERS = ("Body", "Source id", "Time (UTC)", "Value", "Quantity")
CHOOSE = "Choose the points, id, time and value."


class HeldReadingsTable(QWidget):
    """A summary line (the dialog's status too), the readings and the problems of each body."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.summary = QLabel(CHOOSE)
        layout.addWidget(self.summary)
        self.readings = QTableWidget(0, len(PREVIEW_HEADERS))
        self.readings.setHorizontalHeaderLabels(PREVIEW_HEADERS)
        self.readings.setAccessibleName("Readings every held body would give")
        self.readings.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.readings.horizontalHeader().setStretchLastSection(True)
        self.problems = QPlainTextEdit(readOnly=True)
        self.problems.setAccessibleName("Problems")
        self.problems.setMaximumHeight(56)
        layout.addWidget(self.readings, 1)
        layout.addWidget(self.problems)

    def clear(self) -> None:
        """No readings until the mapping names the points, id, time and value."""
        self.summary.setText(CHOOSE)
        self.readings.setRowCount(0)

    def show_results(self, results: list[Any]) -> None:
        """Show the readings and problems of each held body (`HeldPushes.preview` results)."""
        rows: list[tuple[str, ...]] = []
        problems: list[str] = []
        for result in results:
            frame = result.readings
            if frame is not None:
                for r in frame.head(PREVIEW_ROWS).itertuples():
                    time = r.time.strftime("%Y-%m-%d %H:%M:%SZ")
                    rows.append((f"#{result.capture.id}", r.source_id, time, f"{r.value:g}",
                                 r.quantity))  # fmt: skip
            if result.problem:
                problems.append(f"#{result.capture.id}: {result.problem}")
        readable = sum(1 for r in results if r.problem is None)
        self.summary.setText(
            f"{len(rows)} readings from {len(results)} held bodies; {readable} read fully, "
            f"{len(results) - readable} with problems."
        )
        self.readings.setRowCount(min(len(rows), PREVIEW_ROWS))
        for i, row in enumerate(rows[:PREVIEW_ROWS]):
            for j, text in enumerate(row):
                self.readings.setItem(i, j, QTableWidgetItem(text))
        self.readings.resizeColumnsToContents()
        self.problems.setPlainText("\n".join(problems) or "No problems.")
