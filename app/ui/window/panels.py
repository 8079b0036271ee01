"""The main window's views: sources dashboard, activity (receipts) and dead letters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QAction, QColor, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QMenu,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.ui.plain_errors import show_details_box
from app.ui.snapshot import DEVICE_BROKEN, PAUSED, Snapshot, SourceRow, when
from app.ui.tables import fit_columns, make_table
from app.ui.window.first_run import FirstRunChecklist

SOURCE_HEADERS = (
    "Source",
    "Connector",
    "State",
    "Latest reading",
    "Next run / push",
    "Pending",
    "Delivered",
    "Rejected",
    "Last error",
)
RECEIPT_HEADERS = ("Batch", "Started", "API", "Readings", "Confirmed", "Rejected", "Status")
RECEIPT_HEADERS += ("EnergyCAP task id", "Message")
JOB_KINDS = frozenset({"verdigris", "sftp", "folder"})  # rows that are scheduled jobs
JOURNAL_ONLY = frozenset({"push", "pull", "file"})  # rows seen only in the journal (snapshot)
RED, AMBER = QColor(220, 50, 47, 80), QColor(255, 160, 0, 90)
WARNING_TEXT = QColor(170, 100, 0)  # a run's warning (readings missing) in Last error
STATE_COLOURS = {
    "failed": RED,
    PAUSED: RED,
    DEVICE_BROKEN: RED,
    "paused": QColor(128, 128, 128, 60),
}
REJECTED_COLUMN, ERROR_COLUMN = SOURCE_HEADERS.index("Rejected"), SOURCE_HEADERS.index("Last error")
LATEST_TIP = (
    "The time of the newest reading each source has brought in (the meter's own time, "
    "shown in this PC's time zone), not when the file or push arrived"
)
ERROR_SHARE = 0.3  # of the table's width, at least, for Last error
MIN_TABLE_WIDTH, MIN_COLUMN = 400, 120  # px: too narrow to share; a column is kept this wide


def fill_row(table: QTableWidget, row: int, values: Sequence[Any]) -> None:
    """Put `values` into `row` (numbers right-aligned)."""
    for column, value in enumerate(values):
        item = QTableWidgetItem("" if value is None else str(value))
        if isinstance(value, (int, float)):
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        table.setItem(row, column, item)


class EmptyHint(QLabel):
    """A friendly centred sentence shown when a list is empty."""

    def __init__(self, text: str, name: str) -> None:
        super().__init__(text)
        self.setAccessibleName(name)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setWordWrap(True)
        self.setStyleSheet("color: palette(placeholder-text); padding: 18px;")


class SourcesPanel(QWidget):
    """One line per configured source, with counts and the last error in plain words.

    The selected source can be edited, removed, run now, paused or resumed
    (buttons, the context menu, or F2 / Delete / Ctrl+R / Ctrl+P).
    """

    add_requested = Signal()
    open_requested = Signal()
    edit_requested = Signal(str)  # the dashboard row's name
    remove_requested = Signal(str)
    run_requested = Signal(str)  # a job's name
    pause_requested = Signal(str, bool)  # a job's name, True: pause / False: resume
    range_requested = Signal(str)  # a Verdigris job's name: pull a chosen date range

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = make_table(SOURCE_HEADERS, "Sources")
        self.table.horizontalHeaderItem(SOURCE_HEADERS.index("Latest reading")).setToolTip(
            LATEST_TIP
        )
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.hint = EmptyHint(
            "No sources yet. Drop a meter file on this window to preview it, "
            "or add a source (EpiSensor, AcuRev, AcuLink, Verdigris, UK half-hourly, CSV).",
            "No sources hint",
        )
        self.checklist = FirstRunChecklist()
        self.checklist.open_requested.connect(self.open_requested)
        self.checklist.add_requested.connect(self.add_requested)
        self.rows: list[SourceRow] = []
        self.connector_names: dict[str, str] = {}  # connector id → its name (files sent)
        self.running: set[str] = set()  # jobs asked to run now, until their outcome
        self.notes = QLabel("")
        self.notes.setAccessibleName("Dashboard notes")
        self.notes.setWordWrap(True)
        buttons = QHBoxLayout()  # Open file… and Add source… are on the toolbar
        self._build_source_actions(buttons)
        buttons.addStretch(1)
        buttons.addWidget(self.notes, 3)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.checklist)
        layout.addWidget(self.hint)
        layout.addWidget(self.table, 1)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._on_table_context_menu)
        self._update_buttons()

    def _build_source_actions(self, buttons: QHBoxLayout) -> None:
        specs = (
            ("edit", "&Edit…", "Edit the selected source", "F2", self._on_edit),
            ("remove", "Re&move…", "Remove the selected source", "Del", self._on_remove),
            ("run", "R&un now", "Run the selected job now", "Ctrl+R", self._on_run),
            ("pause", "&Pause", "Pause or resume the selected job", "Ctrl+P", self._on_pause),
            ("range", "Pull a ran&ge…", "Pull a date range of the selected Verdigris source",
             "Ctrl+G", self._on_range),
        )  # fmt: skip
        self.actions_by_name: dict[str, QAction] = {}
        self.buttons_by_name: dict[str, QPushButton] = {}
        for key, text, name, shortcut, slot in specs:
            action = QAction(text, self)
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.setToolTip(f"{name} ({shortcut})")
            action.triggered.connect(lambda _c=False, s=slot: s())
            self.table.addAction(action)
            button = QPushButton(text)
            button.setAccessibleName(name)
            button.setToolTip(action.toolTip())
            button.clicked.connect(lambda _c=False, s=slot: s())
            buttons.addWidget(button)
            self.actions_by_name[key], self.buttons_by_name[key] = action, button
        self.details_button = QPushButton("De&tails…")
        self.details_button.setAccessibleName("Details of the selected source's last error")
        self.details_button.setToolTip("What EnergyCAP or the source said, in its own words")
        self.details_button.clicked.connect(self.show_details)
        buttons.addWidget(self.details_button)

    def show_details(self) -> QMessageBox | None:
        """The selected source's last error with its technical words (EnergyCAP's own)."""
        row = self.selected()
        if row is not None and not row.error_details and row.warning_details:
            self.details_box = show_details_box(self, row.warning, row.warning_details)
            return self.details_box  # no error: the last run's warnings, every one
        if row is None or not row.error_details:
            return None
        self.details_box = show_details_box(self, row.last_error, row.error_details)
        return self.details_box

    # --- the selected source ---------------------------------------------------------
    def selected(self) -> SourceRow | None:
        """The selected row's source, if any."""
        rows = {i.row() for i in self.table.selectedIndexes()}
        if len(rows) != 1:
            return None
        number = rows.pop()
        return self.rows[number] if number < len(self.rows) else None

    def select(self, name: str) -> None:
        """Select the row of the source called `name`."""
        for number, row in enumerate(self.rows):
            if row.name == name:
                self.table.selectRow(number)
                return

    def job_of(self, row: SourceRow) -> SourceRow | None:
        """The job row a row stands for (itself, or the job ``pull:<job>`` reports on)."""
        if row.name.startswith("pull:"):  # (folded away unless its job is gone)
            name = row.name[len("pull:") :]
            row = next((r for r in self.rows if r.name == name), row)
        return row if row.connector in JOB_KINDS else None

    def _update_buttons(self) -> None:
        row = self.selected()
        job = self.job_of(row) if row is not None else None
        # A registered device's row names its reader; a removed one's readings say "push".
        device = (
            row is not None and row.name.startswith("push:") and row.connector not in JOURNAL_ONLY
        )
        configured = job is not None or device  # journal-only rows have nothing to change
        paused = job is not None and job.state == "paused"
        enabled = {"edit": configured, "remove": configured, "run": job is not None,
                   "pause": job is not None and job.name not in self.running,
                   "range": job is not None and job.connector == "verdigris"}  # fmt: skip
        for key, on in enabled.items():
            self.actions_by_name[key].setEnabled(on)
            self.buttons_by_name[key].setEnabled(on)
        self.details_button.setEnabled(
            row is not None and bool(row.error_details or row.warning_details)
        )
        text = "Res&ume" if paused else "&Pause"
        self.actions_by_name["pause"].setText(text)
        self.buttons_by_name["pause"].setText(text)

    def _on_table_context_menu(self, point: QPoint) -> None:
        index = self.table.indexAt(point)
        if index.isValid():
            self.table.selectRow(index.row())
        menu = self.context_menu()
        menu.popup(self.table.viewport().mapToGlobal(point))

    def context_menu(self) -> QMenu:
        """The menu of the selected source (Edit, Remove, Run now, Pause/Resume)."""
        menu = QMenu(self)
        menu.setAccessibleName("Source actions")
        for key in ("edit", "remove", "run", "pause", "range"):
            menu.addAction(self.actions_by_name[key])
        self._menu = menu  # kept alive while it shows
        return menu

    def _on_edit(self) -> None:
        row = self.selected()
        if row is not None:
            self.edit_requested.emit(row.name)

    def _on_remove(self) -> None:
        row = self.selected()
        if row is not None:
            self.remove_requested.emit(row.name)

    def _on_run(self) -> None:
        row = self.selected()
        job = self.job_of(row) if row is not None else None
        if job is not None and self.actions_by_name["run"].isEnabled():
            self.run_requested.emit(job.name)

    def _on_range(self) -> None:
        row = self.selected()
        job = self.job_of(row) if row is not None else None
        if job is not None and self.actions_by_name["range"].isEnabled():
            self.range_requested.emit(job.name)

    def _on_pause(self) -> None:
        row = self.selected()
        job = self.job_of(row) if row is not None else None
        if job is not None and self.actions_by_name["pause"].isEnabled():
            self.pause_requested.emit(job.name, job.state != "paused")

    # --- showing -----------------------------------------------------------------------
    def mark_running(self, name: str, running: bool) -> None:
        """Show a job as running now (until its outcome is in) or not."""
        if running:
            self.running.add(name)
        else:
            self.running.discard(name)
        self._show_rows(self.selected())

    def show_snapshot(self, snap: Snapshot) -> None:
        """Display the sources of `snap` (the selection is kept)."""
        chosen = self.selected()
        self.rows = fold_job_rows(list(snap.sources))
        self._show_rows(chosen)
        self.notes.setText(" ".join(snap.notes))

    def _show_rows(self, chosen: SourceRow | None) -> None:
        rows = self.rows
        self.hint.setVisible(not rows)
        self.table.setRowCount(len(rows))
        for number, source in enumerate(rows):
            if source.name in self.running:
                source = replace(source, state="running now…")
            fill_row(self.table, number, _source_values(source, self.connector_names))
            self.table.item(number, 0).setData(Qt.ItemDataRole.UserRole, source.name)
            colour = STATE_COLOURS.get(source.state)
            if colour is not None:
                for column in range(self.table.columnCount()):
                    self.table.item(number, column).setBackground(colour)
            if source.rejected:
                self.table.item(number, REJECTED_COLUMN).setBackground(AMBER)
            if source.last_error:
                self.table.item(number, ERROR_COLUMN).setForeground(QColor(215, 50, 40))
                tip = f"{source.last_error}\n\nDetails…: {source.error_details}"
                self.table.item(number, ERROR_COLUMN).setToolTip(
                    tip if source.error_details else source.last_error
                )
            elif source.warning:  # readings missing: said where errors are, in amber
                self.table.item(number, ERROR_COLUMN).setForeground(WARNING_TEXT)
                self.table.item(number, ERROR_COLUMN).setToolTip(source.warning_details)
        fit_columns(self.table)
        self._room_for_errors()
        if chosen is not None:
            self.select(chosen.name)
        self._update_buttons()

    def _room_for_errors(self) -> None:
        """Give Last error at least ERROR_SHARE of the width: the widest columns give way
        (their cells end in "…", the whole text on hover)."""
        table, width = self.table, self.table.viewport().width()
        need = int(width * ERROR_SHARE) - (width - sum(map(table.columnWidth, range(ERROR_COLUMN))))
        if width < MIN_TABLE_WIDTH or need <= 0:
            return
        for column in sorted(range(ERROR_COLUMN), key=table.columnWidth, reverse=True)[:2]:
            floor = max(table.horizontalHeader().sectionSizeHint(column), MIN_COLUMN)
            cut = min(need, table.columnWidth(column) - floor)
            if cut > 0:
                table.setColumnWidth(column, table.columnWidth(column) - cut)
                need -= cut
            for row in range(table.rowCount()):
                item = table.item(row, column)
                if item is not None and not item.toolTip():
                    item.setToolTip(item.text())


