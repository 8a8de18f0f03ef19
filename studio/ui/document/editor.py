"""The editor: every user action becomes exactly one undo step.

Views call these methods; each builds commands that change only the graph
document and pushes them on the undo stack. Refusals (a bad parameter, a
wire that would make a cycle) come back as messages and push nothing.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterable, Mapping

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from blocks import ParamError
from studio.graph import ConnectionRefused, Edge, Graph, GraphEvent
from studio.graph import groups
from studio.graph.fixes import Fix

from . import clipboard, layout
from .commands import (
    AddNodeCommand, ConnectCommand, DisconnectCommand, FixCommand, JournalCommand, MacroCommand, MoveNodesCommand,
    RemoveNodeCommand, SetLabelCommand, SetParamsCommand,
)

PASTE_OFFSET = (40.0, 40.0)


class GraphEditor(QObject):
    """``document`` is the top graph (what is saved, checked and trained); ``graph`` is the one
    shown and edited: the document, or the inside of a group the person has opened. Every
    edit below acts on ``graph``; all share one undo stack (each command holds its graph)."""

    graph_replaced = Signal(object)  # the new document (New, Open)
    shown_changed = Signal(object)  # the graph shown now (a group opened or left)
    # Around a step of many edits (group, ungroup and their undo): views may follow the
    # step once, at its end, instead of each of its hundreds of events.
    batch_started = Signal()
    batch_finished = Signal()

    def __init__(self, graph: Graph | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.document = graph if graph is not None else Graph()
        self.graph = self.document
        # The groups opened, outermost first: (the graph holding the group node, its id).
        self.path: list[tuple[Graph, str]] = []
        self._follow: list = []  # unsubscribers of the outer graphs' listeners
        self._batch_depth = 0
        self.undo_stack = QUndoStack(self)
        self.undo_stack.indexChanged.connect(lambda _i: self._check_path())

    def set_graph(self, graph: Graph) -> None:
        """A new document (New, Open): history starts afresh."""
        self._set_path([], emit=False)
        self.undo_stack.clear()
        self.document = graph
        self.graph = graph
        self.undo_stack.setClean()
        self.graph_replaced.emit(graph)

    # ---- groups: opening and leaving -----------------------------------
    @property
    def definition(self) -> "groups.Definition | None":
        """The definition whose inside is shown, or None at the top."""
        if not self.path:
            return None
        outer, node_id = self.path[-1]
        return self.document.library.get(outer.node(node_id).block)

    def can_enter(self, node_id: str) -> bool:
        return node_id in self.graph and self.graph.node(node_id).is_group

    def enter(self, node_id: str) -> bool:
        """Show the inside of the group node ``node_id`` (of the graph shown), with this
        instance's input shapes and parameter values put in."""
        if not self.can_enter(node_id):
            return False
        self._set_path(self.path + [(self.graph, node_id)])
        return True

    def leave(self, depth: int | None = None) -> bool:
        """Go back up: one level, or to ``depth`` groups deep (0 is the document)."""
        depth = len(self.path) - 1 if depth is None else depth
        if depth < 0 or depth >= len(self.path):
            return False
        self._set_path(self.path[:depth])
        return True

    def _set_path(self, path: list[tuple[Graph, str]], emit: bool = True) -> None:
        for unsubscribe in self._follow:
            unsubscribe()
        self._follow = []
        self.path = list(path)
        for depth, (outer, node_id) in enumerate(self.path):
            self._place(depth)
            self._follow.append(outer.subscribe(lambda event, d=depth: self._outer_event(d, event)))
        shown = self.document if not self.path else self._inner(len(self.path) - 1)
        changed = shown is not self.graph
        self.graph = shown
        if emit and changed:
            self.shown_changed.emit(shown)

    def _inner(self, depth: int) -> Graph:
        outer, node_id = self.path[depth]
        return self.document.library.get(outer.node(node_id).block).graph

    def _place(self, depth: int) -> None:
        """Put the instance at ``depth``'s shapes and values in its definition's graph."""
        outer, node_id = self.path[depth]
        node = outer.node(node_id)
        definition = self.document.library.get(node.block)
        if definition is None:
            return
        given = {p: s for p, s in outer.shapes.inputs(node_id).items() if s is not None}
        definition.graph.place_instance(given, definition.bindings(node.params))

    def _outer_event(self, depth: int, event: GraphEvent) -> None:
        # Shapes inside follow the wires outside, live; a group that went (undo) is left.
        if depth >= len(self.path):
            return
        outer, node_id = self.path[depth]
        if event.kind == "node_removed" and node_id in event.nodes:
            return  # left once the step is done (``_check_path``)
        if event.kind in ("shapes_changed", "params_changed", "definition_changed", "edge_added",
                          "edge_removed") and (node_id in (event.nodes or ()) or event.edge is not None
                                               and event.edge.dst == node_id):
            if self._valid(depth):
                self._place(depth)

    def _valid(self, depth: int) -> bool:
        graph = self.document
        for d, (outer, node_id) in enumerate(self.path[:depth + 1]):
            if outer is not graph or node_id not in outer or not outer.node(node_id).is_group:
                return False
            definition = self.document.library.get(outer.node(node_id).block)
            if definition is None:
                return False
            graph = definition.graph
        return True

    def _check_path(self) -> None:
        """After an undo or redo: leave the groups that are no longer there."""
        keep = len(self.path)
        while keep and not self._valid(keep - 1):
            keep -= 1
        if keep != len(self.path):
            self._set_path(self.path[:keep])

    def instances_shown(self) -> int:
        """How many uses the definition shown has (an edit inside changes them all)."""
        d = self.definition
        return len(self.document.library.instances(d.name)) if d is not None else 0

    @contextmanager
    def batch(self):
        self._batch_depth += 1
        if self._batch_depth == 1:
            self.batch_started.emit()
        try:
            yield
        finally:
            self._batch_depth -= 1
            if self._batch_depth == 0:
                self.batch_finished.emit()

    # ---- groups: edits ---------------------------------------------------
    def group(self, node_ids: Iterable[str], name: str | None = None) -> tuple[str | None, str | None]:
        """Make the nodes one group node as one step: (its id, None) or (None, why not)."""
        ids = [n for n in node_ids if n in self.graph]
        graph = self.graph
        command = JournalCommand(graph, f"Group {len(ids)} block{'s' * (len(ids) != 1)}",
                                 lambda: groups.group_nodes(graph, ids, name, graph.new_id("group")), self.batch)
        self.undo_stack.push(command)
        return command.result, command.refusal

    def ungroup(self, node_id: str) -> tuple[list[str], str | None]:
        """Put a group node's inside in its place as one step: (the new ids, None) or ([], why not)."""
        graph = self.graph
        command = JournalCommand(graph, f"Ungroup {node_id}", lambda: groups.ungroup(graph, node_id), self.batch)
        self.undo_stack.push(command)
        return list(command.result or []), command.refusal

    def make_unique(self, node_id: str, name: str | None = None) -> str | None:
        """Give one instance a definition of its own, as one step; None, or why not."""
        graph = self.graph
        if name is None and node_id in graph and graph.node(node_id).is_group:
            block = graph.node(node_id).block
            name = graph.library.new_name(block.rstrip("0123456789") or block)  # Group1's copy: Group2
        command = JournalCommand(graph, f"Make {node_id} unique", lambda: groups.make_unique(graph, node_id, name), self.batch)
        self.undo_stack.push(command)
        return command.refusal

    def rename_definition(self, old: str, new: str) -> str | None:
        """Rename a block definition (every instance follows) as one step; None, or why not."""
        if old == new:
            return None
        graph = self.graph
        command = JournalCommand(graph, f"Rename {old} to {new}", lambda: groups.rename_definition(graph, old, new))
        self.undo_stack.push(command)
        return command.refusal

    def rename_port(self, block: str, old: str, new: str) -> str | None:
        """Rename a port of a block definition (every use's wires follow) as one step; None, or why not."""
        if old == new:
            return None
        graph = self.graph
        command = JournalCommand(graph, f"Rename port {old} of {block} to {new}",
                                 lambda: groups.rename_port(graph, block, old, new), self.batch)
        self.undo_stack.push(command)
        return command.refusal

    # ---- nodes ---------------------------------------------------------
    def add_block(self, block: str, position: tuple[float, float], params: Mapping[str, Any] | None = None) -> str:
        cmd = AddNodeCommand(self.graph, block, params, _as_point(position))
        self.undo_stack.push(cmd)
        return cmd.node_id

    def add_block_wired(self, block: str, position: tuple[float, float], node_id: str, port: str,
                        port_is_output: bool) -> tuple[str, str | None]:
        """Add a block and wire it to ``node_id.port`` in one step. Returns the
        new node's id and, when no wire could be drawn, the reason."""
        spec = self.graph.library.spec(block)
        macro = MacroCommand(f"Add {block}")
        add = AddNodeCommand(self.graph, block, None, _as_point(position), parent=macro)
        new_id = add.node_id
        params = spec.coerce_params({})
        reason = None
        if port_is_output:
            ports = spec.input_ports(params)
            target = next((p.name for p in ports), None)
            if target is None:
                reason = f"{block} has no input to wire"
            else:
                ConnectCommand(self.graph, node_id, port, new_id, target, parent=macro)
        else:
            ports = spec.output_ports(params)
            target = next((p.name for p in ports), None)
            if target is None:
                reason = f"{block} has no output to wire"
            elif self.graph.edge_into(node_id, port) is not None:
                reason = f"{node_id}.{port} is already wired"
            else:
                ConnectCommand(self.graph, new_id, target, node_id, port, parent=macro)
        self.undo_stack.push(macro)
        return new_id, reason

    def delete(self, node_ids: Iterable[str] = (), edges: Iterable[Edge] = ()) -> None:
        node_ids = [n for n in node_ids if n in self.graph]
        gone = set(node_ids)
        # Wires of deleted nodes go with their node (and come back with it on undo).
        edges = [e for e in edges if e.src not in gone and e.dst not in gone and e in set(self.graph.edges)]
        if not node_ids and not edges:
            return
        count = len(node_ids) + len(edges)
        macro = MacroCommand("Delete" if count > 1 else f"Delete {node_ids[0] if node_ids else 'wire'}")
        for e in edges:
            DisconnectCommand(self.graph, e, parent=macro)
        for n in node_ids:
            RemoveNodeCommand(self.graph, n, parent=macro)
        self.undo_stack.push(macro)

    def move(self, positions: Mapping[str, tuple[float, float]], text: str = "Move") -> bool:
        moves = {}
        for node_id, new in positions.items():
            old = self.graph.node(node_id).position
            new = (float(new[0]), float(new[1]))
            if old != new:
                moves[node_id] = (old, new)
        if not moves:
            return False
        self.undo_stack.push(MoveNodesCommand(self.graph, moves, text))
        return True

    def check_params(self, node_id: str, changes: Mapping[str, Any]) -> str | None:
        """Why these values would be refused, or None."""
        try:
            self.graph.checked_params(node_id, changes)
        except ParamError as exc:
            return exc.message
        return None

    def set_params(self, node_id: str, changes: Mapping[str, Any]) -> str | None:
        """Apply parameter changes as one step, or return why they are refused."""
        try:
            coerced = self.graph.checked_params(node_id, changes)
        except ParamError as exc:
            return exc.message
        node = self.graph.node(node_id)
        changes = {k: coerced[k] for k in changes if coerced[k] != node.params[k]}
        if changes:
            self.undo_stack.push(SetParamsCommand(self.graph, node_id, changes))
        return None

    def set_label(self, node_id: str, label: str) -> None:
        if self.graph.node(node_id).label != label:
            self.undo_stack.push(SetLabelCommand(self.graph, node_id, label))

    # ---- wires ---------------------------------------------------------
    def connect(self, src: str, src_port: str, dst: str, dst_port: str) -> ConnectionRefused | None:
        reason = self.graph.check_connect(src, src_port, dst, dst_port)
        if reason is None:
            self.undo_stack.push(ConnectCommand(self.graph, src, src_port, dst, dst_port))
        return reason

    def disconnect(self, edge: Edge) -> None:
        self.undo_stack.push(DisconnectCommand(self.graph, edge))

    def disconnect_node(self, node_id: str) -> bool:
        """Remove every wire into and out of a node as one step; False when it had none."""
        edges = [e for e in self.graph.edges if node_id in (e.src, e.dst)]
        if not edges:
            return False
        macro = MacroCommand(f"Disconnect {node_id}")
        for e in edges:
            DisconnectCommand(self.graph, e, parent=macro)
        self.undo_stack.push(macro)
        return True

    def insert_on_wire(self, block: str, position: tuple[float, float], edge: Edge) -> tuple[str | None, str | None]:
        """Splice a new block into a wire (src -> new -> dst) as one step. Returns the
        new node's id, or None and the reason when the block cannot carry the wire."""
        spec = self.graph.library.spec(block)
        params = spec.coerce_params({})
        ins, outs = spec.input_ports(params), spec.output_ports(params)
        if not ins:
            return None, f"{block} has no input to take the wire"
        if not outs:
            return None, f"{block} has no output to pass the wire on"
        if edge not in set(self.graph.edges):
            return None, f"{edge} is no longer there"
        macro = MacroCommand(f"Insert {block} on {edge}")
        DisconnectCommand(self.graph, edge, parent=macro)
        add = AddNodeCommand(self.graph, block, None, _as_point(position), parent=macro)
        ConnectCommand(self.graph, edge.src, edge.src_port, add.node_id, ins[0].name, parent=macro)
        ConnectCommand(self.graph, add.node_id, outs[0].name, edge.dst, edge.dst_port, parent=macro)
        self.undo_stack.push(macro)
        return add.node_id, None

    # ---- the doctor's fixes -------------------------------------------
    def apply_fix(self, fix: Fix) -> str | None:
        """Apply a fix as one undo step named after it; None, or why it was refused (nothing
        is pushed then, and the graph is as it was)."""
        command = FixCommand(self.graph, fix)
        self.undo_stack.push(command)
        return command.refusal

    # ---- clipboard -----------------------------------------------------
    def copy(self, node_ids: Iterable[str]) -> dict:
        return clipboard.extract(self.graph, node_ids)

    def paste(self, data: Mapping[str, Any], offset: tuple[float, float] = PASTE_OFFSET) -> list[str]:
        """Add a copied fragment as one step; returns the new node ids. Group nodes whose blocks
        this document lacks bring their blocks in (in the same step)."""
        graph = self.graph
        missing = clipboard.missing_blocks(graph, data)
        if missing and isinstance(data.get("library"), Mapping):
            scratch = clipboard.read_blocks(data)  # raises ClipboardError, before anything changes
            holder: dict = {}

            def take():
                journal, names = clipboard.take_blocks(graph, scratch)
                holder["names"] = {n: names[n] for n in missing if n in names}
                return journal

            command = JournalCommand(graph, "Add blocks", take, self.batch)
            self.undo_stack.beginMacro("Paste")
            try:
                self.undo_stack.push(command)
                if command.refusal is not None:
                    raise clipboard.ClipboardError(f"clipboard: {command.refusal}")
                return self._paste(clipboard.renamed_blocks(data, holder.get("names", {})), offset)
            finally:
                self.undo_stack.endMacro()
        return self._paste(data, offset)

    def _paste(self, data: Mapping[str, Any], offset: tuple[float, float]) -> list[str]:
        plan = clipboard.plan_paste(self.graph, data, offset)  # raises ClipboardError
        if not plan.nodes:
            return []
        macro = MacroCommand(f"Paste {len(plan.nodes)} node(s)")
        for n in plan.nodes:
            AddNodeCommand(self.graph, n.block, n.params, n.position, n.id, n.label, parent=macro)
        for e in plan.edges:
            ConnectCommand(self.graph, e.src, e.src_port, e.dst, e.dst_port, parent=macro)
        self.undo_stack.push(macro)
        return [n.id for n in plan.nodes]

    def duplicate(self, node_ids: Iterable[str]) -> list[str]:
        return self.paste(self.copy(node_ids))

    # ---- layout --------------------------------------------------------
    def auto_layout(self) -> bool:
        return self.move(layout.layered_positions(self.graph), "Auto-layout")


def _as_point(position: tuple[float, float]) -> tuple[float, float]:
    # the scene snaps while a person drags; a position given here is kept as it is
    return (float(position[0]), float(position[1]))
