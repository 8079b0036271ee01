"""Map held pushes by example: click the parts of a captured body, see every held body's readings.

The user picks a held body, clicks the array of points in its tree (or a CSV
table's columns), then the id, time and value (optionally unit and estimated),
ticks "cumulative register" when the values are meter readings, and picks the
time's format and zone where they are ambiguous. The preview below shows what
*every* held body of the device would give, with problems named, updated as
the fields change. Save stores the mapping as the device's options (the same
option `meterbridge device map` sets); "Save and send held pushes" also runs
the given `send` on a worker (the replay into the journal).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.core.listener.held import HeldPushes
from app.ui.buttons import ButtonRow, Role, Standard, beside, button
from app.ui.captures.body_view import BodyView
from app.ui.captures.readings_table import HeldReadingsTable
from app.ui.plain_errors import DetailsLine
from app.ui.workers import Worker, start
from connectors.push.mapped import point_path, points_pattern

log = logging.getLogger(__name__)

ROLES = (
    ("points", "Points (the list)"),
    ("id", "Id"),
    ("time", "Time"),
    ("value", "Value"),
    ("unit", "Unit (optional)"),
    ("estimated", "Estimated (optional)"),
)
TIME_FORMATS = (
    "auto",
    "iso",
    "epoch_s",
    "epoch_ms",
    "%Y-%m-%d %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%m/%d/%Y %H:%M",
    "%d.%m.%Y %H:%M",
)
ZONES = ("UTC", "Europe/London", "America/New_York", "America/Chicago", "America/Los_Angeles")


class MapHeldDialog(QDialog):
    """The map-by-example dialog of one device's held pushes."""

    mapping_saved = Signal(dict)  # the mapping stored as the device's option
    sent = Signal(object)  # the ReplayReport of "Save and send held pushes"

    def __init__(
        self,
        held: HeldPushes,
        device: str,
        send: Callable[[], Any] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.held, self.device, self._send = held, device, send
        self._worker: Worker | None = None
        self.setWindowTitle(f"Map held pushes of {device}")
        self.resize(1200, 680)  # fits a 1366×768 screen with the taskbar
        self.bodies = held.bodies(device)
        self.selected = ("", "")
        self._build()
        self._timer = QTimer(self, singleShot=True, interval=250)
        self._timer.timeout.connect(self.refresh_preview)
        self._load_existing()
        self._on_body_currentIndexChanged(0)

    # building -------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        count = len(self.bodies)
        self.intro = QLabel(
            f"{count} push{'es' if count != 1 else ''} from {self.device} "
            f"{'are' if count != 1 else 'is'} held. Click a part of the body, then "
            "the field it is. Every held body is previewed below."
        )
        self.intro.setWordWrap(True)
        layout.addWidget(self.intro)
        self.body_choice = QComboBox()
        self.body_choice.setAccessibleName("Held body")
        for capture in self.bodies:
            info = capture.info
            self.body_choice.addItem(f"#{info.id}  {info.received_at}  {info.name}  {info.size} B")
        self.body_choice.currentIndexChanged.connect(self._on_body_currentIndexChanged)
        layout.addWidget(self.body_choice)
        self.problem = DetailsLine("Why it was held")
        layout.addWidget(self.problem)
        split = QSplitter(Qt.Orientation.Vertical)
        top = QSplitter(Qt.Orientation.Horizontal)
        self.view = BodyView()
        self.view.path_selected.connect(self._on_view_path_selected)
        top.addWidget(self.view)
        top.addWidget(self._form())
        top.setSizes([700, 480])
        split.addWidget(top)
        self.preview = HeldReadingsTable()
        self.summary = self.preview.summary  # the dialog's status line too
        split.addWidget(self.preview)
        split.setSizes([330, 290])
        layout.addWidget(split, 1)
        self.error = DetailsLine("Problem")  # a failure in plain words, its detail behind Details…
        self.error.hide()
        layout.addWidget(self.error)
        self.buttons = ButtonRow()
        self.save_button = self.buttons.add("&Save", Role.AcceptRole, self._on_save_clicked)
        self.send_button = self.buttons.add(
            "Save and send &held pushes", Role.ApplyRole, self._on_send_clicked
        )
        self.send_button.setEnabled(self._send is not None)
        self.buttons.add_standard(Standard.Cancel, self.reject)
        layout.addWidget(self.buttons)

    def _form(self) -> QWidget:
        form_widget = QWidget()
        form = QFormLayout(form_widget)
        self.selection = QLabel("Selected: nothing")
        self.selection.setWordWrap(True)
        form.addRow(self.selection)
        self.fields: dict[str, QLineEdit] = {}
        self.use_buttons: dict[str, QPushButton] = {}
        for role, label in ROLES:
            edit = QLineEdit()
            edit.setAccessibleName(label)
            edit.setPlaceholderText("'' = the body is the list" if role == "points" else "path")
            edit.textChanged.connect(self._timer_start)
            use = button(
                f"← {label.split(' (')[0]}",
                f"Use the selection as {label}",
                lambda r=role: self.use_selection(r),
            )
            self.fields[role], self.use_buttons[role] = edit, use
            form.addRow(label, beside(edit, use))
        self.register = QCheckBox("Values are cumulative registers (meter readings)")
        self.register.toggled.connect(self._timer_start)
        form.addRow(self.register)
        self.time_format = QComboBox(editable=True)
        self.time_format.addItems(TIME_FORMATS)
        self.time_format.setAccessibleName("Time format")
        self.time_format.currentTextChanged.connect(self._timer_start)
        form.addRow("Time format", self.time_format)
        self.zone = QComboBox(editable=True)
        self.zone.addItems(ZONES)
        self.zone.setAccessibleName("Time zone of times without one")
        self.zone.currentTextChanged.connect(self._timer_start)
        form.addRow("Zone", self.zone)
        return form_widget

    # behaviour -------------------------------------------------------------
    def _timer_start(self, *_: object) -> None:
        self._timer.start()

    def _load_existing(self) -> None:
        device = self.held.device(self.device)
        mapping = dict(device.options.get("mapping") or {})
        for role, edit in self.fields.items():
            edit.setText(str(mapping.get(role) or ""))
        self.register.setChecked(bool(mapping.get("register")))
        self.time_format.setCurrentText(str(mapping.get("time_format") or "auto"))
        self.zone.setCurrentText(str(mapping.get("tz") or device.tz or "UTC"))

    def _on_body_currentIndexChanged(self, index: int) -> None:
        if not self.bodies:
            self.problem.say("No push is held for this device.")
            return
        capture = self.bodies[max(index, 0)]
        self.view.show_body(capture.body)
        reason = capture.info.reason.strip()
        first = re.split(r"[:;(]", reason, maxsplit=1)[0].strip() or "no reason given"
        # the gist here; the reader's own words (keys found, options to set) behind Details…
        self.problem.say(f"Why it was held: {first}.", details="" if first == reason else reason)
        if self.view.is_csv and not self.fields["points"].text():
            self.refresh_preview()

    def _on_view_path_selected(self, path: str, kind: str) -> None:
        self.selected = (path, kind)
        self.selection.setText(f"Selected: {path or '(the body)'} ({kind})")

    def use_selection(self, role: str) -> None:
        """Put the selected part's path in the field of `role`."""
        path, kind = self.selected
        if role == "points":  # a list inside a list: every element's (indexes become *)
            self.fields["points"].setText("" if self.view.is_csv else points_pattern(path))
            return
        points = self.fields["points"].text().strip()
        self.fields[role].setText(path if kind == "column" else point_path(path, points))

    def mapping(self) -> dict[str, Any]:
        """The mapping the fields describe (the device's ``mapping`` option)."""
        mapping: dict[str, Any] = {"points": self.fields["points"].text().strip()}
        for role in ("id", "time", "value", "unit", "estimated"):
            text = self.fields[role].text().strip()
            if text:
                mapping[role] = text
        if self.register.isChecked():
            mapping["register"] = True
        time_format = self.time_format.currentText().strip()
        if time_format and time_format != "auto":
            mapping["time_format"] = time_format
        zone = self.zone.currentText().strip()
        if zone:
            mapping["tz"] = zone
        return mapping

    def refresh_preview(self) -> None:
        """Read every held body with the mapping as it stands and show the readings."""
        mapping = self.mapping()
        if not all(mapping.get(k) for k in ("id", "time", "value")):
            self.preview.clear()
            return
        try:
            results = self.held.preview(self.device, mapping)
        except Exception as exc:  # a bad zone or format: say so, keep the dialog
            self._failed(exc, "The held pushes cannot be read with this mapping")
            return
        self.error.hide()
        self.preview.show_results(results)

    def save(self) -> bool:
        """Store the mapping as the device's option; False (message shown) when refused."""
        from app.core.sources.devices import DeviceError

        try:
            self.held.save_mapping(self.device, self.mapping())
        except DeviceError as exc:
            self._failed(exc, "The mapping was not saved")
            return False
        self.mapping_saved.emit(self.mapping())
        return True

    def _on_save_clicked(self) -> None:
        if self.save():
            self.accept()

    def _on_send_clicked(self) -> None:
        if self._send is None or not self.save():
            return
        send = self._send
        worker = Worker(lambda _p, _c: send())
        worker.signals.succeeded.connect(self._on_sent)
        worker.signals.failed.connect(lambda m: self._failed(m, "The held pushes were not sent"))
        self.send_button.setEnabled(False)
        self.summary.setText("Sending the held pushes…")
        self._worker = start(worker)

    def _failed(self, error: BaseException, what: str) -> None:
        """Say what failed in one plain sentence (the technical words behind Details…)."""
        self.error.error(error, what)
        self.error.show()
        self.send_button.setEnabled(self._send is not None)

    def _on_sent(self, report: Any) -> None:
        self._worker = None
        self.sent.emit(report)
        left = len(getattr(report, "still_held", {}) or {})
        sent = f"{len(report.dropped)} held pushes sent ({report.readings} readings)"
        self.summary.setText(f"{sent}; {left} still held.")
        if not left:
            self.accept()
