"""EnergyCAP's meters and their channels as a two-level item model (no item per row).

Built in one reset whatever the number of meters, and filtered by a proxy in
C++: a tree widget would cost several calls per item (and PySide6 6.12 on
Python 3.11 loses a reference to None on every call of a void method).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)

from app.core.energycap.catalog import ChannelInfo, EcapCatalog, MeterInfo
from app.ui.tables import header_text

Index = QModelIndex | QPersistentModelIndex
HEADERS = ("EnergyCAP meter / channel", "Import id", "Type", "Unit")
METER = 0  # internal id of a meter row; a channel row carries its meter's row + 1
ROW_ROLE = Qt.ItemDataRole.UserRole + 1


class CatalogModel(QAbstractItemModel):
    """Meters (top level) and their channels (children)."""

    def __init__(self) -> None:
        super().__init__()
        self.meters: list[MeterInfo] = []

    def set_catalog(self, catalog: EcapCatalog) -> None:
        """Show `catalog` (one reset)."""
        self.beginResetModel()
        self.meters = list(catalog.meters)
        self.endResetModel()

    def set_channels(self, meter_row: int, channels: tuple[ChannelInfo, ...]) -> None:
        """Replace one meter's channels (their import ids arrived)."""
        old = self.meters[meter_row]
        parent = self.index(meter_row, 0)
        if len(old.channels) == len(channels):
            self.meters[meter_row] = _with(old, channels)
            if channels:
                last = self.index(len(channels) - 1, len(HEADERS) - 1, parent)
                self.dataChanged.emit(self.index(0, 0, parent), last)
            return
        if old.channels:
            self.beginRemoveRows(parent, 0, len(old.channels) - 1)
            self.meters[meter_row] = _with(old, ())
            self.endRemoveRows()
        if channels:
            self.beginInsertRows(parent, 0, len(channels) - 1)
            self.meters[meter_row] = _with(old, channels)
            self.endInsertRows()

    # --- the model interface -----------------------------------------------------------------
    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        if not 0 <= column < len(HEADERS) or row < 0:
            return QModelIndex()
        if not parent.isValid():
            return self.createIndex(row, column, METER) if row < len(self.meters) else QModelIndex()
        meter = parent.row()
        if parent.internalId() != METER or row >= len(self.meters[meter].channels):
            return QModelIndex()
        return self.createIndex(row, column, meter + 1)

    def parent(self, child: Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not child.isValid() or child.internalId() == METER:
            return QModelIndex()
        return self.createIndex(int(child.internalId()) - 1, 0, METER)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if not parent.isValid():
            return len(self.meters)
        if parent.internalId() == METER and parent.column() == 0:
            return len(self.meters[parent.row()].channels)
        return 0

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return len(HEADERS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if role == ROW_ROLE:
            return index.row()
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        if index.internalId() == METER:
            meter = self.meters[index.row()]
            return (f"{meter.code} — {meter.info}", meter.import_id or "", "", "")[index.column()]
        channel = self.channel_at(index)
        if role == Qt.ItemDataRole.ToolTipRole and not channel.detailed:
            return "Open the meter to read its channels' import ids."
        texts = (f"channel {channel.channel_id}", channel.import_id or "",
                 channel.observation_type or "", channel.unit or "")  # fmt: skip
        return texts[index.column()]

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        return header_text(HEADERS, section, orientation, role)

    # --- look-ups ----------------------------------------------------------------------------
    def channel_at(self, index: Index) -> ChannelInfo:
        """The channel of a channel row."""
        return self.meters[int(index.internalId()) - 1].channels[index.row()]

    def is_channel(self, index: Index) -> bool:
        """Whether `index` is a channel row."""
        return index.isValid() and index.internalId() != METER

    def meter_row(self, meter_id: int) -> int | None:
        """The row of a meter, by id."""
        return next((r for r, m in enumerate(self.meters) if m.meter_id == meter_id), None)


class MeterFilter(QSortFilterProxyModel):
    """Keeps the meters whose texts, or whose channels' texts, contain the filter text.

    The match is worked out once per text over the catalog (one pass in Python),
    not by asking the model for every cell's text.
    """

    def __init__(self, model: CatalogModel) -> None:
        super().__init__()
        self.setSourceModel(model)
        self.catalog_model = model
        self.keep: set[int] | None = None  # meter rows shown (None: all)

    def set_text(self, text: str) -> None:
        """Filter by `text` (case-insensitive; empty shows every meter)."""
        wanted = text.strip().lower()
        self.beginFilterChange()
        self.keep = None if not wanted else {
            row for row, meter in enumerate(self.catalog_model.meters)
            if wanted in _texts(meter)
        }  # fmt: skip
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        return self.keep is None or source_parent.isValid() or source_row in self.keep


def _texts(meter: MeterInfo) -> str:
    parts = [meter.code, meter.info, meter.import_id or ""]
    for c in meter.channels:
        parts += [
            f"channel {c.channel_id}",
            c.import_id or "",
            c.observation_type or "",
            c.unit or "",
        ]
    return " ".join(parts).lower()


def _with(meter: MeterInfo, channels: tuple[ChannelInfo, ...]) -> MeterInfo:
    return MeterInfo(meter.meter_id, meter.code, meter.info, meter.import_id, channels)
