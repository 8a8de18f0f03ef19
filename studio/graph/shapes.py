"""Incremental shape inference and parameter counts.

After an edit only the changed node is re-inferred, then each node below it whose
inputs came out different, in the order of the document's ranks (a wire always runs up
them); where outputs come out unchanged the walk stops, so an edit costs what it
changes whatever the size of the graph. A node whose own rule fails gets an error;
nodes below it simply have no shape until it is fixed, so the rest of the graph
keeps its shapes and only the node at fault turns red.
"""

from __future__ import annotations

import heapq
from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterable, Iterator

from blocks import Shape, ShapeError

from .errors import Problem

if TYPE_CHECKING:
    from .document import Graph


class ShapeInference:
    def __init__(self, graph: "Graph") -> None:
        self._graph = graph
        self.outputs: dict[str, dict[str, Shape]] = {}  # node -> port -> shape
        self.errors: dict[str, Problem] = {}
        # Dtypes travel with shapes (``studio.graph.dtypes``): a node's output dtype, where known, and
        # why a node refuses what it is given ("mixed", or ("wrong", port, edge, wanted)).
        self.dtypes: dict[str, str] = {}
        self.dtype_faults: dict[str, tuple] = {}
        self._count_memo: dict[tuple, int | str] = {}  # a count, or why the layer cannot be built
        self._held = 0
        self._pending: dict[str, None] = {}  # roots of the edits made while held
        self.visited = 0  # nodes the last update re-inferred (what an edit cost)

    def hold(self) -> None:
        """Until ``release``, edits only note what to re-infer; ``release`` re-infers it once, with
        one ``shapes_changed``: grouping 100 nodes is some 400 steps (removes, adds, wires), and
        each re-inferring what lies below it cost a walk of the graph. Shapes read meanwhile are
        those from before. Holds nest."""
        self._held += 1

    def release(self) -> None:
        self._held -= 1
        if not self._held and self._pending:
            roots, self._pending = list(self._pending), {}
            changed = self.update(roots)
            if changed:
                from .document import GraphEvent

                self._graph._emit(GraphEvent("shapes_changed", tuple(changed)))

    @contextmanager
    def held(self) -> Iterator[None]:
        """``hold`` ... ``release`` around a block."""
        self.hold()
        try:
            yield
        finally:
            self.release()

    # ---- reading -------------------------------------------------------
    def output(self, node_id: str, port: str = "out") -> Shape | None:
        return self.outputs.get(node_id, {}).get(port)

    def inputs(self, node_id: str) -> dict[str, Shape | None]:
        """Each input port's incoming shape (None when unwired or unknown)."""
        g = self._graph
        node = g.node(node_id)
        shapes: dict[str, Shape | None] = {p.name: None for p in node.input_ports()}
        for e in g.in_edges(node_id):
            shapes[e.dst_port] = self.output(e.src, e.src_port)
        return shapes

    def error(self, node_id: str) -> Problem | None:
        return self.errors.get(node_id)

    def param_count(self, node_id: str) -> int | None:
        """Learnable parameters of a node (a Python int, however large), or None while its
        input shapes are unknown or when the layer cannot be built (see ``count_error``)."""
        count = self._count(node_id)
        return count if isinstance(count, int) else None

    def count_error(self, node_id: str) -> Problem | None:
        """Why a node whose shapes are known still cannot be built (sizes too large for torch)."""
        count = self._count(node_id)
        return Problem(node_id, None, f"cannot build this layer: {count}", "build") if isinstance(count, str) else None

    def _count(self, node_id: str) -> int | str | None:
        node = self._graph.node(node_id)
        spec = node.spec
        if spec.constructor is None:
            return 0
        if node_id not in self.outputs:
            return None
        in_shapes = self.inputs(node_id)
        definition = getattr(spec, "definition", None)
        if definition is not None:  # a group: its inside's counts, summed
            return definition.param_count({k: v for k, v in in_shapes.items() if v is not None}, node.params)
        declared = _declared_count(spec, in_shapes, node.params)
        if declared is not None:
            return declared
        key = (spec.name, _freeze(node.params), _freeze(in_shapes))
        count = self._count_memo.get(key)
        if count is None:
            try:
                count = _count_on_meta(spec, in_shapes, node.params)
            except (RuntimeError, ValueError, TypeError, ArithmeticError, IndexError, MemoryError) as exc:
                # Sizes that pass the shape rule can still be too large for torch (its storage
                # size is an int64 of bytes); torch's message runs on with a C++ trace, its
                # first line says why.
                text = str(exc).strip()
                count = text.splitlines()[0] if text else type(exc).__name__
            self._count_memo[key] = count
        return count

    # ---- updating ------------------------------------------------------
    def forget(self, node_id: str) -> None:
        self.outputs.pop(node_id, None)
        self.errors.pop(node_id, None)
        self.dtypes.pop(node_id, None)
        self.dtype_faults.pop(node_id, None)

    def update(self, roots: Iterable[str]) -> list[str]:
        """Re-infer ``roots`` and what depends on them; returns nodes whose result changed.

        A node below the roots is re-inferred only when a node feeding it changed, so
        an edit whose effect stops (a width change that the next layer absorbs) costs
        a few nodes, not the rest of the graph.
        """
        g = self._graph
        if self._held:
            self._pending.update(dict.fromkeys(roots))
            return []
        roots = {r for r in roots if r in g}
        if not roots:
            return []
        rank = g.ranks()
        # Reached nodes wait by rank: every node feeding one ranks lower, so it is settled first.
        waiting = [(rank[r], r) for r in roots]
        heapq.heapify(waiting)
        queued = set(roots)
        changed: dict[str, None] = {}
        self.visited = 0
        while waiting:
            node_id = heapq.heappop(waiting)[1]
            self.visited += 1
            before = (self.outputs.get(node_id), self.errors.get(node_id), self.dtypes.get(node_id))
            self._infer_one(node_id)
            if (self.outputs.get(node_id), self.errors.get(node_id), self.dtypes.get(node_id)) != before:
                changed[node_id] = None
                for dst in g.successors(node_id):
                    if dst not in queued:
                        queued.add(dst)
                        heapq.heappush(waiting, (rank[dst], dst))
            elif node_id not in roots:
                changed[node_id] = None  # same output, new inputs: its parameter count may differ
        return list(changed)

    def update_all(self) -> list[str]:
        return self.update(self._graph.nodes)

    def _infer_one(self, node_id: str) -> None:
        node = self._graph.node(node_id)
        self._infer_shapes(node_id, node)
        self._infer_dtype(node_id, node)

    def _infer_dtype(self, node_id: str, node) -> None:
        """The node's output dtype from its inputs' (see ``studio.graph.dtypes``); a node whose
        shapes fail is not judged (its error is said already)."""
        self.dtypes.pop(node_id, None)
        self.dtype_faults.pop(node_id, None)
        spec = node.spec
        if spec.is_input:
            self.dtypes[node_id] = node.params.get("dtype", "float")
            return
        if node_id in self.errors:
            return
        given = {}
        for e in self._graph.in_edges(node_id):
            kind = self.dtypes.get(e.src)
            if kind is not None:
                given[e.dst_port] = (kind, e)
        if not given:
            return
        if spec.dtypes == "any":
            kinds = {d for d, _ in given.values()}
            if len(kinds) > 1:
                self.dtype_faults[node_id] = ("mixed",)
            else:
                self.dtypes[node_id] = kinds.pop()
            return
        want = "long" if spec.dtypes == "ids" else "float"
        for port, (kind, edge) in given.items():
            if kind != want:
                self.dtype_faults[node_id] = ("wrong", port, edge, want)
                return
        self.dtypes[node_id] = "float"

    def _infer_shapes(self, node_id: str, node) -> None:
        spec = node.spec
        self.outputs.pop(node_id, None)
        self.errors.pop(node_id, None)
        ports = spec.input_ports(node.params)
        # the wires in, read once: this runs for every node an edit reaches
        wired = {e.dst_port: e for e in self._graph.in_edges(node_id)}
        given = {}
        for p in ports:
            edge = wired.get(p.name)
            if edge is None:
                if not p.optional:
                    self.errors[node_id] = Problem(node_id, p.name, "not connected", "unconnected")
                    return
                continue
            shape = self.output(edge.src, edge.src_port)
            if shape is None:
                return  # waiting for the node above, which has its own error
            given[p.name] = shape
        try:
            out = spec.infer(given, node.params)
        except ShapeError as exc:
            self.errors[node_id] = Problem(node_id, exc.port, exc.message, "shape")
            return
        except ArithmeticError as exc:  # absurd sizes (a scale of 1e308) overflow the arithmetic
            self.errors[node_id] = Problem(node_id, None, f"sizes out of range: {exc}", "shape")
            return
        for port, shape in out.items():
            if any(d < 1 for d in shape):
                self.errors[node_id] = Problem(node_id, None, f"output {port} would be empty: {list(shape)}", "shape")
                return
        self.outputs[node_id] = {k: tuple(v) for k, v in out.items()}


def _freeze(value):
    if isinstance(value, dict):
        return tuple((k, _freeze(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    return value


# Below this every tensor a layer holds, weights or running statistics, fits torch's int64 count
# of bytes however it is split: a declared count is then the count of a module that builds.
_SURELY_BUILDS = 2**59


def _declared_count(spec, in_shapes, params) -> int | None:
    """The block's own count, where it declares one and the sizes are ones torch surely builds."""
    rule = spec.param_count
    if rule is None:
        return None
    if any(d >= _SURELY_BUILDS for shape in in_shapes.values() if shape is not None for d in shape):
        return None
    count = rule(in_shapes, params)
    return count if count is not None and count < _SURELY_BUILDS else None


def _count_on_meta(spec, in_shapes, params) -> int:
    # Built on the meta device: exact counts for any size, no memory, no init cost.
    import torch

    with torch.device("meta"):
        module = spec.make(in_shapes, params)
    return sum(p.numel() for p in module.parameters()) if isinstance(module, torch.nn.Module) else 0
