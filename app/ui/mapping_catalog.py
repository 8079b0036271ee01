"""The mapping editor's EnergyCAP pane: meters and channels, loaded off the GUI thread.

The whole account comes in a handful of paged requests (`app.core.ecap_catalog`)
with progress and Cancel; it is kept for the session (reopening the editor
shows it at once) until Refresh. A meter's channel import ids are read when
the meter is opened in the tree (one request per meter, kept too).
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.ecap_catalog import (
    CatalogCancelled,
    ChannelInfo,
    EcapCatalog,
    MeterInfo,
    fetch_catalog,
    fetch_channels,
    with_channels,
)
from app.ui.context import API_KEY_SECRET, AppContext
from app.ui.workers import Worker, start

log = logging.getLogger(__name__)

METER_ROLE = Qt.ItemDataRole.UserRole + 1
# EnergyCAP's lists read this session, by host and key (a digest: the key is not kept).
_SESSION: dict[tuple[str, str], EcapCatalog] = {}


def session_key(url: str, key: str) -> tuple[str, str]:
    """The cache key of one host and API key."""
    return url.rstrip("/"), hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def forget_session() -> None:
    """Drop every list read this session."""
    _SESSION.clear()


class CatalogPane(QWidget):
    """Load, filter and browse EnergyCAP's meters and channels."""

    loaded = Signal(object)  # EcapCatalog
    channels_loaded = Signal(int)  # meter id whose import ids arrived
    chosen = Signal(object)  # ChannelInfo activated (Enter / double-click)

    def __init__(self, context: AppContext) -> None:
        super().__init__()
        self.context = context
        self.catalog = EcapCatalog()
        self.worker: Worker | None = None
        self.detail_workers: dict[int, Worker] = {}
        self._build()

    def _build(self) -> None:
        self.load_button = QPushButton("&Load from EnergyCAP")
        self.load_button.setAccessibleName("Load from EnergyCAP")
        self.load_button.clicked.connect(lambda _c=False: self.load(refresh=True))
        self.cancel_button = QPushButton("Ca&ncel loading")
        self.cancel_button.setAccessibleName("Cancel loading")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.hide()
        self.progress = QProgressBar()
        self.progress.setAccessibleName("EnergyCAP lists progress")
        self.progress.hide()
        self.state = QLabel("Not loaded: connect in Settings, then load the lists.")
        self.state.setAccessibleName("EnergyCAP lists state")
        self.state.setWordWrap(True)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter meters and channels (code, name, import id, type)")
        self.filter.setAccessibleName("Filter EnergyCAP meters and channels")
        self.filter.setClearButtonEnabled(True)
        self._filter_timer = QTimer(self, singleShot=True, interval=150)
        self._filter_timer.timeout.connect(self.apply_filter)
        self.filter.textChanged.connect(lambda _t: self._filter_timer.start())
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["EnergyCAP meter / channel", "Import id", "Type", "Unit"])
        self.tree.setAccessibleName("EnergyCAP meters and channels")
        self.tree.header().setMinimumSectionSize(90)
        self.tree.setColumnWidth(0, 190)
        self.tree.itemExpanded.connect(self._on_tree_expanded)
        self.tree.itemActivated.connect(self._on_tree_activated)
        row = QHBoxLayout()
        row.addWidget(self.load_button)
        row.addWidget(self.cancel_button)
        row.addWidget(self.progress, 1)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        for part in (row, self.state, self.filter, self.tree):
            if isinstance(part, QHBoxLayout):
                box.addLayout(part)
            else:
                box.addWidget(part, 1 if part is self.tree else 0)

    # --- loading ---------------------------------------------------------------------------
    def _connection(self) -> tuple[str, str] | None:
        url = self.context.settings.energycap.url
        key = self.context.secrets.get(API_KEY_SECRET) or ""
        return (url, key) if url and key else None

    def show_cached(self) -> bool:
        """Show the lists read earlier this session for the current connection, if any."""
        connection = self._connection()
        cached = _SESSION.get(session_key(*connection)) if connection else None
        if cached is None:
            return False
        self.show_catalog(cached, note=" (read earlier this session; Refresh reads them again)")
        return True

    def load(self, refresh: bool = False) -> Worker | None:
        """Read the lists on a worker (the session's copy unless `refresh`)."""
        connection = self._connection()
        if connection is None:
            self.state.setText("Set the EnergyCAP host and API key in Settings first.")
            return None
        if self.worker is not None or (not refresh and self.show_cached()):
            return None
        url, key = connection

        def job(progress: Any, cancelled: Any) -> EcapCatalog:
            from app.core.energycap import EnergyCapClient

            return fetch_catalog(EnergyCapClient(url, key), progress=progress, cancelled=cancelled)

        worker = Worker(job, cancel_types=(CatalogCancelled,))
        worker.signals.progressed.connect(self._on_progressed)
        worker.signals.succeeded.connect(lambda c: self._on_loaded(session_key(url, key), c))
        worker.signals.failed.connect(lambda m: self.state.setText(f"Not loaded: {m}"))
        worker.signals.cancelled.connect(self._on_cancelled)
        worker.signals.finished.connect(self._on_finished)
        self._busy(True)
        self.state.setText(f"Reading EnergyCAP's meters and channels from {url}…")
        self.worker = start(worker)
        return worker

    def cancel(self) -> None:
        """Stop loading after the current page (what was shown stays)."""
        if self.worker is not None:
            self.worker.cancel()

    def _busy(self, busy: bool) -> None:
        self.load_button.setEnabled(not busy)
        self.cancel_button.setVisible(busy)
        self.progress.setVisible(busy)
        self.progress.setRange(0, 0)  # busy until the first page says how many

    def _on_progressed(self, count: int, message: str) -> None:
        total = message.split(" of ")[-1].split()[0].replace(",", "")
        if total.isdigit():
            self.progress.setRange(0, int(total))
            self.progress.setValue(count)
        self.state.setText(f"Reading EnergyCAP's meters: {message}…")

    def _on_loaded(self, key: tuple[str, str], catalog: EcapCatalog) -> None:
        self._busy(False)
        _SESSION[key] = catalog
        self.show_catalog(catalog, note=f" in {catalog.requests} requests")

    def _on_cancelled(self) -> None:
        kept = (
            f" The {len(self.catalog.meters):,} meters shown before stay."
            if self.catalog.meters
            else ""
        )
        self.state.setText(f"Cancelled: nothing new was read.{kept}")

    def _on_finished(self) -> None:
        self.worker = None
        self._busy(False)

    # --- showing -----------------------------------------------------------------------------
    def show_catalog(self, catalog: EcapCatalog, note: str = "") -> None:
        """Fill the tree with the meters and their channels."""
        self.catalog = catalog
        self.tree.setUpdatesEnabled(False)
        self.tree.clear()
        self.tree.addTopLevelItems([self._meter_item(m) for m in catalog.meters])
        self.tree.setUpdatesEnabled(True)
        for column in range(1, self.tree.columnCount()):
            self.tree.resizeColumnToContents(column)
        self.load_button.setText("Re&fresh from EnergyCAP")
        self.load_button.setAccessibleName("Refresh from EnergyCAP")
        self.state.setText(f"{len(catalog.meters):,} meter(s) loaded from EnergyCAP{note}.")
        self.apply_filter()
        self.loaded.emit(catalog)

    def _meter_item(self, meter: MeterInfo) -> QTreeWidgetItem:
        item = QTreeWidgetItem([f"{meter.code} — {meter.info}", meter.import_id or "", "", ""])
        item.setData(0, METER_ROLE, meter.meter_id)
        self._fill_channels(item, meter.channels)
        return item

    def _fill_channels(self, item: QTreeWidgetItem, channels: tuple[ChannelInfo, ...]) -> None:
        item.takeChildren()
        for channel in channels:
            texts = [f"channel {channel.channel_id}", channel.import_id or ""]
            texts += [channel.observation_type or "", channel.unit or ""]
            child = QTreeWidgetItem(texts)
            child.setData(0, Qt.ItemDataRole.UserRole, channel)
            if not channel.detailed:
                child.setToolTip(1, "Open the meter to read its channels' import ids.")
            item.addChild(child)

    def apply_filter(self) -> None:
        """Hide meters whose texts (and whose channels' texts) do not contain the filter."""
        wanted = self.filter.text().strip().lower()
        for number in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(number)
            texts = [item.text(c) for c in range(2)]
            for child in range(item.childCount()):
                texts += [item.child(child).text(c) for c in range(4)]
            item.setHidden(bool(wanted) and wanted not in " ".join(texts).lower())

    # --- channel details ---------------------------------------------------------------------
    def _on_tree_expanded(self, item: QTreeWidgetItem) -> None:
        meter_id = item.data(0, METER_ROLE)
        if meter_id is not None:
            self.load_channels(int(meter_id))

    def load_channels(self, meter_id: int) -> Worker | None:
        """Read one meter's channels with their import ids (once per session)."""
        meter = next((m for m in self.catalog.meters if m.meter_id == meter_id), None)
        connection = self._connection()
        if meter is None or connection is None or meter_id in self.detail_workers:
            return None
        if meter.channels and all(c.detailed for c in meter.channels):
            return None
        url, key = connection

        def job(_progress: Any, _cancelled: Any) -> tuple[ChannelInfo, ...]:
            from app.core.energycap import EnergyCapClient

            return fetch_channels(EnergyCapClient(url, key), meter_id)

        worker = Worker(job)
        worker.signals.succeeded.connect(lambda c: self._on_channels(meter_id, c))
        worker.signals.failed.connect(
            lambda m: self.state.setText(f"Channels of meter {meter_id} not read: {m}")
        )
        worker.signals.finished.connect(lambda: self.detail_workers.pop(meter_id, None))
        self.detail_workers[meter_id] = start(worker)
        return worker

    def _on_channels(self, meter_id: int, channels: tuple[ChannelInfo, ...]) -> None:
        with_channels(self.catalog, meter_id, channels)
        for number in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(number)
            if item.data(0, METER_ROLE) == meter_id:
                self._fill_channels(item, channels)
        self.channels_loaded.emit(meter_id)

    def current_channel(self) -> ChannelInfo | None:
        """The channel selected in the tree, if a channel is selected."""
        item = self.tree.currentItem()
        channel = item.data(0, Qt.ItemDataRole.UserRole) if item else None
        return channel if isinstance(channel, ChannelInfo) else None

    def _on_tree_activated(self, _item: QTreeWidgetItem, _column: int) -> None:
        channel = self.current_channel()
        if channel is not None:
            self.chosen.emit(channel)
