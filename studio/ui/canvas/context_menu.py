"""Right-click menus on the canvas: one for a node, one for a wire, one for
empty canvas. Every entry is an edit through the undoable editor or a window
command; the menus hold nothing of their own."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint, QPointF
from PySide6.QtWidgets import QMenu

from .edge_item import EdgeItem
from .node_item import NodeItem, PortItem

if TYPE_CHECKING:
    from ..main_window import MainWindow


class CanvasMenus:
    def __init__(self, window: "MainWindow"):
        self.window = window
        self.last: QMenu | None = None  # the menu shown last, kept alive while it is open

    @property
    def view(self):
        return self.window.view

    @property
    def scene(self):
        return self.window.scene

    def menu_at(self, pos: QPoint) -> QMenu:
        """The menu for what lies under ``pos`` (a viewport position); right-clicking
        a node or wire that is not selected selects it alone, as desktop editors do."""
        at = self.view.mapToScene(pos)
        node = None
        edge = None
        for item in self.scene.items(at):
            if isinstance(item, PortItem):
                node = item.node
                break
            if isinstance(item, NodeItem):
                node = item
                break
            if isinstance(item, EdgeItem) and edge is None:
                edge = item
        if node is not None:
            if not node.isSelected():
                self.scene.select_nodes([node.node_id])
            menu = self.node_menu(node.node_id)
        elif edge is not None:
            if not edge.isSelected():
                self.scene.clearSelection()
                edge.setSelected(True)
            menu = self.wire_menu(edge, pos)
        else:
            menu = self.canvas_menu(pos, at)
        self.last = menu
        return menu

    def _menu(self, title: str) -> QMenu:
        menu = QMenu(self.view)
        menu.setObjectName(title)
        menu.setToolTipsVisible(True)
        return menu

    def node_menu(self, node_id: str) -> QMenu:
        w = self.window
        graph = w.editor.graph
        node = graph.node(node_id)
        menu = self._menu("nodeMenu")
        if node.is_group:
            menu.addAction("&Open Group", lambda: w.open_group(node_id)).setStatusTip(
                "Show its inside on the canvas (Esc goes back up)")
            uses = len(graph.library.instances(node.block))
            menu.addAction("&Ungroup", lambda: self._ungroup(node_id)).setStatusTip(
                "Put its blocks back in its place")
            unique = menu.addAction("Make &Unique", lambda: w.make_unique(node_id))
            unique.setEnabled(uses > 1)
            unique.setStatusTip(f"Give this use a copy of {node.block} of its own, so edits inside change it alone")
            menu.addAction("Rename &Block…", lambda: w.rename_block_dialog(node_id)).setStatusTip(
                f"Rename {node.block}: every use follows")
            ports = menu.addMenu("Rename &Port")
            ports.setObjectName("renamePortMenu")
            for port in [*node.input_ports(), *node.output_ports()]:
                ports.addAction(f"{port.name}…", lambda p=port.name: w.rename_port_dialog(node_id, p)).setStatusTip(
                    f"Rename the port {port.name} of {node.block} on every use, its wires following")
            menu.addSeparator()
        menu.addAction("&Rename…", lambda: w.rename_node(node_id))
        menu.addAction(w.act_duplicate)
        menu.addAction(w.act_delete)
        if len(self.scene.selected_node_ids()) > 1:
            menu.addAction(w.act_group)
        disconnect = menu.addAction("Dis&connect", lambda: w.editor.disconnect_node(node_id))
        wired = any(node_id in (e.src, e.dst) for e in graph.edges)
        disconnect.setEnabled(wired)
        disconnect.setStatusTip("Remove every wire into and out of this block")
        menu.addSeparator()
        # The doctor's fixes for this node's problems, each one undoable step.
        fixes = [(p, f) for p in self.scene.problems_by_node.get(node_id, ()) for f in p.fixes]
        for problem, fix in fixes:
            action = menu.addAction(f"Fix: {fix.title.replace('&', '&&')}", lambda f=fix: w.apply_fix(f))
            action.setStatusTip(str(problem))
            action.setToolTip(problem.message)
        if fixes:
            menu.addSeparator()
        help_action = menu.addAction(f"&Help on {node.block}", lambda: w.show_block_reference(node.block))
        help_action.setStatusTip(node.spec.doc)
        return menu

    def _ungroup(self, node_id: str) -> None:
        self.scene.select_nodes([node_id])
        self.window.ungroup_selection()

    def wire_menu(self, item: EdgeItem, pos: QPoint) -> QMenu:
        w = self.window
        edge = item.edge
        menu = self._menu("wireMenu")
        insert = menu.addAction("&Insert Block…", lambda: self.view.open_quick_search(pos, on_edge=edge))
        insert.setStatusTip("Choose a block to put between the two ends of this wire")
        menu.addAction("&Delete Wire", lambda: w.editor.delete(edges=[edge]))
        return menu

    def canvas_menu(self, pos: QPoint, at: QPointF) -> QMenu:
        w = self.window
        menu = self._menu("canvasMenu")
        menu.addAction("&Add Block…", lambda: self.view.open_quick_search(pos))
        paste = menu.addAction("&Paste", lambda: w.paste_at((at.x(), at.y())))
        paste.setEnabled(w.can_paste())
        menu.addSeparator()
        menu.addAction(w.act_layout)
        menu.addAction(w.act_frame_all)
        return menu