def fold_job_rows(rows: list[SourceRow]) -> list[SourceRow]:
    """One line per job: the journal's ``pull:<job>`` counts go into the job's own row.

    The job row keeps its schedule and a failed / paused / partial / waiting
    state; otherwise the journal's state (sending, needs attention, up to date)
    and the time of its newest reading are shown.
    """
    jobs = {r.name: r for r in rows if r.connector in JOB_KINDS}
    folded = {r.name: r for r in rows}
    for row in rows:
        job = jobs.get(row.name[len("pull:") :]) if row.name.startswith("pull:") else None
        if job is None:
            continue
        keep_state = job.state in ("failed", "paused", "partial") or job.state.startswith("wait")
        folded[job.name] = replace(
            job,
            state=job.state if keep_state else row.state,
            latest_reading=row.latest_reading,
            pending=row.pending,
            delivered=row.delivered,
            rejected=row.rejected,
            last_error=job.last_error or row.last_error,
            error_details=job.error_details if job.last_error else row.error_details,
        )
        del folded[row.name]
    return [folded[name] for name in sorted(folded)]


def display_name(name: str, connectors: dict[str, str] | None = None) -> str:
    """A journal source name in words: ``push:site-a`` → ``site-a (device)``; files sent from
    a preview (journaled under their connector's id) → ``UK half-hourly … (files sent)``."""
    for prefix, words in (("push:", "device"), ("pull:", "pulled")):
        if name.startswith(prefix):
            return f"{name[len(prefix) :]} ({words})"
    if connectors and name in connectors:
        return f"{connectors[name]} (files sent)"
    return name


