"""Verdigris channel picker: the account's buildings and circuits in a checkable tree.

Buildings, panels and breakers check or clear all their circuits at once
(tri-state); a filter box narrows the tree by name or id. Only the checked
circuits are pulled (the job's ``circuits``).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QTreeWidgetItemIterator,
    QVBoxLayout,
    QWidget,
)

from connectors.verdigris.listing import Node

NODE_ROLE = Qt.ItemDataRole.UserRole


class ChannelPicker(QWidget):
    """A checkable, filterable tree of Verdigris buildings → panels → breakers → circuits."""

    changed = Signal()  # the checked circuits changed

    def __init__(self) -> None:
        super().__init__()
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter by building, panel, circuit name or id")
        self.filter.setAccessibleName("Filter Verdigris channels")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self.apply_filter)
        caption = QLabel("&Filter:")
        caption.setBuddy(self.filter)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Building / panel / breaker / circuit", "Id"])
        self.tree.setAccessibleName("Verdigris buildings and circuits")
        self.tree.setAccessibleDescription("Space checks or clears the current row.")
        self.tree.itemChanged.connect(self._on_tree_changed)
        self.check_shown = QPushButton("Check all &shown")
        self.check_shown.setAccessibleName("Check all shown circuits")
        self.check_shown.clicked.connect(lambda _c=False: self.set_shown(True))
        self.clear = QPushButton("C&lear")
        self.clear.setAccessibleName("Clear the chosen circuits")
        self.clear.clicked.connect(lambda _c=False: self.set_shown(False, everything=True))
        self.summary = QLabel("")
        self.summary.setAccessibleName("Chosen circuits")
        top = QHBoxLayout()
        top.addWidget(caption)
        top.addWidget(self.filter, 1)
        bottom = QHBoxLayout()
        for widget in (self.check_shown, self.clear, self.summary):
            bottom.addWidget(widget)
        bottom.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.tree, 1)
        layout.addLayout(bottom)

    # --- filling ---------------------------------------------------------------------------
    def set_buildings(self, buildings: list[Node], checked: set[str]) -> None:
        """Show `buildings`; circuits whose id is in `checked` start checked."""
        self.tree.blockSignals(True)
        self.tree.clear()
        for building in buildings:
            self.tree.addTopLevelItem(self._item(building, checked))
        self.tree.expandAll()
        self.tree.resizeColumnToContents(0)
        self.tree.blockSignals(False)
        if self.tree.topLevelItemCount():
            self.tree.setCurrentItem(self.tree.topLevelItem(0))
        self.apply_filter()
        self._on_tree_changed()

    def _item(self, node: Node, checked: set[str]) -> QTreeWidgetItem:
        zone = f" ({node.timezone})" if node.timezone else ""
        item = QTreeWidgetItem([f"{node.kind.title()}: {node.name}{zone}", node.id])
        item.setData(0, NODE_ROLE, (node.kind, node.id, node.timezone))
        flags = item.flags() | Qt.ItemFlag.ItemIsUserCheckable
        if node.kind == "circuit":
            state = Qt.CheckState.Checked if node.id in checked else Qt.CheckState.Unchecked
            item.setFlags(flags)
            item.setCheckState(0, state)
            return item
        item.setFlags(flags | Qt.ItemFlag.ItemIsAutoTristate)
        for child in node.children:
            item.addChild(self._item(child, checked))
        if not item.childCount():
            item.setCheckState(0, Qt.CheckState.Unchecked)
        return item

    # --- reading -----------------------------------------------------------------------------
    def _circuit_items(self) -> list[QTreeWidgetItem]:
        found = []
        iterator = QTreeWidgetItemIterator(self.tree)
        while iterator.value():
            item = iterator.value()
            if item.data(0, NODE_ROLE)[0] == "circuit":
                found.append(item)
            iterator += 1
        return found

    def checked_circuits(self) -> list[str]:
        """The ids of the checked circuits, in tree order, each once."""
        items = self._circuit_items()
        ids = [i.data(0, NODE_ROLE)[1] for i in items if i.checkState(0) == Qt.CheckState.Checked]
        return list(dict.fromkeys(ids))

    def zone_of_checked(self) -> str:
        """The time zone of the building holding every checked circuit ("" if several)."""
        zones = set()
        for number in range(self.tree.topLevelItemCount()):
            building = self.tree.topLevelItem(number)
            if building.checkState(0) != Qt.CheckState.Unchecked:
                zones.add(building.data(0, NODE_ROLE)[2] or "")
        return zones.pop() if len(zones) == 1 else ""

    def _on_tree_changed(self, *_: object) -> None:
        total = len({i.data(0, NODE_ROLE)[1] for i in self._circuit_items()})
        self.summary.setText(f"{len(self.checked_circuits())} of {total} circuits chosen")
        self.changed.emit()

    # --- filter and bulk ---------------------------------------------------------------------
    def apply_filter(self) -> None:
        """Show only rows matching the filter, with the rows above them."""
        wanted = self.filter.text().strip().lower()
        for number in range(self.tree.topLevelItemCount()):
            self._filter(self.tree.topLevelItem(number), wanted, False)

    def _filter(self, item: QTreeWidgetItem, wanted: str, parent_matches: bool) -> bool:
        text = f"{item.text(0)} {item.text(1)}".lower()
        matches = parent_matches or not wanted or wanted in text
        shown = False
        for number in range(item.childCount()):
            shown |= self._filter(item.child(number), wanted, matches)
        visible = matches or shown
        if item.isHidden() == visible:  # only when it changes: each Qt call has a cost
            item.setHidden(not visible)
        return visible

    def set_shown(self, checked: bool, everything: bool = False) -> None:
        """Check (or clear) the circuits the filter shows (`everything`: all circuits)."""
        state = Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked
        for item in self._circuit_items():
            if everything or not item.isHidden():
                item.setCheckState(0, state)
