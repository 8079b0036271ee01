"""Held values: readings waiting for the user's decision, sent (overwrite) or discarded.

The panel lists what `app.core.journal.held` finds (the same as ``meterbridge
held``): source, channel, the time in the user's zone with its offset and in
UTC, the value EnergyCAP has, the new value and why it is held. The two
buttons call the same core functions as ``held send`` and ``held discard``.
Reading and writing the journal happen on workers, never on the GUI thread.
"""

from __future__ import annotations

import logging
import math
from datetime import tzinfo
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.core.journal.held import local_time
from app.ui.plain_errors import DetailsLine
from app.ui.tables import header_text
from app.ui.workers import Worker, start

log = logging.getLogger(__name__)

LIST_LIMIT = 10_000
HEADERS = ("Source", "Channel", "Time (local)", "Time (UTC)", "EnergyCAP has", "New value",
           "Why held")  # fmt: skip


def held_tab_title(count: int) -> str:
    """The tab's title: with the number waiting when there are any."""
    return f"Held &values ({count})" if count else "Held &values"


Rows = tuple[list[int], list[tuple[str, ...]]]  # journal ids, cell texts


def load_held(path: Path, zone: tzinfo | None = None) -> Rows:
    """The held readings of the journal at `path`, as ids and cell texts (on a worker)."""
    from app.core.journal.held import held_decisions
    from app.core.journal.store import Journal

    if not path.exists():
        return [], []
    journal = Journal(path)
    try:
        frame = held_decisions(journal, limit=LIST_LIMIT)
    finally:
        journal.close()
    return [int(i) for i in frame["id"]], [held_cells(r, zone) for r in frame.itertuples()]


def held_cells(item: Any, zone: tzinfo | None = None) -> tuple[str, ...]:
    """The texts of one held reading's row: times in `zone` (with offset) and in UTC."""
    local = local_time(item.time, zone)
    offset = local.strftime("%z")
    return (
        str(item.source),
        f"{item.source_id} {item.quantity}".strip(),
        f"{local:%Y-%m-%d %H:%M} {local.tzname() or ''} (UTC{offset[:3]}:{offset[3:]})",
        f"{item.time:%Y-%m-%d %H:%M} UTC",
        _number(item.delivered),
        _number(item.new),
        str(item.reason or ""),
    )


Index = QModelIndex | QPersistentModelIndex
RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


