"""The mapping editor's EnergyCAP pane: meters and channels, loaded off the GUI thread.

The whole account comes in a handful of paged requests (`app.core.energycap.catalog`)
with progress and Cancel; it is kept for the session (reopening the editor
shows it at once) until Refresh. A meter's channel import ids are read when
the meter is opened in the tree (one request per meter, kept too).
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from PySide6.QtCore import QModelIndex, QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from app.core.energycap.catalog import (
    CatalogCancelled,
    ChannelInfo,
    EcapCatalog,
    fetch_catalog,
    fetch_channels,
    with_channels,
)
from app.ui.context import API_KEY_SECRET, AppContext
from app.ui.mapping.catalog_model import CatalogModel, MeterFilter
from app.ui.plain_errors import plain_and_details
from app.ui.workers import Worker, start

log = logging.getLogger(__name__)

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
        for clear in self.filter.findChildren(QToolButton):  # shown once text is typed
            clear.setAccessibleName("Clear the filter")
        self._filter_timer = QTimer(self, singleShot=True, interval=150)
        self._filter_timer.timeout.connect(self.apply_filter)
        self.filter.textChanged.connect(lambda _t: self._filter_timer.start())
        self.model = CatalogModel()
        self.proxy = MeterFilter(self.model)
        self.tree = QTreeView()
        self.tree.setModel(self.model)  # the filter proxy only while a filter is typed
        self.tree.setUniformRowHeights(True)
        self.tree.setAccessibleName("EnergyCAP meters and channels")
        self.tree.header().setMinimumSectionSize(90)
        for column, width in enumerate((190, 130, 90, 60)):
            self.tree.setColumnWidth(column, width)
        self.tree.expanded.connect(self._on_tree_expanded)
        self.tree.activated.connect(self._on_tree_activated)
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
            from app.core.energycap.client import EnergyCapClient

            return fetch_catalog(EnergyCapClient(url, key), progress=progress, cancelled=cancelled)

        worker = Worker(job, cancel_types=(CatalogCancelled,))
        worker.signals.progressed.connect(self._on_progressed)
        worker.signals.succeeded.connect(lambda c: self._on_loaded(session_key(url, key), c))
        worker.signals.failed.connect(self._on_failed)
        worker.signals.cancelled.connect(self._on_cancelled)
        worker.signals.finished.connect(self._on_finished)
        self._busy(True)
        self.state.setText(f"Reading EnergyCAP's meters and channels from {url}…")
        self.state.setToolTip("")
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

    def _on_failed(self, error: BaseException) -> None:
        self._busy(False)
        self._say_failed(error, "Not loaded")

    def _say_failed(self, error: BaseException, what: str) -> None:
        """What failed in plain words; EnergyCAP's or the network's own in the tooltip."""
        plain, details = plain_and_details(error, what)
        self.state.setText(plain)
        self.state.setToolTip(details)

    def _on_cancelled(self) -> None:
        self._busy(False)
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
        """Fill the tree with the meters and their channels (one model reset)."""
        self.catalog = catalog
        self.model.set_catalog(catalog)
        self._fit_columns()
        self.load_button.setText("Re&fresh from EnergyCAP")
        self.load_button.setAccessibleName("Refresh from EnergyCAP")
        self.state.setText(f"{len(catalog.meters):,} meter(s) loaded from EnergyCAP{note}.")
        self.loaded.emit(catalog)

    def _fit_columns(self) -> None:
        if len(self.catalog.meters) <= 500:  # measuring asks every shown row for its text
            for column in range(4):
                self.tree.resizeColumnToContents(column)

    def apply_filter(self) -> None:
        """Keep meters whose texts, or whose channels' texts, contain the filter."""
        text = self.filter.text().strip()
        self.proxy.set_text(text)
        # Without a filter the view reads the model itself: a proxy maps every row first.
        wanted = self.proxy if text else self.model
        if self.tree.model() is not wanted:
            current = self._to_source(self.tree.currentIndex())
            self.tree.setModel(wanted)
            self.tree.setCurrentIndex(self._to_view(current))

    def shown_count(self) -> int:
        """How many meters the tree shows."""
        return int(self.tree.model().rowCount())

    def shown_meters(self) -> list[str]:
        """The codes of the meters the filter keeps, in order."""
        view = self.tree.model()
        rows = [self._to_source(view.index(r, 0)).row() for r in range(view.rowCount())]
        return [self.model.meters[r].code for r in rows]

    def _view_index(self, meter_row: int, channel_row: int | None = None) -> QModelIndex:
        index = self.model.index(meter_row, 0)
        if channel_row is not None:
            index = self.model.index(channel_row, 0, index)
        return self._to_view(index)

    def _to_view(self, index: QModelIndex) -> QModelIndex:
        """A model index as the view's model has it."""
        return self.proxy.mapFromSource(index) if self.tree.model() is self.proxy else index

    def _to_source(self, index: QModelIndex) -> QModelIndex:
        """A view index as the catalog model has it."""
        return self.proxy.mapToSource(index) if self.tree.model() is self.proxy else index

    def expand_meter(self, meter_row: int) -> None:
        """Open a meter in the tree (its channels' import ids are read)."""
        self.tree.expand(self._view_index(meter_row))

    def select_channel(self, meter_row: int, channel_row: int) -> None:
        """Make a channel the current row of the tree."""
        self.tree.setCurrentIndex(self._view_index(meter_row, channel_row))

    def channel_text(self, meter_row: int, channel_row: int, column: int) -> str:
        """What the tree shows for a channel in `column`."""
        index = self.model.index(channel_row, column, self.model.index(meter_row, 0))
        return str(self.model.data(index))

    # --- channel details ---------------------------------------------------------------------
    def _on_tree_expanded(self, index: QModelIndex) -> None:
        source = self._to_source(index)
        if source.isValid() and not self.model.is_channel(source):
            self.load_channels(self.model.meters[source.row()].meter_id)

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
            from app.core.energycap.client import EnergyCapClient

            return fetch_channels(EnergyCapClient(url, key), meter_id)

        worker = Worker(job)
        worker.signals.succeeded.connect(lambda c: self._on_channels(meter_id, c))
        worker.signals.failed.connect(
            lambda error: self._say_failed(error, f"Channels of meter {meter_id} not read")
        )
        worker.signals.finished.connect(lambda: self.detail_workers.pop(meter_id, None))
        self.detail_workers[meter_id] = start(worker)
        return worker

    def _on_channels(self, meter_id: int, channels: tuple[ChannelInfo, ...]) -> None:
        with_channels(self.catalog, meter_id, channels)
        row = self.model.meter_row(meter_id)
        if row is not None:
            self.model.set_channels(row, channels)
        self._fit_columns()
        self.channels_loaded.emit(meter_id)

    def meter_id_of(self, channel_id: int) -> int | None:
        """The id of the meter a channel belongs to."""
        for meter in self.catalog.meters:
            if any(c.channel_id == channel_id for c in meter.channels):
                return meter.meter_id
        return None

    def channel_by_id(self, channel_id: int) -> ChannelInfo | None:
        """A channel of the lists, by id."""
        for meter in self.catalog.meters:
            for channel in meter.channels:
                if channel.channel_id == channel_id:
                    return channel
        return None

    def current_channel(self) -> ChannelInfo | None:
        """The channel selected in the tree, if a channel is selected."""
        source = self._to_source(self.tree.currentIndex())
        return self.model.channel_at(source) if self.model.is_channel(source) else None

    def _on_tree_activated(self, _index: QModelIndex) -> None:
        channel = self.current_channel()
        if channel is not None:
            self.chosen.emit(channel)
