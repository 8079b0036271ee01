"""The first-run checklist on the dashboard: connect EnergyCAP, then bring some data."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QPushButton, QWidget

DONE, TODO = "✓", "○"


class FirstRunChecklist(QFrame):
    """Two steps, each ticked when done; hidden once both are (it comes back if undone)."""

    setup_requested = Signal()  # Settings, EnergyCAP page
    open_requested = Signal()
    add_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("FirstRunChecklist")
        self.setAccessibleName("Getting started")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet(
            "#FirstRunChecklist { background: rgba(38,139,210,0.08); border-radius: 6px; }"
        )
        grid = QGridLayout(self)
        grid.setContentsMargins(16, 12, 16, 12)
        grid.setHorizontalSpacing(12)
        title = QLabel("<b>Getting started</b>")
        grid.addWidget(title, 0, 0, 1, 4)
        self.connect_mark, self.connect_text = self._step(
            grid, 1, "1 · Connect EnergyCAP: its address (host) and your API key, tested."
        )
        self.setup_button = self._button(grid, 1, 2, "&Set up…", "Set up the EnergyCAP connection")
        self.setup_button.clicked.connect(self.setup_requested)
        self.data_mark, self.data_text = self._step(
            grid, 2, "2 · Drop a meter file on this window, or add a source (a device, a "
            "folder, Verdigris…)."
        )  # fmt: skip
        open_button = self._button(grid, 2, 2, "&Open file…", "Open a meter file")
        open_button.clicked.connect(self.open_requested)
        add_button = self._button(grid, 2, 3, "A&dd source…", "Add a source")
        add_button.clicked.connect(self.add_requested)
        grid.setColumnStretch(1, 1)
        self.done: tuple[bool, bool] = (False, False)

    def _step(self, grid: QGridLayout, row: int, text: str) -> tuple[QLabel, QLabel]:
        mark = QLabel(TODO)
        mark.setAlignment(Qt.AlignmentFlag.AlignCenter)
        mark.setMinimumWidth(20)
        label = QLabel(text)
        label.setWordWrap(True)
        grid.addWidget(mark, row, 0)
        grid.addWidget(label, row, 1)
        return mark, label

    def _button(
        self, grid: QGridLayout, row: int, column: int, text: str, name: str
    ) -> QPushButton:
        button = QPushButton(text)
        button.setAccessibleName(name)
        grid.addWidget(button, row, column)
        return button

    def show_progress(self, connected: bool, has_data: bool) -> None:
        """Tick the steps done; hide the list when both are."""
        self.done = (connected, has_data)
        for mark, label, done in (
            (self.connect_mark, self.connect_text, connected),
            (self.data_mark, self.data_text, has_data),
        ):
            mark.setText(DONE if done else TODO)
            mark.setStyleSheet("color: #2e9d48; font-weight: bold;" if done else "")
            label.setEnabled(not done)
            mark.setAccessibleName("done" if done else "to do")
        self.setup_button.setText("Chan&ge…" if connected else "&Set up…")
        self.setVisible(not (connected and has_data))