def _source_values(s: SourceRow, connectors: dict[str, str]) -> tuple[Any, ...]:
    return (display_name(s.name, connectors), s.connector, s.state, s.latest_reading, s.next_run,
            s.pending, s.delivered, s.rejected,
            s.last_error or (f"⚠ {s.warning}" if s.warning else ""))  # fmt: skip


class ActivityPanel(QWidget):
    """Deliveries to EnergyCAP with their receipts (batch, counts, task id)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = make_table(RECEIPT_HEADERS, "Deliveries")
        self.hint = EmptyHint("Nothing has been delivered to EnergyCAP yet.", "No deliveries hint")
        layout = QVBoxLayout(self)
        layout.addWidget(self.hint)
        layout.addWidget(self.table, 1)

    def show_snapshot(self, snap: Snapshot) -> None:
        """Display the receipts of `snap`, newest first."""
        self.hint.setVisible(not snap.receipts)
        self.table.setRowCount(len(snap.receipts))
        for number, r in enumerate(snap.receipts):
            values = (r.get("id"), when(r.get("started_at")), r.get("api"), r.get("count"),
                      r.get("confirmed"), r.get("rejected"), r.get("status"),
                      r.get("task_guid") or "", r.get("message") or "")  # fmt: skip
            fill_row(self.table, number, values)
        fit_columns(self.table)
