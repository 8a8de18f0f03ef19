"""The scene follows the graph document: it subscribes to the graph's events
and creates, drops and updates its items. It never edits the graph itself;
user gestures go to the editor as undo commands."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from PySide6.QtCore import QPointF, Signal
from PySide6.QtGui import QTransform
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene

from studio.graph import Edge, Graph, GraphEvent, Problem

from ..document import GraphEditor
from .detail import FAR, FULL, OVERVIEW, Overview
from .edge_item import EdgeItem
from .format import shape_text
from .interactions import NewWireInteraction
from .node_item import NodeItem, PortItem

SCENE_EXTENT = 200_000.0
# The BSP index's depth: 2^16 cells of about 800 px on the 200,000 px scene. At 10 (6,000 px cells) a
# repaint or hit-test of a few nodes still asked a thousand items of a 5,000-node graph for their bounds.
BSP_DEPTH = 16
_NO_CONTENTS = QGraphicsItem.ItemHasNoContents
# Items taken off the canvas are kept, up to this many of each kind, to show other nodes and wires
# later (opening a group, undoing a grouping: making a hundred node items was most of either).
SPARE_ITEMS = 1000


@dataclass
class _Level:
    """A level of the canvas set aside while a group opened from it is shown."""

    graph: Graph
    nodes: dict
    edges: dict
    node_edges: dict
    touched: set
    unsubscribe: Callable[[], None]
    detail: str


class GraphScene(QGraphicsScene):
    refused = Signal(str)  # a wire or edit was refused; the reason
    wire_dropped = Signal(str, str, bool, QPointF)  # node, port, port is output, where

    def __init__(self, editor: GraphEditor, parent=None):
        super().__init__(parent)
        self.editor = editor
        self.nodes: dict[str, NodeItem] = {}
        self.edges: dict[Edge, EdgeItem] = {}
        self._node_edges: dict[str, set[Edge]] = {}
        # The window's problem list by node (``set_problems``); each item draws its worst.
        self.problems_by_node: dict[str, tuple[Problem, ...]] = {}
        self._problems_unknown = True
        self.snapping = True
        self.user_dragging = False
        self.interaction: NewWireInteraction | None = None
        self.last_refusal = ""
        self._unsubscribe = None
        self._bound: Graph | None = None
        self._stashed: dict[int, _Level] = {}  # levels a group was opened from, by id of their graph
        self.setSceneRect(-SCENE_EXTENT / 2, -SCENE_EXTENT / 2, SCENE_EXTENT, SCENE_EXTENT)
        # The default BSP index: a repaint or a hit-test then looks at the items
        # in view, not at every item in a 5,000-node graph.
        self.setBspTreeDepth(BSP_DEPTH)
        # The view's level of detail (detail.py), set by the view as its scale changes: the items
        # drawn for it and, zoomed far out, the overview drawn instead of them.
        self.detail = FULL
        self._bulk = False  # a whole level being made: its redraw is asked once, at the end
        self.overview = Overview()
        self.selectionChanged.connect(self._overview_changed)
        editor.graph_replaced.connect(self._bind)
        editor.shown_changed.connect(self._bind)
        editor.batch_started.connect(self._hold)
        editor.batch_finished.connect(self._catch_up)
        self._held: set[str] | None = None  # during a step of many edits: the nodes it touched
        self._spare_nodes: dict[str, list[NodeItem]] = {}  # by block: the same ports, kept
        self._spare_count = 0
        self._spare_edges: list[EdgeItem] = []
        self._bind(editor.graph)

    # ---- following the graph ------------------------------------------
    @property
    def graph(self) -> Graph:
        return self.editor.graph

    def _bind(self, graph: Graph) -> None:
        """Show ``graph``. The level a person opens a group from keeps its items aside (they note
        what changes meanwhile), so going back up is a catch-up, not a rebuild of the whole level."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        old = self._bound
        on_path = [outer for outer, _ in self.editor.path]
        if old is not None and old is not graph and any(g is old for g in on_path):
            self._stash(old)
        else:
            self._drop_level()
        for key in [k for k, level in self._stashed.items()
                    if level.graph is not graph and not any(g is level.graph for g in on_path)]:
            self._stashed.pop(key).unsubscribe()
        self._bound = graph
        self.problems_by_node = {}  # the old level's; the new one's list follows
        self._problems_unknown = True
        level = self._stashed.pop(id(graph), None)
        if level is not None and level.graph is graph:
            self._restore(level)
        else:
            self.nodes, self.edges, self._node_edges = {}, {}, {}
            self._bulk = True  # one redraw for the whole level, not one asked per item
            try:
                for node_id in graph.nodes:
                    self._add_node(node_id)
                for edge in graph.edges:
                    self._add_edge(edge)
            finally:
                self._bulk = False
        self._unsubscribe = graph.subscribe(self._on_event)
        if self.counts_own:
            self._count(graph.nodes)
        self._overview_changed()

    def _drop_level(self) -> None:
        """The level shown goes for good: its items become spares (as many as are kept), the rest
        go with the scene's other items."""
        self.cancel_interaction()
        for item in self.edges.values():
            if len(self._spare_edges) >= SPARE_ITEMS:
                break
            self.removeItem(item)
            self._spare_edges.append(item)
        for item in self.nodes.values():
            if self._spare_count >= SPARE_ITEMS:
                break
            self.removeItem(item)
            self._keep_spare(item)
        self.clear()

    def _keep_spare(self, item: NodeItem) -> None:
        if self._spare_count < SPARE_ITEMS:
            self._spare_nodes.setdefault(item.block_name, []).append(item)
            self._spare_count += 1

    def _stash(self, graph: Graph) -> None:
        touched: set[str] = set()

        def note(event: GraphEvent) -> None:
            touched.update(event.nodes or ())
            if event.edge is not None:
                touched.update((event.edge.src, event.edge.dst))

        # (its own items only: asking the scene for all of them wraps every port of the level too)
        self.cancel_interaction()
        for items in (self.edges.values(), self.nodes.values()):
            for item in items:
                self.removeItem(item)
        self._stashed[id(graph)] = _Level(graph, self.nodes, self.edges, self._node_edges, touched,
                                          graph.subscribe(note), self.detail)
        self.nodes, self.edges, self._node_edges = {}, {}, {}

    def _restore(self, level: "_Level") -> None:
        level.unsubscribe()
        self.nodes, self.edges, self._node_edges = level.nodes, level.edges, level.node_edges
        for item in self.nodes.values():
            self.addItem(item)
        for item in self.edges.values():
            self.addItem(item)
        if level.detail != self.detail:
            self._apply_detail(self.nodes.values(), self.edges.values())
        self._hold()
        self._held = set(level.touched)
        self._catch_up()

    @property
    def counts_own(self) -> bool:
        """Inside a group the scene counts its nodes' parameters itself (the window's counter
        counts the document's)."""
        return self.editor.graph is not self.editor.document

    def _count(self, node_ids) -> None:
        graph = self.graph
        self.set_param_counts({n: graph.param_count(n) for n in node_ids if n in graph})

    def _hold(self) -> None:
        self._held = set()
        self.blockSignals(True)  # one selection change at the end, not one per node removed

    def _catch_up(self) -> None:
        """The step of many edits is done: make the items agree with the graph in one pass."""
        touched, self._held = self._held or set(), None
        graph = self.graph
        try:
            wires = set(graph.edges)
            for edge in [e for e in self.edges if e not in wires or e.src in touched or e.dst in touched]:
                self._remove_edge(edge)
            for node_id in [n for n in self.nodes if n not in graph.nodes]:
                self._remove_node(node_id)
            added = [n for n in graph.nodes if n not in self.nodes]
            for node_id in added:
                self._add_node(node_id)
            for node_id in touched - set(added):
                if node_id in self.nodes:
                    item = self.nodes[node_id]
                    x, y = graph.node(node_id).position
                    if (item.pos().x(), item.pos().y()) != (x, y):
                        item.setPos(x, y)
                    item.refresh()
            for edge in graph.edges:
                if edge not in self.edges:
                    self._add_edge(edge)
            for item in self.nodes.values():
                if item.is_group:
                    item.refresh_uses()
            if self.counts_own:
                self._count(touched | set(added))
        finally:
            self.blockSignals(False)
        self._overview_changed()
        self.selectionChanged.emit()

    def _on_event(self, event: GraphEvent) -> None:
        kind = event.kind
        if self._held is not None:
            self._held.update(event.nodes or ())
            if event.edge is not None:
                self._held.update((event.edge.src, event.edge.dst))
            return
        if kind == "node_added":
            self._add_node(event.nodes[0])
            self._refresh_uses(event.nodes[0])
        elif kind == "node_removed":
            self._remove_node(event.nodes[0])
            self._refresh_uses(None)
        elif kind == "edge_added":
            self._add_edge(event.edge)
        elif kind == "edge_removed":
            self._remove_edge(event.edge)
        elif kind in ("params_changed", "label_changed"):
            self._refresh_node(event.nodes[0])
        elif kind == "node_moved":
            item = self.nodes[event.nodes[0]]
            x, y = self.graph.node(event.nodes[0]).position
            if (item.pos().x(), item.pos().y()) != (x, y):
                item.setPos(x, y)
        elif kind in ("shapes_changed", "definition_changed"):
            for node_id in event.nodes:
                if node_id in self.nodes:
                    self._refresh_node(node_id)
        if self.counts_own and kind in ("node_added", "params_changed", "shapes_changed", "definition_changed"):
            self._count(event.nodes)

    def _refresh_uses(self, node_id: str | None) -> None:
        """A group node came or went: the other uses of definitions show their counts anew."""
        if node_id is not None and not self.graph.node(node_id).is_group:
            return
        for item in self.nodes.values():
            if item.is_group:
                item.refresh_uses()

    def _add_node(self, node_id: str) -> None:
        spares = self._spare_nodes.get(self.graph.node(node_id).block)
        if spares:
            item = spares.pop()
            self._spare_count -= 1
            item.retarget(self.graph, node_id)
            self._apply_detail((item,), ())
        else:
            item = NodeItem(self.graph, node_id)
            if self.detail != FULL:
                self._apply_detail((item,), ())
        x, y = self.graph.node(node_id).position
        item.setPos(x, y)
        self.nodes[node_id] = item
        self._node_edges[node_id] = set()
        self.addItem(item)
        self._overview_changed()

    def _remove_node(self, node_id: str) -> None:
        item = self.nodes.pop(node_id)
        for edge in list(self._node_edges.pop(node_id, ())):
            self._remove_edge(edge)
        self.removeItem(item)
        self._keep_spare(item)
        self._overview_changed()

    def _refresh_node(self, node_id: str) -> None:
        """This node's item and its wires follow the model; no other item is touched."""
        item = self.nodes[node_id]
        item.refresh()
        for edge in self._node_edges[node_id]:
            edge_item = self.edges[edge]
            if edge.src == node_id:
                edge_item.set_label(shape_text(self.graph.shapes.output(edge.src, edge.src_port)))
            edge_item.update_path()
        self._overview_changed()

    def _add_edge(self, edge: Edge) -> None:
        src = self.nodes[edge.src].outputs[edge.src_port]
        dst = self.nodes[edge.dst].inputs[edge.dst_port]
        label = shape_text(self.graph.shapes.output(edge.src, edge.src_port))
        if self._spare_edges:
            item = self._spare_edges.pop()
            item.retarget(edge, src, dst, label)
            item.setFlag(_NO_CONTENTS, self.detail != FULL)
        else:
            item = EdgeItem(edge, src, dst, label)
            if self.detail != FULL:
                item.setFlag(_NO_CONTENTS, True)
        self.edges[edge] = item
        self._node_edges[edge.src].add(edge)
        self._node_edges[edge.dst].add(edge)
        self.addItem(item)
        self._overview_changed()

    def _remove_edge(self, edge: Edge) -> None:
        item = self.edges.pop(edge, None)
        if item is None:
            return
        for node_id in (edge.src, edge.dst):
            self._node_edges.get(node_id, set()).discard(edge)
        self.removeItem(item)
        if len(self._spare_edges) < SPARE_ITEMS:
            self._spare_edges.append(item)
        self._overview_changed()

    def node_item_moved(self, item: NodeItem) -> None:
        for edge in self._node_edges.get(item.node_id, ()):
            self.edges[edge].update_path()
        self._overview_changed()

    def set_problems(self, by_node: dict[str, tuple[Problem, ...]]) -> None:
        """Give each node its problems; only the items whose problems changed are touched."""
        old, self.problems_by_node = self.problems_by_node, dict(by_node)
        # after a change of level the items may hold another list's problems: each is asked once
        names = self.nodes if self._problems_unknown else set(old) | set(by_node)
        self._problems_unknown = False
        changed = False
        for node_id in names:
            item = self.nodes.get(node_id)
            problems = by_node.get(node_id, ())
            if item is not None and item.problems != problems:
                item.set_problems(problems)
                changed = True
        if changed:
            self._overview_changed()

    # ---- level of detail -------------------------------------------------
    def set_detail(self, detail: str) -> None:
        """The view's level of detail (detail.py) changed: zoomed out, ports and wires stop painting
        (the wires are drawn at once, under the nodes); further out, nodes stop painting too and
        the overview draws them all at once."""
        if detail == self.detail:
            return
        parts_changed = (detail == FULL) != (self.detail == FULL)
        self.detail = detail
        self._apply_detail(self.nodes.values(), self.edges.values(), parts=parts_changed)
        self.overview.dirty = True
        self._redraw_background()
        self.update()

    def _apply_detail(self, nodes, edges, parts: bool = True) -> None:
        """The items' flags for the level of detail; ``parts``: the ports' and wires' too (only
        the nodes' change between ``FAR`` and ``OVERVIEW``)."""
        parts_off = self.detail != FULL
        boxes_off = self.detail == OVERVIEW
        for item in nodes:
            if bool(item.flags() & _NO_CONTENTS) != boxes_off:
                item.setFlag(_NO_CONTENTS, boxes_off)
            if parts:
                for ports in (item.inputs, item.outputs):
                    for port in ports.values():
                        port.setFlag(_NO_CONTENTS, parts_off)
        if parts:
            for item in edges:
                item.setFlag(_NO_CONTENTS, parts_off)

    def _overview_changed(self) -> None:
        # Items that paint nothing ask for no repaint of their own: what draws them in their stead
        # asks, once until it has drawn again.
        was = self.overview.dirty
        self.overview.dirty = True
        if self._bulk:
            return
        if self.detail == OVERVIEW:
            self.update()
        elif self.detail == FAR and not was:
            self._redraw_background()

    def _redraw_background(self) -> None:
        """The views' cached background (where the wires are when zoomed out) drawn again, in view:
        the whole scene's rectangle would have the grid drawn over 200,000 px."""
        for view in self.views():
            seen = view.mapToScene(view.viewport().rect()).boundingRect().adjusted(-2, -2, 2, 2)
            self.invalidate(seen, QGraphicsScene.BackgroundLayer)

    def wires_changed(self) -> None:
        """A wire's look changed outside the graph (a run's gradients colour it)."""
        self._overview_changed()

    def draw_wires(self, painter) -> None:
        """Zoomed out (``FAR``), every wire, straight, from one path: the view draws them with its
        background, under the nodes."""
        if self.detail == FAR:
            if self.overview.needs(boxes=False):
                self.overview.build(self.nodes.values(), self.edges.values(), boxes=False)
            self.overview.paint_wires(painter)

    def drawForeground(self, painter, rect) -> None:
        if self.detail == OVERVIEW:
            if self.overview.needs(boxes=True):
                self.overview.build(self.nodes.values(), self.edges.values(), boxes=True)
            self.overview.paint(painter)

    def set_param_counts(self, counts: dict[str, int | None]) -> None:
        for node_id, count in counts.items():
            item = self.nodes.get(node_id)
            if item is not None:
                item.set_param_count(count)

    # ---- looking things up ---------------------------------------------
    def port_at(self, pos: QPointF, exclude: PortItem | None = None) -> PortItem | None:
        for item in self.items(pos):
            if isinstance(item, PortItem) and item is not exclude:
                return item
        return None

    def node_at(self, pos: QPointF) -> NodeItem | None:
        for item in self.items(pos):
            if isinstance(item, NodeItem):
                return item
            if isinstance(item, PortItem):
                return item.node
        return None

    def selected_node_ids(self) -> list[str]:
        return [i.node_id for i in self.selectedItems() if isinstance(i, NodeItem)]

    def selected_edges(self) -> list[Edge]:
        return [i.edge for i in self.selectedItems() if isinstance(i, EdgeItem)]

    def select_nodes(self, node_ids) -> None:
        """Select exactly these nodes, with one selection change (not one per node)."""
        wanted = set(node_ids)
        before = set(self.selectedItems())
        blocked = self.blockSignals(True)
        try:
            self.clearSelection()
            for node_id in wanted:
                if node_id in self.nodes:
                    self.nodes[node_id].setSelected(True)
        finally:
            self.blockSignals(blocked)
        if not blocked and set(self.selectedItems()) != before:
            self.selectionChanged.emit()

    def refuse(self, reason: str) -> None:
        self.last_refusal = reason
        self.refused.emit(reason)

    # ---- mouse: hand the gesture to an interaction ----------------------
    def mousePressEvent(self, event) -> None:
        from PySide6.QtCore import Qt

        if event.button() == Qt.LeftButton:
            port = self.port_at(event.scenePos())
            if port is not None:
                self.interaction = NewWireInteraction(self, port)
                event.accept()
                return
            self.user_dragging = self.node_at(event.scenePos()) is not None
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if self.interaction is not None:
            self.interaction.move(event.scenePos())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if self.interaction is not None:
            interaction, self.interaction = self.interaction, None
            interaction.release(event.scenePos())
            event.accept()
            return
        super().mouseReleaseEvent(event)
        if self.user_dragging:
            self.user_dragging = False
            self.commit_moves()

    def commit_moves(self) -> bool:
        """Push one move command for every node the user dragged away from its model position."""
        moved = {}
        for node_id in self.selected_node_ids():
            item = self.nodes[node_id]
            pos = (item.pos().x(), item.pos().y())
            if pos != self.graph.node(node_id).position:
                moved[node_id] = pos
        return self.editor.move(moved)

    def cancel_interaction(self) -> None:
        if self.interaction is not None:
            self.interaction.cancel()
            self.interaction = None

    def view_transform(self) -> QTransform:
        views = self.views()
        return views[0].transform() if views else QTransform()
