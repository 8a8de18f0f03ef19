"""The block palette: the library grouped by category, a search box, the
block's doc on hover, and drag-and-drop onto the canvas.

"My blocks", at the top, lists the open document's own block definitions
(groups saved as blocks), following its library live: each entry says how
many times the document uses it, and its tooltip its parameters and count."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QEvent, QMimeData, Qt, QTimer, Signal
from PySide6.QtGui import QDrag
from PySide6.QtWidgets import QLineEdit, QMenu, QToolTip, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

import blocks
from studio.graph.groups import CATEGORY as MY_BLOCKS

from . import icons
from .block_search import matches, tooltip

BLOCK_MIME = "application/x-studio-block"
# Beside BLOCK_MIME when the block is one of the document's own definitions ("My blocks"): the
# drop adds it through the graph's library, which knows it.
DEFINITION_MIME = "application/x-studio-definition"
ROLE_BLOCK = Qt.UserRole + 1


def block_mime_data(name: str, definition: bool = False) -> QMimeData:
    """What a palette drag carries: the block's registry name (or its definition's name)."""
    mime = QMimeData()
    mime.setData(BLOCK_MIME, name.encode())
    if definition:
        mime.setData(DEFINITION_MIME, name.encode())
    mime.setText(name)
    return mime


def block_from_mime(mime: QMimeData, library=None) -> str | None:
    """The block a drag carries, or None. A definition counts only when ``library`` (the graph
    dropped on) has it: a drag from another window's "My blocks" names a block this one lacks."""
    if mime.hasFormat(BLOCK_MIME):
        name = bytes(mime.data(BLOCK_MIME)).decode()
        if blocks.exists(name):
            return name
        if mime.hasFormat(DEFINITION_MIME) and bytes(mime.data(DEFINITION_MIME)).decode() == name:
            return name if library is None or name in library.definitions else None
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
        return block_mime_data(names[0], not blocks.exists(names[0])) if names else QMimeData()

    def startDrag(self, actions) -> None:
        item = self.currentItem()
        name = item.data(0, ROLE_BLOCK) if item is not None else None
        if not name:
            return
        mime = block_mime_data(name, definition=not blocks.exists(name))
        self.last_drag_mime = mime
        drag = QDrag(self)
        drag.setMimeData(mime)
        drag.setPixmap(item.icon(0).pixmap(24, 24))
        drag.exec(Qt.CopyAction)

    def viewportEvent(self, event) -> bool:
        # A "My blocks" entry's tooltip is written when it is asked for: its parameter count
        # comes from the definition's inside, which changes with every edit there.
        if event.type() == QEvent.ToolTip:
            item = self.itemAt(event.pos())
            palette = self.parent()
            if item is not None and isinstance(palette, PaletteWidget) and item.data(0, ROLE_BLOCK) in palette._defs:
                QToolTip.showText(event.globalPos(), palette.definition_tooltip(item.data(0, ROLE_BLOCK)), self)
                return True
        return super().viewportEvent(event)


