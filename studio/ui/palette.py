"""The block palette: the library grouped by category, a search box, the
block's doc on hover, and drag-and-drop onto the canvas."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QDrag
from PySide6.QtWidgets import QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

import blocks

from . import icons
from .block_search import matches, tooltip

BLOCK_MIME = "application/x-studio-block"
ROLE_BLOCK = Qt.UserRole + 1


def block_mime_data(name: str) -> QMimeData:
    """What a palette drag carries: the block's registry name."""
    mime = QMimeData()
    mime.setData(BLOCK_MIME, name.encode())
    mime.setText(name)
    return mime


def block_from_mime(mime: QMimeData) -> str | None:
    if mime.hasFormat(BLOCK_MIME):
        name = bytes(mime.data(BLOCK_MIME)).decode()
        return name if blocks.exists(name) else None
    return None


class BlockTree(QTreeWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setHeaderHidden(True)
        self.setDragEnabled(True)
        self.setDragDropMode(QTreeWidget.DragOnly)
        self.setIndentation(12)
        self.setUniformRowHeights(True)
        self.last_drag_mime: QMimeData | None = None

    def mimeTypes(self) -> list[str]:
        return [BLOCK_MIME, "text/plain"]

    def mimeData(self, items) -> QMimeData:
        names = [i.data(0, ROLE_BLOCK) for i in items if i.data(0, ROLE_BLOCK)]
        return block_mime_data(names[0]) if names else QMimeData()

    def startDrag(self, actions) -> None:
        item = self.currentItem()
        name = item.data(0, ROLE_BLOCK) if item is not None else None
        if not name:
            return
        mime = block_mime_data(name)
        self.last_drag_mime = mime
        drag = QDrag(self)
        drag.setMimeData(mime)
        drag.setPixmap(item.icon(0).pixmap(24, 24))
        drag.exec(Qt.CopyAction)


class PaletteWidget(QWidget):
    block_activated = Signal(str)  # double-click or Enter: add at the canvas centre

    def __init__(self, parent=None):
        super().__init__(parent)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search blocks…")
        self.search.setClearButtonEnabled(True)
        self.tree = BlockTree(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        self._items: dict[str, QTreeWidgetItem] = {}
        self._categories: dict[str, QTreeWidgetItem] = {}
        self._populate()
        self.search.textChanged.connect(self.filter)
        self.search.returnPressed.connect(self._activate_first)
        self.tree.itemActivated.connect(self._on_activated)

    def _populate(self) -> None:
        for spec in blocks.all_blocks():
            parent = self._categories.get(spec.category)
            if parent is None:
                parent = QTreeWidgetItem(self.tree, [spec.category])
                parent.setIcon(0, icons.category_icon(spec.category))
                parent.setFlags(Qt.ItemIsEnabled)
                font = parent.font(0)
                font.setBold(True)
                parent.setFont(0, font)
                self._categories[spec.category] = parent
            item = QTreeWidgetItem(parent, [spec.name])
            item.setData(0, ROLE_BLOCK, spec.name)
            item.setToolTip(0, tooltip(spec))
            item.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable | Qt.ItemIsDragEnabled)
            self._items[spec.name] = item
        self.tree.expandAll()

    def item(self, name: str) -> QTreeWidgetItem:
        return self._items[name]

    def visible_blocks(self) -> list[str]:
        return [n for n, i in self._items.items() if not i.isHidden()]

    def filter(self, text: str) -> None:
        for name, item in self._items.items():
            item.setHidden(not matches(blocks.get(name), text))
        for cat in self._categories.values():
            cat.setHidden(all(cat.child(i).isHidden() for i in range(cat.childCount())))

    def _activate_first(self) -> None:
        visible = self.visible_blocks()
        if visible:
            self.block_activated.emit(visible[0])

    def _on_activated(self, item: QTreeWidgetItem, column: int) -> None:
        name = item.data(0, ROLE_BLOCK)
        if name:
            self.block_activated.emit(name)
