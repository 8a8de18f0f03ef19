"""Undo commands. Each changes only the graph document; the scene follows the
document's events, so no command ever touches an item."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any, Mapping

from PySide6.QtGui import QUndoCommand

from studio.graph import Edge, Graph
from studio.graph.errors import GraphError
from studio.graph.fixes import Fix, Journal, apply_fix


class AddNodeCommand(QUndoCommand):
    def __init__(self, graph: Graph, block: str, params: Mapping[str, Any] | None, position: tuple[float, float],
                 node_id: str | None = None, label: str = "", parent: "MacroCommand | None" = None):
        super().__init__(f"Add {block}")
        _adopt(self, parent)
        self.graph = graph
        self.block = block
        self.params = dict(params or {})
        self.position = position
        self.label = label
        # Chosen now so redo after undo brings back the same id, and so a
        # macro can wire a node it has not added yet.
        self.node_id = node_id or graph.new_id(block)

    def redo(self) -> None:
        self.graph.add_node(self.block, self.params, self.position, self.node_id, self.label)

    def undo(self) -> None:
        self.graph.remove_node(self.node_id)


class RemoveNodeCommand(QUndoCommand):
    """Removes a node and its wires; undo puts the node back where it stood
    and re-draws every wire it had."""

    def __init__(self, graph: Graph, node_id: str, parent: "MacroCommand | None" = None):
        super().__init__(f"Delete {node_id}")
        _adopt(self, parent)
        self.graph = graph
        self.node_id = node_id
        self._node = None
        self._index = 0
        self._edges: list[tuple[int, Edge]] = []

    def redo(self) -> None:
        # Wires and places are read at redo time: in a multi-node delete, an earlier command may
        # already have taken a shared wire and moved the others up.
        graph = self.graph
        self._index = graph.node_index(self.node_id)
        wires = graph.in_edges(self.node_id) + graph.out_edges(self.node_id)
        self._edges = sorted((graph.edge_index(e), e) for e in wires)
        self._node, _ = graph.remove_node(self.node_id)

    def undo(self) -> None:
        # Back in its old place, and its wires in theirs (in rising order, each index is exact
        # once the ones before it are back): Inputs keep their order, and forward() its arguments.
        n = self._node
        self.graph.add_node(n.block, n.params, n.position, n.id, n.label, index=self._index)
        for index, e in self._edges:
            self.graph.connect(e.src, e.src_port, e.dst, e.dst_port, index=index)


class ConnectCommand(QUndoCommand):
    def __init__(self, graph: Graph, src: str, src_port: str, dst: str, dst_port: str,
                 parent: "MacroCommand | None" = None):
        super().__init__(f"Connect {src}.{src_port} to {dst}.{dst_port}")
        _adopt(self, parent)
        self.graph = graph
        self.edge = Edge(src, src_port, dst, dst_port)

    def redo(self) -> None:
        e = self.edge
        self.graph.connect(e.src, e.src_port, e.dst, e.dst_port)

    def undo(self) -> None:
        self.graph.disconnect(self.edge)


class DisconnectCommand(QUndoCommand):
    def __init__(self, graph: Graph, edge: Edge, parent: "MacroCommand | None" = None):
        super().__init__(f"Remove wire {edge}")
        _adopt(self, parent)
        self.graph = graph
        self.edge = edge
        self._index: int | None = None

    def redo(self) -> None:
        self._index = self.graph.edge_index(self.edge)
        self.graph.disconnect(self.edge)

    def undo(self) -> None:
        e = self.edge
        self.graph.connect(e.src, e.src_port, e.dst, e.dst_port, index=self._index)


class SetParamsCommand(QUndoCommand):
    """The generic "set attribute" command: keeps the old values it replaced."""

    def __init__(self, graph: Graph, node_id: str, changes: Mapping[str, Any], parent: "MacroCommand | None" = None):
        names = ", ".join(changes)
        super().__init__(f"Set {node_id} {names}")
        _adopt(self, parent)
        self.graph = graph
        self.node_id = node_id
        self.changes = dict(changes)
        self.old = {k: graph.node(node_id).params[k] for k in changes}

    def redo(self) -> None:
        self.graph.set_params(self.node_id, self.changes)

    def undo(self) -> None:
        self.graph.set_params(self.node_id, self.old)


class SetLabelCommand(QUndoCommand):
    def __init__(self, graph: Graph, node_id: str, label: str, parent: "MacroCommand | None" = None):
        super().__init__(f"Rename {node_id}")
        _adopt(self, parent)
        self.graph = graph
        self.node_id = node_id
        self.label = label
        self.old = graph.node(node_id).label

    def redo(self) -> None:
        self.graph.set_label(self.node_id, self.label)

    def undo(self) -> None:
        self.graph.set_label(self.node_id, self.old)


class MoveNodesCommand(QUndoCommand):
    """Moves many nodes as one step (a drag, an auto-layout)."""

    def __init__(self, graph: Graph, moves: Mapping[str, tuple[tuple[float, float], tuple[float, float]]],
                 text: str = "Move", parent: "MacroCommand | None" = None):
        super().__init__(text if len(moves) != 1 else f"{text} {next(iter(moves))}")
        _adopt(self, parent)
        self.graph = graph
        self.moves = dict(moves)  # node -> (old, new)

    def redo(self) -> None:
        for node_id, (_, new) in self.moves.items():
            self.graph.move_node(node_id, new)

    def undo(self) -> None:
        for node_id, (old, _) in self.moves.items():
            self.graph.move_node(node_id, old)


class JournalCommand(QUndoCommand):
    """A journaled edit (group, ungroup, make unique, rename a block) as one step: the first
    redo runs ``apply`` (which returns the Journal of what it did), undo and later redos replay
    that journal exactly. A refused edit (``GraphError``) changes nothing: the command marks
    itself obsolete, so the stack drops it, and ``refusal`` says why; ``result`` keeps what
    ``apply`` returned beside its journal (the new group's id)."""

    def __init__(self, graph: Graph, text: str, apply, batch=None):
        super().__init__(text)
        self.graph = graph
        self.apply = apply
        self.batch = batch  # a context manager the views follow the whole step in, not each edit of it
        self.journal: Journal | None = None
        self.result = None
        self.refusal: str | None = None

    def redo(self) -> None:
        with self.batch() if self.batch is not None else nullcontext():
            self._redo()

    def _redo(self) -> None:
        if self.journal is not None:
            self.journal.redo(self.graph)
            return
        try:
            found = self.apply()
        except (GraphError, KeyError) as exc:
            self.refusal = str(exc)
            self.setObsolete(True)
            return
        if isinstance(found, tuple):
            self.journal, self.result = found
        else:
            self.journal = found

    def undo(self) -> None:
        if self.journal is not None:
            with self.batch() if self.batch is not None else nullcontext():
                self.journal.undo(self.graph)


class FixCommand(JournalCommand):
    """A doctor's fix as one step (its journal replayed exactly: the same ids, places and wire
    order); a fix that no longer applies is dropped and ``refusal`` says why."""

    def __init__(self, graph: Graph, fix: Fix):
        super().__init__(graph, fix.title, lambda: apply_fix(graph, fix))
        self.fix = fix


class MacroCommand(QUndoCommand):
    """A parent whose children run in order on redo and in reverse on undo:
    one undo step for a paste, a multi-delete or an add-and-wire.

    Children are held in a Python list rather than through Qt parenting: a
    Qt-parented child whose Python wrapper is collected loses its redo/undo."""

    def __init__(self, text: str):
        super().__init__(text)
        self.children: list[QUndoCommand] = []

    def add(self, command: QUndoCommand) -> QUndoCommand:
        self.children.append(command)
        return command

    def redo(self) -> None:
        for command in self.children:
            command.redo()

    def undo(self) -> None:
        for command in reversed(self.children):
            command.undo()


def _adopt(command: QUndoCommand, parent) -> None:
    if parent is not None:
        parent.add(command)
