"""Fixes: edits that mend a problem, described as plain data and applied as one step.

A ``Fix`` is a title and a few ``Edit``s (splice a block into a wire, set some
parameters, take a block out, put one block in another's place, change a training
setting). ``apply_fix`` performs them on a ``Graph`` and returns a ``Journal`` of what
it did, which can undo and redo it exactly: the command line applies fixes to a copy
(``studio check --fix``), the editor wraps the journal in one undo command.
A fix that no longer applies (the wire it names is gone) changes nothing and raises
``FixError`` naming why.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

from .document import Edge
from .errors import GraphError

if TYPE_CHECKING:
    from .document import Graph


class FixError(GraphError):
    pass


# ---- the edits a fix is made of -------------------------------------------------------
@dataclass(frozen=True)
class InsertOnWire:
    """Put a new ``block`` on the wire ``src.src_port -> dst.dst_port``."""

    block: str
    params: tuple = ()  # (name, value) pairs
    src: str = ""
    src_port: str = "out"
    dst: str = ""
    dst_port: str = "in"

    def describe(self) -> str:
        return f"insert {self.block} between {self.src} and {self.dst}"


@dataclass(frozen=True)
class SetParams:
    node: str
    changes: tuple = ()  # (name, value) pairs

    def describe(self) -> str:
        return f"set {', '.join(f'{k} = {v!r}' for k, v in self.changes)} on {self.node}"


@dataclass(frozen=True)
class Bypass:
    """Take out a one-input block, wiring what fed it to everything it fed."""

    node: str

    def describe(self) -> str:
        return f"remove {self.node}"


@dataclass(frozen=True)
class Replace:
    """Put a ``block`` in ``node``'s place: same id, same position, same wires."""

    node: str
    block: str
    params: tuple = ()

    def describe(self) -> str:
        return f"make {self.node} a {self.block}"


@dataclass(frozen=True)
class SetTraining:
    """Set one training setting, e.g. ``("optimizer", "lr")`` to 0.01."""

    path: tuple
    value: Any = None

    def describe(self) -> str:
        return f"set training.{'.'.join(self.path)} to {self.value!r}"


Edit = InsertOnWire | SetParams | Bypass | Replace | SetTraining


@dataclass(frozen=True)
class Fix:
    title: str  # what a button says: "Insert Flatten before fc1"
    edits: tuple = ()

    def to_json(self) -> dict:
        return {"title": self.title, "edits": [e.describe() for e in self.edits]}


def pairs(mapping: Mapping[str, Any]) -> tuple:
    """Parameters as the hashable pairs an edit holds."""
    return tuple((k, _frozen(v)) for k, v in mapping.items())


def _frozen(value: Any) -> Any:
    return tuple(_frozen(v) for v in value) if isinstance(value, list) else value


# ---- applying, with a record that undoes and redoes ------------------------------------
@dataclass
class Journal:
    """What a fix did, step by step, in the order it did it."""

    steps: list = field(default_factory=list)
    new_nodes: list = field(default_factory=list)  # ids the fix added

    def undo(self, graph: "Graph") -> None:
        # shapes re-inferred once, at the end, for everything the steps touched; nodes and wires
        # put back at their places in one rebuild of the order
        with graph.shapes.held(), graph.order_held():
            self._undo(graph)

    def redo(self, graph: "Graph") -> None:
        with graph.shapes.held(), graph.order_held():
            self._redo(graph)

    def _undo(self, graph: "Graph") -> None:
        for step in reversed(self.steps):
            kind = step[0]
            if kind == "add":
                graph.remove_node(step[1]["id"])
            elif kind == "remove":
                _, node, index, edges = step
                graph.add_node(node["block"], node["params"], node["position"], node["id"], node["label"], index)
                for edge, at in edges:
                    graph.connect(edge.src, edge.src_port, edge.dst, edge.dst_port, at)
            elif kind == "connect":
                graph.disconnect(step[1])
            elif kind == "disconnect":
                _, edge, at = step
                graph.connect(edge.src, edge.src_port, edge.dst, edge.dst_port, at)
            elif kind == "params":
                graph.set_params(step[1], step[2])
            elif kind == "training":
                graph.set_training(step[1])
            elif kind == "define":
                step[1].remove(step[2].name)
            elif kind == "undefine":
                step[1].add(step[2], step[3])
            elif kind == "exposed":
                step[1].set_exposed(step[2], step[3], step[5])
            elif kind == "rename":
                step[1].rename(step[3], step[2])
            elif kind == "ports":
                step[1].set_ports(step[2], *step[3])
            elif kind == "on":  # a step in another graph of the document (a definition's inside)
                Journal([step[2]]).undo(step[1])

    def _redo(self, graph: "Graph") -> None:
        for step in self.steps:
            kind = step[0]
            if kind == "add":
                n = step[1]
                graph.add_node(n["block"], n["params"], n["position"], n["id"], n["label"], n["index"])
            elif kind == "remove":
                graph.remove_node(step[1]["id"])
            elif kind == "connect":
                e = step[1]
                graph.connect(e.src, e.src_port, e.dst, e.dst_port)
            elif kind == "disconnect":
                graph.disconnect(step[1])
            elif kind == "params":
                graph.set_params(step[1], step[3])
            elif kind == "training":
                graph.set_training(step[2])
            elif kind == "define":
                step[1].add(step[2], step[3])
            elif kind == "undefine":
                step[1].remove(step[2].name)
            elif kind == "exposed":
                step[1].set_exposed(step[2], step[4])
            elif kind == "rename":
                step[1].rename(step[2], step[3])
            elif kind == "ports":
                step[1].set_ports(step[2], *step[4])
            elif kind == "on":
                Journal([step[2]]).redo(step[1])