class PaletteWidget(QWidget):
    block_activated = Signal(str)  # double-click or Enter: add at the canvas centre

    def __init__(self, editor=None, parent=None):
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
        self._defs: dict[str, QTreeWidgetItem] = {}  # "My blocks": the document's definitions
        self.my_blocks = self._category(MY_BLOCKS)
        self.my_blocks.setToolTip(0, "Groups of this graph saved as blocks: drag one in to use it again. "
                                     "An edit inside one changes every use.")
        self.library = None
        self.graph = None
        self.editor = editor
        self.tree.setContextMenuPolicy(Qt.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        self.shown = None  # the graph on the canvas: the document, or a definition's inside
        self._unsubscribe: list = []
        # Library and graph events come in bursts (an undo of a grouping is several): one refresh after them.
        self._refresh_timer = QTimer(self, singleShot=True, interval=0, timeout=self.refresh_my_blocks)
        self._populate()
        self.search.textChanged.connect(self.filter)
        self.search.returnPressed.connect(self._activate_first)
        self.tree.itemActivated.connect(self._on_activated)
        if editor is not None:
            self.set_graph(getattr(editor, "document", editor.graph))
            editor.graph_replaced.connect(self.set_graph)
            shown_changed = getattr(editor, "shown_changed", None)  # a group opened or left
            if shown_changed is not None:
                shown_changed.connect(self.set_shown)

    def _category(self, name: str) -> QTreeWidgetItem:
        parent = QTreeWidgetItem(self.tree, [name])
        parent.setIcon(0, icons.category_icon(name))
        parent.setFlags(Qt.ItemIsEnabled)
        font = parent.font(0)
        font.setBold(True)
        parent.setFont(0, font)
        self._categories[name] = parent
        return parent

    def _populate(self) -> None:
        for spec in blocks.all_blocks():
            parent = self._categories.get(spec.category) or self._category(spec.category)
            item = QTreeWidgetItem(parent, [spec.name])
            item.setData(0, ROLE_BLOCK, spec.name)
            item.setToolTip(0, tooltip(spec))
            item.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable | Qt.ItemIsDragEnabled)
            self._items[spec.name] = item
        self.tree.expandAll()
        self.my_blocks.setHidden(True)

    # ---- "My blocks": the document's definitions --------------------------
    def set_graph(self, graph) -> None:
        """Follow ``graph``'s library (a new document: New, Open)."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self.graph = graph
        self.shown = graph
        self.library = graph.library
        self._unsubscribe = [self.library.subscribe(self._on_library),
                             graph.subscribe(self._on_graph)]
        self.refresh_my_blocks()

    def set_shown(self, graph) -> None:
        """The canvas shows ``graph`` now: inside a definition, the blocks that would contain
        themselves there cannot be dragged in."""
        self.shown = graph
        self.refresh_my_blocks()

    def _blocked(self, name: str) -> str | None:
        """Why ``name`` cannot be used in the graph shown, or None."""
        owner = self.library.owner(self.shown) if self.shown is not None else None
        if owner is None:
            return None
        path = [owner.name] if name == owner.name else self.library.contains(name, owner.name)
        if path:
            trail = " > ".join([owner.name, *path] if name != owner.name else [owner.name, owner.name])
            return f"{name} cannot go inside {owner.name}: a block would contain itself ({trail})"
        return None

    def _on_library(self, kind: str, name: str) -> None:
        self._refresh_timer.start()

    def _on_graph(self, event) -> None:
        if event.kind in ("node_added", "node_removed"):  # a use more or less
            self._refresh_timer.start()

    def refresh_my_blocks(self) -> None:
        self._refresh_timer.stop()
        names = list(self.library.definitions) if self.library is not None else []
        for name in [n for n in self._defs if n not in names]:
            item = self._defs.pop(name)
            self.my_blocks.removeChild(item)
        for index, name in enumerate(names):
            item = self._defs.get(name)
            if item is None:
                item = QTreeWidgetItem([name])
                item.setData(0, ROLE_BLOCK, name)
                item.setIcon(0, icons.category_icon(MY_BLOCKS))
                item.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable | Qt.ItemIsDragEnabled)
                self._defs[name] = item
            if self.my_blocks.indexOfChild(item) != index:
                if self.my_blocks.indexOfChild(item) >= 0:
                    self.my_blocks.removeChild(item)
                self.my_blocks.insertChild(index, item)
            uses = self.uses(name)
            item.setText(0, f"{name}  ×{uses}")  # short: the palette is narrow; the tooltip says it in words
            blocked = self._blocked(name)
            item.setFlags(Qt.ItemIsSelectable | (Qt.NoItemFlags if blocked else Qt.ItemIsEnabled | Qt.ItemIsDragEnabled))
            item.setData(0, Qt.UserRole + 2, blocked)
        self.my_blocks.setExpanded(True)
        self.filter(self.search.text())

    def uses(self, name: str) -> int:
        return len(self.library.instances(name)) if self.library is not None else 0

    def definition_tooltip(self, name: str) -> str:
        definition = self.library.get(name)
        if definition is None:
            return ""
        uses = self.uses(name)
        inside = sum(1 for n in definition.graph.nodes.values() if not n.spec.is_input)
        about = f"{inside} block{'s' * (inside != 1)} inside; used {uses} time{'s' * (uses != 1)} in this graph"
        if definition.description:
            about = f"{definition.description}<br>{about}"
        rows = [tooltip(replace(definition.spec, doc=about))]
        blocked = self._blocked(name)
        if blocked:
            rows.append(f"<i>{blocked}</i>")
        count, where = self._param_count(definition)
        if count is not None:
            rows.append(f"{count:,} parameters {f'in {where}, its first use' if where else 'per use'}")
        return "<br>".join(rows)

    def _param_count(self, definition) -> tuple[int | None, str | None]:
        """The parameters of its first use (they depend on the shapes wired in and the values set),
        or of its inside as defined when it has no use."""
        uses = self.library.instances(definition.name)
        if uses:
            graph, node_id = uses[0]
            return graph.param_count(node_id), node_id
        given = {n: definition.graph.shapes.output(n) for n in definition.inputs}
        if any(s is None for s in given.values()):
            return None, None
        try:
            return definition.param_count(given, {}), None
        except Exception:  # an inside at fault has no count; the canvas shows why
            return None, None

    def block_menu(self, name: str) -> QMenu:
        """A "My blocks" entry's menu: export it, or take it out of the graph when nothing uses it."""
        from .block_library import export_blocks

        menu = QMenu(self)
        menu.addAction(f"Export {name}…", lambda: export_blocks(self.window(), [name]))
        uses = self.uses(name)
        remove = menu.addAction(f"Remove {name}" if not uses else f"Remove {name} (used {uses} time{'s' * (uses != 1)})",
                                lambda: self._remove(name))
        remove.setEnabled(uses == 0 and self.editor is not None)
        return menu

    def _remove(self, name: str) -> None:
        from .block_library import remove_block

        reason = remove_block(self.editor, name)
        if reason and hasattr(self.window(), "statusBar"):
            self.window().statusBar().showMessage(f"Refused: {reason}", 8000)

    def _context_menu(self, pos) -> None:
        item = self.tree.itemAt(pos)
        name = item.data(0, ROLE_BLOCK) if item is not None else None
        if name in self._defs:
            self.block_menu(name).popup(self.tree.viewport().mapToGlobal(pos))

    # ---- looking up and filtering --------------------------------------------
    def item(self, name: str) -> QTreeWidgetItem:
        return self._defs[name] if name in self._defs else self._items[name]

    def visible_blocks(self) -> list[str]:
        return [n for n, i in (*self._defs.items(), *self._items.items()) if not i.isHidden()]

    def filter(self, text: str) -> None:
        for name, item in self._items.items():
            item.setHidden(not matches(blocks.get(name), text))
        for name, item in self._defs.items():
            definition = self.library.get(name) if self.library is not None else None
            item.setHidden(definition is None or not matches(definition.spec, text))
        for cat in self._categories.values():
            cat.setHidden(all(cat.child(i).isHidden() for i in range(cat.childCount())))

    def _activate_first(self) -> None:
        visible = [n for n in self.visible_blocks() if self.item(n).flags() & Qt.ItemIsEnabled]
        if visible:
            self.block_activated.emit(visible[0])

    def _on_activated(self, item: QTreeWidgetItem, column: int) -> None:
        name = item.data(0, ROLE_BLOCK)
        if name:
            self.block_activated.emit(name)
