"""The editor: every user action becomes exactly one undo step.

Views call these methods; each builds commands that change only the graph
document and pushes them on the undo stack. Refusals (a bad parameter, a
wire that would make a cycle) come back as messages and push nothing.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

import blocks
from blocks import ParamError
from studio.graph import ConnectionRefused, Edge, Graph
from studio.graph.fixes import Fix

from . import clipboard, layout
from .commands import (
    AddNodeCommand, ConnectCommand, DisconnectCommand, FixCommand, MacroCommand, MoveNodesCommand,
    RemoveNodeCommand, SetLabelCommand, SetParamsCommand,
)

PASTE_OFFSET = (40.0, 40.0)


class GraphEditor(QObject):
    graph_replaced = Signal(object)  # the new Graph

    def __init__(self, graph: Graph | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.graph = graph if graph is not None else Graph()
        self.undo_stack = QUndoStack(self)

    def set_graph(self, graph: Graph) -> None:
        """A new document (New, Open): history starts afresh."""
        self.undo_stack.clear()
        self.graph = graph
        self.undo_stack.setClean()
        self.graph_replaced.emit(graph)

    # ---- nodes ---------------------------------------------------------
    def add_block(self, block: str, position: tuple[float, float], params: Mapping[str, Any] | None = None) -> str:
        cmd = AddNodeCommand(self.graph, block, params, _as_point(position))
        self.undo_stack.push(cmd)
        return cmd.node_id

    def add_block_wired(self, block: str, position: tuple[float, float], node_id: str, port: str,
                        port_is_output: bool) -> tuple[str, str | None]:
        """Add a block and wire it to ``node_id.port`` in one step. Returns the
        new node's id and, when no wire could be drawn, the reason."""
        spec = blocks.get(block)
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
        spec = blocks.get(block)
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
        """Add a copied fragment as one step; returns the new node ids."""
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