def apply_fix(graph: "Graph", fix: Fix) -> Journal:
    """Apply every edit of ``fix``; on a refusal, undo what was done and raise ``FixError``."""
    journal = Journal()
    # Held: a wire taken out and put back through a new node would otherwise re-infer all
    # below it twice; released, only what the fix changed is re-inferred, once.
    with graph.shapes.held():
        try:
            for edit in fix.edits:
                _apply(graph, edit, journal)
        except (GraphError, KeyError, ValueError, TypeError) as exc:
            journal.undo(graph)
            message = getattr(exc, "message", None) or str(exc)
            raise FixError(f"cannot {fix.title[:1].lower()}{fix.title[1:]}: {message}") from exc
    return journal


def _apply(graph: "Graph", edit: Edit, journal: Journal) -> None:
    if isinstance(edit, InsertOnWire):
        edge = Edge(edit.src, edit.src_port, edit.dst, edit.dst_port)
        if edge not in set(graph.edges):
            raise FixError(f"the wire {edge} is no longer there")
        a, b = graph.node(edit.src).position, graph.node(edit.dst).position
        position = _free_place(graph, ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2 + 100.0))
        _disconnect(graph, edge, journal)
        new = _add(graph, edit.block, dict(edit.params), position, journal)
        spec = graph.node(new).spec
        params = graph.node(new).params
        _connect(graph, Edge(edit.src, edit.src_port, new, spec.input_ports(params)[0].name), journal)
        _connect(graph, Edge(new, spec.output_ports(params)[0].name, edit.dst, edit.dst_port), journal)
    elif isinstance(edit, SetParams):
        changes = {k: list(v) if isinstance(v, tuple) else v for k, v in edit.changes}
        old = graph.set_params(edit.node, changes)
        journal.steps.append(("params", edit.node, old, changes))
    elif isinstance(edit, Bypass):
        ins = graph.in_edges(edit.node)
        if len(ins) != 1:
            raise FixError(f"{edit.node} takes {len(ins)} wires; only a block with one can be taken out")
        feed = ins[0]
        outs = graph.out_edges(edit.node)
        _remove(graph, edit.node, journal)
        for e in outs:
            _connect(graph, Edge(feed.src, feed.src_port, e.dst, e.dst_port), journal)
    elif isinstance(edit, Replace):
        old = graph.node(edit.node)
        ins, outs = graph.in_edges(edit.node), graph.out_edges(edit.node)
        position, label, index = old.position, old.label, graph.node_index(edit.node)
        _remove(graph, edit.node, journal)
        _add(graph, edit.block, dict(edit.params), position, journal, edit.node, label, index)
        for e in ins + outs:
            _connect(graph, e, journal)
    elif isinstance(edit, SetTraining):
        old = copy.deepcopy(graph.training)
        new = copy.deepcopy(dict(graph.training))
        place = new
        for key in edit.path[:-1]:
            if not isinstance(place.get(key), dict):
                place[key] = {}
            place = place[key]
        place[edit.path[-1]] = edit.value
        graph.set_training(new)
        journal.steps.append(("training", old, copy.deepcopy(new)))
    else:  # pragma: no cover - a new kind of edit without its branch
        raise FixError(f"unknown edit {edit!r}")


# About a node's size on the canvas: a new node goes below the wire it joins, clear of the others.
NODE_BOX = (180.0, 90.0)


def _free_place(graph: "Graph", position: tuple[float, float]) -> tuple[float, float]:
    x, y = position
    others = [n.position for n in graph.nodes.values()]
    while any(abs(x - ox) < NODE_BOX[0] and abs(y - oy) < NODE_BOX[1] for ox, oy in others):
        y += NODE_BOX[1]
    return (x, y)


def _add(graph: "Graph", block: str, params: dict, position, journal: Journal, node_id: str | None = None,
         label: str = "", index: int | None = None) -> str:
    node = graph.add_node(block, params, position, node_id, label, index)
    record = {"block": node.block, "params": dict(node.params), "position": node.position, "id": node.id,
              "label": node.label, "index": graph.node_index(node.id)}
    journal.steps.append(("add", record))
    journal.new_nodes.append(node.id)
    return node.id


def _remove(graph: "Graph", node_id: str, journal: Journal) -> None:
    node = graph.node(node_id)
    index = graph.node_index(node_id)
    edges = [(e, graph.edge_index(e)) for e in graph.in_edges(node_id) + graph.out_edges(node_id)]
    edges.sort(key=lambda pair: pair[1])
    record = {"block": node.block, "params": dict(node.params), "position": node.position, "id": node.id,
              "label": node.label}
    graph.remove_node(node_id)
    journal.steps.append(("remove", record, index, edges))


def _connect(graph: "Graph", edge: Edge, journal: Journal) -> None:
    graph.connect(edge.src, edge.src_port, edge.dst, edge.dst_port)
    journal.steps.append(("connect", edge))


def _disconnect(graph: "Graph", edge: Edge, journal: Journal) -> None:
    at = graph.edge_index(edge)
    graph.disconnect(edge)
    journal.steps.append(("disconnect", edge, at))