class HeldModel(QAbstractTableModel):
    """The held readings' texts, formatted before they reach the GUI thread."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[str, ...]] = []

    def set_rows(self, rows: list[tuple[str, ...]]) -> None:
        """Replace every row (one reset, whatever their number)."""
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self.rows[index.row()][index.column()]
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() in (4, 5):
            return RIGHT
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        return header_text(HEADERS, section, orientation, role)


def decide(path: Path, action: str, ids: list[int] | None) -> int:
    """Send ("send") or discard ("discard") the held readings `ids` (None: every one)."""
    from app.core.journal.held import discard_held_ids, held_ids, release_held_ids
    from app.core.journal.store import Journal

    journal = Journal(path)
    try:
        act = release_held_ids if action == "send" else discard_held_ids
        return act(journal, held_ids(journal) if ids is None else ids)
    finally:
        journal.close()


class HeldPanel(QWidget):
    """The held readings and the two decisions."""

    counted = Signal(int)  # held readings found by the last load
    decided = Signal(str, int)  # action ("send" or "discard"), how many

    def __init__(self, journal_file: Path, zone: tzinfo | None = None) -> None:
        super().__init__()
        self.journal_file = journal_file
        self._again = False
        self.zone = zone  # None: this computer's zone
        self.ids: list[int] = []
        self._loader: Worker | None = None
        self._decider: Worker | None = None
        self._build()

    def _build(self) -> None:
        self.summary = QLabel("No readings are held for a decision.")
        self.summary.setAccessibleName("Held values summary")
        self.summary.setWordWrap(True)
        self.result = DetailsLine("Held values result")  # an error's detail behind Details…
        self.model = HeldModel()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAccessibleName("Held readings")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().setVisible(False)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.send = self._button("Se&nd the new values (overwrite)", lambda: self.act("send"))
        self.discard = self._button(
            "&Keep the delivered values (discard)", lambda: self.act("discard")
        )
        self.select_all = self._button("Select a&ll", self.table.selectAll)
        self.send.setToolTip("The new values replace what EnergyCAP has (like `held send`).")
        self.discard.setToolTip("EnergyCAP keeps its values; the new ones are dropped.")
        row = QHBoxLayout()
        for button in (self.select_all, self.send, self.discard):
            row.addWidget(button)
        row.addWidget(self.result, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addLayout(row)
        self._update_buttons()

    def _button(self, text: str, slot: Any) -> QPushButton:
        button = QPushButton(text)
        button.setAccessibleName(text.replace("&", ""))
        button.clicked.connect(lambda _c=False: slot())
        return button

    # --- loading ---------------------------------------------------------------------------
    def refresh(self) -> Worker | None:
        """Re-read the held readings on a worker (once more after the one running, if any)."""
        if self._loader is not None:
            self._again = True  # a newer state (zone, decisions) must not be lost
            return None
        path, zone = self.journal_file, self.zone
        worker = Worker(lambda _p, _c: load_held(path, zone))
        worker.signals.succeeded.connect(self.show_held)
        worker.signals.failed.connect(
            lambda m: self.result.error(m, "The held readings could not be read")
        )
        worker.signals.finished.connect(self._on_loader_finished)
        self._loader = start(worker)
        return worker

    def _on_loader_finished(self) -> None:
        self._loader = None
        if self._again:
            self._again = False
            self.refresh()

    def show_held(self, rows: Rows) -> None:
        """Show held readings (keeping the selection of rows still there)."""
        kept = set(self.selected_ids())
        self.ids, texts = rows
        self.model.set_rows(texts)
        if len(texts) <= 1000:  # measuring costs a pass over every row
            self.table.resizeColumnsToContents()
        self._reselect(kept)
        self._update_buttons()
        self.summary.setText(self._summary(len(texts)))
        self.counted.emit(len(texts))

    def _summary(self, count: int) -> str:
        if not count:
            return "No readings are held for a decision."
        more = (
            " (the first 10,000 are listed; Select all acts on all)" if count >= LIST_LIMIT else ""
        )
        return (
            f"{count} reading(s) differ from values EnergyCAP already has{more}. Nothing is "
            "replaced without your decision: send the new values, or keep the delivered ones."
        )

    def _reselect(self, ids: set[int]) -> None:
        if not ids:
            return
        chosen = QItemSelection()
        last = len(HEADERS) - 1
        for row, ident in enumerate(self.ids):
            if ident in ids:
                chosen.select(self.model.index(row, 0), self.model.index(row, last))
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        self.table.selectionModel().select(chosen, flags)

    # --- deciding ----------------------------------------------------------------------------
    def selected_ids(self) -> list[int]:
        """The journal ids of the selected rows."""
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [self.ids[r] for r in rows if r < len(self.ids)]

    def _update_buttons(self) -> None:
        chosen = bool(self.selected_ids()) and self._decider is None
        self.send.setEnabled(chosen)
        self.discard.setEnabled(chosen)
        self.select_all.setEnabled(bool(self.ids))

    def act(self, action: str) -> Worker | None:
        """Send or discard the selected held readings on a worker."""
        ids: list[int] | None = self.selected_ids()
        if not ids or self._decider is not None:
            return None
        if len(ids) == len(self.ids) >= LIST_LIMIT:  # every row of a clipped list: all of them
            ids = None
        path = self.journal_file
        worker = Worker(lambda _p, _c: decide(path, action, ids))
        worker.signals.succeeded.connect(lambda n: self._on_decided(action, int(n)))
        worker.signals.failed.connect(lambda m: self.result.error(m, "Not done"))
        worker.signals.finished.connect(self._on_decider_finished)
        self._decider = start(worker)
        self._update_buttons()
        return worker

    def _on_decided(self, action: str, count: int) -> None:
        what = "queued to replace EnergyCAP's values" if action == "send" else "discarded"
        log.info("%d held reading(s) %s", count, what)
        after = (
            "; they go with the next delivery."
            if action == "send"
            else "; EnergyCAP keeps its own."
        )
        self.result.setText(f"{count} held reading(s) {what}{after}")
        self.table.clearSelection()
        self.decided.emit(action, count)

    def _on_decider_finished(self) -> None:
        self._decider = None
        self._update_buttons()
        self.refresh()


def _number(value: Any) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return ""
    return "unknown" if math.isnan(number) else f"{number:.12g}"
