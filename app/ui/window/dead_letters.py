"""The Dead letters tab: refused readings grouped by source and reason, fixed and replayed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.ui.plain_errors import refusal_reason
from app.ui.snapshot import Snapshot
from app.ui.tables import fit_columns, make_table
from app.ui.window.panels import EmptyHint, display_name, fill_row

DEAD_HEADERS = ("Source", "Reason", "Readings", "First", "Last", "Meters / ids")
IDS_SHOWN = 3


@dataclass
class RefusalGroup:
    """The readings of one source that EnergyCAP refused for one reason."""

    source: str
    reason: str
    count: int = 0
    first: Any = None
    last: Any = None
    pairs: dict[tuple[str, str], None] = field(default_factory=dict)  # (source id, quantity)

    def ids_text(self) -> str:
        """The source ids, the first few named."""
        ids = list(dict.fromkeys(source_id for source_id, _ in self.pairs))
        more = f" and {len(ids) - IDS_SHOWN} more" if len(ids) > IDS_SHOWN else ""
        return ", ".join(ids[:IDS_SHOWN]) + more


def group_refusals(letters: list[dict[str, Any]]) -> list[RefusalGroup]:
    """Group dead letters by source and reason (count, first and last time, the ids)."""
    groups: dict[tuple[str, str], RefusalGroup] = {}
    for letter in letters:
        source, reason = str(letter.get("source")), str(letter.get("reason") or "no reason given")
        group = groups.setdefault((source, reason), RefusalGroup(source, reason))
        group.count += 1
        group.pairs[(str(letter.get("source_id")), str(letter.get("quantity")))] = None
        time = letter.get("time")
        if time is not None:
            group.first = time if group.first is None else min(group.first, time)
            group.last = time if group.last is None else max(group.last, time)
    return sorted(groups.values(), key=lambda g: (g.source, -g.count))


def _stamp(moment: Any) -> str:
    if hasattr(moment, "to_pydatetime"):  # a pandas Timestamp
        moment = moment.to_pydatetime()
    if isinstance(moment, datetime):
        return moment.astimezone().strftime("%Y-%m-%d %H:%M")
    return "" if moment is None else str(moment)


class DeadLettersPanel(QWidget):
    """Readings EnergyCAP refused, why, and a way to fix the mapping and replay them."""

    replay_requested = Signal(object)  # source name, or None for all
    fix_requested = Signal(list)  # [(source id, quantity)] of the refused readings

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = make_table(DEAD_HEADERS, "Dead letters")
        self.hint = EmptyHint("No refused readings.", "No dead letters hint")
        self.groups: list[RefusalGroup] = []
        self.connector_names: dict[str, str] = {}  # connector id → its name (files sent)
        self.fix_button = QPushButton("&Fix mapping…")
        self.fix_button.setAccessibleName("Fix mapping")
        self.fix_button.setToolTip("Open the mapping editor with a row for each refused meter")
        self.replay_button = QPushButton("&Replay")
        self.replay_button.setAccessibleName("Replay refused readings")
        self.replay_button.setToolTip("Send the refused readings of the selected source again")
        self.fix_button.clicked.connect(self._on_fix_clicked)
        self.replay_button.clicked.connect(self._on_replay_clicked)
        explain = QLabel(
            "Refused readings usually point at a missing or wrong mapping: fix it, then replay."
        )
        explain.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(explain, 1)
        buttons.addWidget(self.fix_button)
        buttons.addWidget(self.replay_button)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.hint)
        layout.addWidget(self.table, 1)

    def show_snapshot(self, snap: Snapshot) -> None:
        """Display the dead letters of `snap`, one row per source and reason."""
        self.groups = group_refusals(snap.dead_letters)
        self.hint.setVisible(not self.groups)
        self.replay_button.setEnabled(bool(self.groups))
        self.fix_button.setEnabled(bool(self.groups))
        self.table.setRowCount(len(self.groups))
        for number, g in enumerate(self.groups):
            values = (display_name(g.source, self.connector_names), refusal_reason(g.reason),
                      g.count, _stamp(g.first), _stamp(g.last), g.ids_text())  # fmt: skip
            fill_row(self.table, number, values)
            self.table.item(number, 1).setToolTip(f"EnergyCAP said: {g.reason}")
        fit_columns(self.table)

    def chosen(self) -> list[RefusalGroup]:
        """The selected groups, or all of them when none is selected."""
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        return [self.groups[r] for r in rows if r < len(self.groups)] or list(self.groups)

    def refused_pairs(self) -> list[tuple[str, str]]:
        """(source id, quantity) of the chosen groups, each once."""
        pairs: dict[tuple[str, str], None] = {}
        for group in self.chosen():
            pairs.update(group.pairs)
        return list(pairs)

    def _on_fix_clicked(self) -> None:
        self.fix_requested.emit(self.refused_pairs())

    def _on_replay_clicked(self) -> None:
        sources = {g.source for g in self.chosen()}
        self.replay_requested.emit(sources.pop() if len(sources) == 1 else None)
