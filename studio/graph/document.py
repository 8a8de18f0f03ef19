"""The graph document: nodes and wires, with the wires into and out of each node indexed.

Every edit is a method that checks its input, changes the document, re-infers
the shapes it touched and then tells the listeners. Listeners are plain Python
callables, so views in any toolkit (or none) can follow the document.

Besides the document's own topological order (inputs first, ties by document
order, sorted when asked for), each node carries a rank kept valid through every
edit: a wire always runs from a lower rank to a higher one. Shape inference walks
an edit's reach by it, and the cycle check of a new wire searches only between
the two ranks, so an edit costs what it reaches, not the size of the graph.
"""

from __future__ import annotations

import copy
import heapq
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

import blocks
from blocks import BlockSpec, ParamError

from .errors import (
    ConnectionRefused, CycleError, DuplicateEdgeError, InputTakenError, NodeIdError, UnknownPortError,
)
from .shapes import ShapeInference

if TYPE_CHECKING:
    from .groups import Library
from .text import UnsavableError, check_text, json_place, shown, unsavable


@dataclass
class Node:
    id: str
    block: str
    params: dict[str, Any]
    position: tuple[float, float] = (0.0, 0.0)
    label: str = ""
    library: Any = field(default=None, repr=False, compare=False)  # the document's groups

    @property
    def spec(self) -> BlockSpec:
        if self.library is not None:
            definition = self.library.definitions.get(self.block)
            if definition is not None:
                return definition.spec
        return blocks.get(self.block)

    @property
    def is_group(self) -> bool:
        return self.library is not None and self.block in self.library.definitions

    @property
    def title(self) -> str:
        return self.label or self.id

    def input_ports(self):
        return self.spec.input_ports(self.params)

    def output_ports(self):
        return self.spec.output_ports(self.params)


@dataclass(frozen=True, order=True)
class Edge:
    src: str
    src_port: str
    dst: str
    dst_port: str

    def __str__(self) -> str:
        return f"{self.src}.{self.src_port} -> {self.dst}.{self.dst_port}"


@dataclass(frozen=True)
class GraphEvent:
    """What changed. ``kind`` is one of: node_added, node_removed, params_changed,
    node_moved, label_changed, edge_added, edge_removed, shapes_changed,
    training_changed, definition_changed (the inside of these group nodes changed: their ports,
    parameters or shapes may differ). ``nodes`` lists the nodes concerned (for shapes_changed,
    every node whose shapes or error changed)."""

    kind: str
    nodes: tuple[str, ...] = ()
    edge: Edge | None = None
    old: Any = None


Listener = Callable[[GraphEvent], None]

_ID_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")  # used with fullmatch: "$" would let a final newline through


class Graph:
    def __init__(self, name: str = "", library: "Library | None" = None) -> None:
        """``library``: the definitions of groups, shared by a document's top graph and the graphs
        inside its definitions; a new top graph makes its own."""
        from .groups import Library

        if library is None:
            library = Library()
            library.attach(self)
        self.library = library
        self.name = name
        self.description = ""
        self.training: dict[str, Any] = {}
        self._nodes: dict[str, Node] = {}
        self._edges: dict[Edge, None] = {}  # insertion-ordered set
        # node -> the other end -> its wires (insertion-ordered sets), both ways
        self._pred: dict[str, dict[str, dict[Edge, None]]] = {}
        self._succ: dict[str, dict[str, dict[Edge, None]]] = {}
        # the same wires as flat lists, read far more often than wires change
        self._ins: dict[str, list[Edge]] = {}
        self._outs: dict[str, list[Edge]] = {}
        self._listeners: list[Listener] = []
        # Puts at an index while the order is held (an undo putting back many): (key, index) in
        # turn, each already at the end of its dict; placed in one rebuild when the hold ends.
        self._held_order = 0
        self._node_puts: list[tuple[str, int | None]] = []
        self._edge_puts: list[tuple[Edge, int | None]] = []
        self._order: list[str] | None = None
        self._rank: dict[str, float] | None = {}  # None: to be numbered from the topological order
        self._top = 0.0  # the highest rank given
        self._placing = False  # an instance's values being put inside a definition (not the person's edit)
        self.shapes = ShapeInference(self)

    # ---- text a file must be able to hold --------------------------------
    @property
    def name(self) -> str:
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        self._name = check_text(value, "the graph's name")

    @property
    def description(self) -> str:
        return self._description

    @description.setter
    def description(self, value: str) -> None:
        self._description = check_text(value, "the graph's description")

    # ---- reading -------------------------------------------------------
    @property
    def nodes(self) -> Mapping[str, Node]:
        self._settle_order()
        return self._nodes

    @property
    def edges(self) -> list[Edge]:
        self._settle_order()
        return list(self._edges)

    @contextmanager
    def order_held(self):
        """Nodes and wires put back at an index inside (an undo) take their places in one rebuild
        of each order at the end instead of one each (quadratic in the wires). Reading the order
        inside, or removing anything, places those put so far first: what is read is always exact."""
        self._held_order += 1
        try:
            yield
        finally:
            self._held_order -= 1
            if not self._held_order:
                self._settle_order()

    def _settle_order(self) -> None:
        if self._node_puts:
            _reorder(self._nodes, self._node_puts)
        if self._edge_puts:
            _reorder(self._edges, self._edge_puts)

    def _put(self, ordered: dict, puts: list, key: Any, value: Any, index: int | None) -> None:
        if not self._held_order or (index is None and not puts):
            _insert(ordered, key, value, index)
            return
        ordered[key] = value
        puts.append((key, index))

    def node(self, node_id: str) -> Node:
        try:
            return self._nodes[node_id]
        except KeyError:
            raise NodeIdError(f"no node {shown(node_id)}") from None

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._nodes

    def __len__(self) -> int:
        return len(self._nodes)

    def in_edges(self, node_id: str) -> list[Edge]:
        """The wires into a node, grouped by the node they come from."""
        return list(self._ins.get(node_id, ()))

    def out_edges(self, node_id: str) -> list[Edge]:
        """The wires out of a node, grouped by the node they go to."""
        return list(self._outs.get(node_id, ()))

    def _rewired(self, src: str, dst: str) -> None:
        self._outs[src] = [e for wires in self._succ[src].values() for e in wires]
        self._ins[dst] = [e for wires in self._pred[dst].values() for e in wires]

    def successors(self, node_id: str) -> list[str]:
        """The nodes this one feeds, each once."""
        return list(self._succ.get(node_id, ()))

    def predecessors(self, node_id: str) -> list[str]:
        """The nodes feeding this one, each once."""
        return list(self._pred.get(node_id, ()))

    def edge_into(self, node_id: str, port: str) -> Edge | None:
        for e in self.in_edges(node_id):
            if e.dst_port == port:
                return e
        return None

    def topological_order(self) -> list[str]:
        """Node ids, inputs first; ties broken by document order so it is stable."""
        if self._order is None:
            self._settle_order()
            nodes = list(self._nodes)
            place = {n: i for i, n in enumerate(nodes)}
            waiting = {n: sum(len(w) for w in self._pred[n].values()) for n in nodes}
            ready = [place[n] for n in nodes if not waiting[n]]
            heapq.heapify(ready)
            order = []
            while ready:
                node_id = nodes[heapq.heappop(ready)]
                order.append(node_id)
                for dst, wires in self._succ[node_id].items():
                    waiting[dst] -= len(wires)
                    if not waiting[dst]:
                        heapq.heappush(ready, place[dst])
            self._order = order
        return self._order

    def output_nodes(self) -> list[str]:
        """Nodes whose results nothing else uses (the network's outputs), in topological order."""
        return [n for n in self.topological_order() if not self._succ[n] and not self.node(n).spec.is_input]

    def ranks(self) -> Mapping[str, float]:
        """Each node's rank: lower than the rank of every node it feeds (read only)."""
        if self._rank is None:
            self._rank = {n: float(i) for i, n in enumerate(self.topological_order())}
            self._top = float(len(self._rank))
        return self._rank

    def order_of(self, node_ids: Iterable[str]) -> list[str]:
        """Some nodes in a topological order (by rank), without sorting the whole graph."""
        rank = self.ranks()
        return sorted(node_ids, key=rank.__getitem__)

    def descendants(self, node_ids: Iterable[str]) -> set[str]:
        """The nodes given (those in the graph) and every node below them."""
        out: set[str] = set()
        todo = [n for n in node_ids if n in self._nodes]
        out.update(todo)
        while todo:
            for dst in self._succ[todo.pop()]:
                if dst not in out:
                    out.add(dst)
                    todo.append(dst)
        return out

    def components(self) -> list[list[str]]:
        """Separate networks (weakly connected parts), each in topological order."""
        order = self.topological_order()
        pos = {n: i for i, n in enumerate(order)}
        seen: set[str] = set()
        parts = []
        for start in order:
            if start in seen:
                continue
            seen.add(start)
            part, todo = [start], [start]
            while todo:
                n = todo.pop()
                for other in (*self._succ[n], *self._pred[n]):
                    if other not in seen:
                        seen.add(other)
                        part.append(other)
                        todo.append(other)
            parts.append(sorted(part, key=pos.__getitem__))
        return parts

    def networkx(self):
        """The graph as a ``networkx.MultiDiGraph`` (a copy, made when asked: edits go through the methods)."""
        import networkx as nx

        g = nx.MultiDiGraph()
        self._settle_order()
        g.add_nodes_from(self._nodes)
        for e in self._edges:
            g.add_edge(e.src, e.dst, key=e, edge=e)
        return g

    def param_count(self, node_id: str) -> int | None:
        """A node's learnable parameters; None while unknown or when it cannot be built."""
        return self.shapes.param_count(node_id)

    def total_params(self) -> int:
        """Every node's parameters summed (a Python int: no limit at 2^31 or 2^63)."""
        return sum(self.shapes.param_count(n) or 0 for n in self._nodes)

    # ---- listening -----------------------------------------------------
    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def _emit(self, event: GraphEvent) -> None:
        for listener in list(self._listeners):
            listener(event)

    def _reinfer(self, roots: Iterable[str]) -> None:
        changed = self.shapes.update(roots)
        if changed:
            self._emit(GraphEvent("shapes_changed", tuple(changed)))

    def definition_changed(self, node_ids: list[str]) -> None:
        """The definition these group nodes use was edited: say so, then re-infer them."""
        self._emit(GraphEvent("definition_changed", tuple(node_ids)))
        self._reinfer(node_ids)

    def place_instance(self, given: Mapping[str, Any], values: Mapping[str, Mapping[str, Any]]) -> None:
        """Show one instance inside a definition's graph: its input shapes on the Input nodes
        and its parameter values on the bound parameters (what entering a group shows). Not an
        edit of the definition: every instance puts its own values in."""
        self._placing = True
        try:
            for port, shape in given.items():
                if port in self._nodes and shape is not None and tuple(self._nodes[port].params["shape"]) != tuple(shape):
                    self.set_params(port, {"shape": list(shape)})
            for node_id, changes in values.items():
                if node_id in self._nodes and any(self._nodes[node_id].params.get(k) != v for k, v in changes.items()):
                    self.set_params(node_id, dict(changes))
        finally:
            self._placing = False

    # ---- ids -----------------------------------------------------------
    def new_id(self, block_name: str) -> str:
        """A readable unused id: ``conv2d1``, ``linear3``..."""
        if block_name in self.library.definitions:
            from .groups import id_stem

            block_name = id_stem(block_name)
        stem = re.sub(r"[^a-z0-9_]", "", block_name.lower()) or "node"
        if stem[0].isdigit():
            stem = "n" + stem
        i = 1
        while f"{stem}{i}" in self._nodes:
            i += 1
        return f"{stem}{i}"

    # ---- edits ---------------------------------------------------------
    def add_node(
        self,
        block: str,
        params: Mapping[str, Any] | None = None,
        position: tuple[float, float] = (0.0, 0.0),
        id: str | None = None,
        label: str = "",
        index: int | None = None,
    ) -> Node:
        """``index``: where in the document's order the node goes (undo puts a node back where it
        was: the compiler takes Inputs, and so ``forward``'s arguments, in this order); the end
        by default."""
        spec = self.library.spec(block)  # raises UnknownBlockError
        owner = self.library.owner(self) if block in self.library.definitions else None
        if owner is not None:
            path = [owner.name] if block == owner.name else self.library.contains(block, owner.name)
            if path:
                from .groups import GroupError

                chain = " > ".join([owner.name, *path])
                raise GroupError(f"{block} cannot go inside {owner.name}: a block would contain itself ({chain})")
        values = spec.coerce_params(params or {})  # raises ParamError
        node_id = self.new_id(spec.name) if id is None else id
        if not isinstance(node_id, str) or not node_id:
            raise NodeIdError("a node id cannot be empty: give letters, digits and _ (or no id for a new one)")
        if not _ID_RE.fullmatch(node_id):
            raise NodeIdError(f"node id {shown(node_id)} must be letters, digits and _ and not start with a digit")
        if node_id in self._nodes:
            raise NodeIdError(f"node id {shown(node_id)} is already taken")
        check_text(label, f"the label of {node_id}")
        node = Node(node_id, spec.name, values, (float(position[0]), float(position[1])), label, self.library)
        self._put(self._nodes, self._node_puts, node_id, node, index)
        self._pred[node_id] = {}
        self._succ[node_id] = {}
        self._ins[node_id] = []
        self._outs[node_id] = []
        if self._rank is not None:
            self._top += 1.0
            self._rank[node_id] = self._top
        self._order = None
        self._emit(GraphEvent("node_added", (node_id,)))
        self._reinfer([node_id])
        return node

    def remove_node(self, node_id: str) -> tuple[Node, list[Edge]]:
        """Remove a node and its wires; returns both so an undo can restore them."""
        node = self.node(node_id)
        self._settle_order()  # the indices of what is held count this node
        removed = []
        for edge in self.in_edges(node_id) + self.out_edges(node_id):
            self.disconnect(edge)
            removed.append(edge)
        del self._nodes[node_id]
        del self._pred[node_id], self._succ[node_id], self._ins[node_id], self._outs[node_id]
        if self._rank is not None:
            del self._rank[node_id]
        self._order = None
        self.shapes.forget(node_id)
        self._emit(GraphEvent("node_removed", (node_id,), old=node))
        return node, removed

    def set_params(self, node_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Change some parameters; returns their old values. Bad values raise
        ``ParamError`` and change nothing, as does dropping a wired input port."""
        node = self.node(node_id)
        values = self.checked_params(node_id, changes)
        old = {k: node.params[k] for k in changes}
        if values == node.params:
            return old
        node.params = values
        self._emit(GraphEvent("params_changed", (node_id,), old=old))
        self._reinfer([node_id])
        return old

    def checked_params(self, node_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        """The node's parameters with ``changes`` applied and coerced, changing nothing; a bad
        value, or one that would drop a wired input or output port, raises ``ParamError``."""
        node = self.node(node_id)
        spec = node.spec
        owner = self.library.owner(self) if self.library.definitions else None
        if owner is not None and not self._placing:
            bound = owner.bound()
            for key in changes:
                if (node_id, key) in bound and changes[key] != node.params.get(key):
                    raise ParamError(f"{node_id}.{key} is set by {owner.name}'s parameter {bound[node_id, key]}: "
                                     "change it on the group node", key)
        values = spec.coerce_params({**node.params, **changes})
        ports = {p.name for p in spec.input_ports(values)}
        for edge in self.in_edges(node_id):
            if edge.dst_port not in ports:
                raise ParamError(
                    f"{node_id}.{edge.dst_port} is wired ({edge}); remove that wire first", next(iter(changes), None))
        outs = {p.name for p in spec.output_ports(values)}
        for edge in self.out_edges(node_id):
            if edge.src_port not in outs:
                raise ParamError(
                    f"{node_id}.{edge.src_port} is wired ({edge}); remove that wire first", next(iter(changes), None))
        return values

    def move_node(self, node_id: str, position: tuple[float, float]) -> tuple[float, float]:
        node = self.node(node_id)
        old = node.position
        node.position = (float(position[0]), float(position[1]))
        self._emit(GraphEvent("node_moved", (node_id,), old=old))
        return old

    def set_label(self, node_id: str, label: str) -> str:
        node = self.node(node_id)
        check_text(label, f"the label of {node_id}")  # raises UnsavableError, changes nothing
        old = node.label
        node.label = label
        self._emit(GraphEvent("label_changed", (node_id,), old=old))
        return old

    def set_training(self, training: Mapping[str, Any]) -> dict[str, Any]:
        """Replace the training settings; text a file cannot hold (a lone surrogate) or a
        number it cannot write (NaN, infinity) raises ``UnsavableError`` naming the key, changing nothing."""
        for path, reason in unsavable(dict(training), ("training",)):
            raise UnsavableError(f"{json_place(path)}: {reason}")
        old = self.training
        self.training = copy.deepcopy(dict(training))
        self._emit(GraphEvent("training_changed", old=old))
        return old

    def check_connect(self, src: str, src_port: str, dst: str, dst_port: str) -> ConnectionRefused | None:
        """Why a wire would be refused, or None if it may be drawn."""
        for nid in (src, dst):
            if nid not in self._nodes:
                return UnknownPortError(f"no node {shown(nid)}", nid, None)
        if src_port not in {p.name for p in self._nodes[src].output_ports()}:
            return UnknownPortError(f"{src} has no output {shown(src_port)}", src, src_port)
        if dst_port not in {p.name for p in self._nodes[dst].input_ports()}:
            return UnknownPortError(f"{dst} has no input {shown(dst_port)}", dst, dst_port)
        edge = Edge(src, src_port, dst, dst_port)
        if edge in self._edges:
            return DuplicateEdgeError(f"{edge} is already wired", dst, dst_port)
        taken = self.edge_into(dst, dst_port)
        if taken is not None:
            return InputTakenError(f"{dst}.{dst_port} already takes {taken.src}.{taken.src_port}", dst, dst_port)
        if src == dst or self._raised_for(src, dst) is None:
            return CycleError(f"{edge} would make a cycle", dst, dst_port)
        return None

    def _raised_for(self, src: str, dst: str) -> list[str] | None:
        """What a wire ``src -> dst`` needs ranked below ``dst``: ``src`` and those of its ancestors
        ranked above ``dst`` (none when ``src`` is below it already); None when ``dst`` is among
        them, which is when the wire would close a cycle. Only ranks between the two are searched."""
        rank = self.ranks()
        floor = rank[dst]
        if rank[src] < floor:
            return []
        found, todo = {src}, [src]
        while todo:
            for p in self._pred[todo.pop()]:
                if p == dst:
                    return None
                if p not in found and rank[p] > floor:
                    found.add(p)
                    todo.append(p)
        return sorted(found, key=rank.__getitem__)

    def _rank_for_wire(self, src: str, dst: str) -> None:
        """Keep every wire running up the ranks once ``src -> dst`` is drawn: ``src`` and its
        ancestors above ``dst`` move, in their order, into the gap just below ``dst``."""
        if self._rank is None:
            return
        moving = self._raised_for(src, dst)
        if not moving:
            return
        rank = self._rank
        inside = set(moving)
        # Their other feeders rank below dst already (any ranked above it would be moving).
        low = max((rank[p] for n in moving for p in self._pred[n] if p not in inside), default=None)
        high = rank[dst]
        if low is None:
            low = high - len(moving) - 1
        step = (high - low) / (len(moving) + 1)
        new = [low + step * (i + 1) for i in range(len(moving))]
        if not all(a < b for a, b in zip([low, *new], [*new, high])):
            self._rank = None  # the gap is spent (floats run out of room): number afresh when next asked
            return
        for n, r in zip(moving, new):
            rank[n] = r

    def connect(self, src: str, src_port: str, dst: str, dst_port: str, index: int | None = None) -> Edge:
        """``index``: where in the document's order of wires it goes (undo); the end by default."""
        problem = self.check_connect(src, src_port, dst, dst_port)
        if problem is not None:
            raise problem
        edge = Edge(src, src_port, dst, dst_port)
        self._rank_for_wire(src, dst)  # before the wire exists: dst is not yet among src's feeders
        self._put(self._edges, self._edge_puts, edge, None, index)
        self._succ[src].setdefault(dst, {})[edge] = None
        self._pred[dst].setdefault(src, {})[edge] = None
        self._rewired(src, dst)
        self._order = None
        self._emit(GraphEvent("edge_added", (src, dst), edge=edge))
        self._reinfer([dst])
        return edge

    def disconnect(self, edge: Edge) -> Edge:
        if edge not in self._edges:
            raise UnknownPortError(f"no wire {edge}", edge.dst, edge.dst_port)
        self._settle_order()
        del self._edges[edge]
        for side, a, b in ((self._succ, edge.src, edge.dst), (self._pred, edge.dst, edge.src)):
            wires = side[a][b]
            del wires[edge]
            if not wires:
                del side[a][b]
        self._rewired(edge.src, edge.dst)
        self._order = None
        self._emit(GraphEvent("edge_removed", (edge.src, edge.dst), edge=edge))
        self._reinfer([edge.dst])
        return edge

    # ---- whole documents ----------------------------------------------
    def copy(self, library: "Library | None" = None, inputs: Mapping[str, Any] | None = None,
             params: Mapping[str, Mapping[str, Any]] | None = None) -> "Graph":
        """A copy. A top graph's copy gets copies of its definitions; ``library`` puts the copy in
        that one instead (a definition's inside). ``inputs`` (Input id -> shape) and ``params``
        (node -> values) are put in on the way (an instance of a definition). Shapes are inferred
        once, at the end."""
        if library is None:
            from .groups import copy_library

            library = copy_library(self.library)
            other = Graph(self.name, library)
            library.attach(other)
        else:
            other = Graph(self.name, library)
        other.description = self.description
        other.training = copy.deepcopy(self.training)
        self._settle_order()
        for n in self._nodes.values():
            values = dict(n.params)
            if params and n.id in params:
                values.update(params[n.id])
            if inputs and n.id in inputs and inputs[n.id] is not None:
                values["shape"] = list(inputs[n.id])
            node = Node(n.id, n.block, library.spec(n.block).coerce_params(values), n.position, n.label, library)
            other._nodes[n.id] = node
            other._pred[n.id] = {}
            other._succ[n.id] = {}
        for e in self._edges:
            other._edges[e] = None
            other._succ[e.src].setdefault(e.dst, {})[e] = None
            other._pred[e.dst].setdefault(e.src, {})[e] = None
        for n in other._nodes:
            other._ins[n] = [e for wires in other._pred[n].values() for e in wires]
            other._outs[n] = [e for wires in other._succ[n].values() for e in wires]
        other._rank = None
        other.shapes.update_all()
        return other

    def node_index(self, node_id: str) -> int:
        """Where the node stands in the document's order."""
        self._settle_order()
        return list(self._nodes).index(node_id)

    def edge_index(self, edge: Edge) -> int:
        self._settle_order()
        return list(self._edges).index(edge)

    def snapshot(self) -> dict[str, Any]:
        """A plain comparable picture of the document (for tests and undo checks), order included:
        the order of nodes is the order of a network's inputs and outputs."""
        self._settle_order()
        return {
            "name": self.name,
            "training": copy.deepcopy(self.training),
            "nodes": {n.id: (n.block, dict(n.params), n.position, n.label) for n in self._nodes.values()},
            "order": list(self._nodes),
            "edges": list(self._edges),
            "definitions": {name: self.library.definitions[name].snapshot() for name in self.library.definitions}
            if self.library.owner(self) is None else {},
        }


def _insert(ordered: dict, key: Any, value: Any, index: int | None) -> None:
    """``key`` into an insertion-ordered dict at ``index`` (the end when None or past it), in place:
    views of the dict held elsewhere stay current."""
    if index is None or index >= len(ordered):
        ordered[key] = value
        return
    items = list(ordered.items())
    items.insert(max(0, index), (key, value))
    ordered.clear()
    ordered.update(items)


def _reorder(ordered: dict, puts: list) -> None:
    """Place the keys ``puts`` names (the last ones of ``ordered``, put there in that order) as
    ``_insert`` at each one's index in turn would have, rebuilding ``ordered`` once; empties ``puts``."""
    if all(index is None for _, index in puts):
        puts.clear()  # each went to the end: already in place
        return
    items = list(ordered.items())
    held = len(items) - len(puts)
    items, values = items[:held], dict(items[held:])
    for key, index in puts:
        if index is None or index >= len(items):
            items.append((key, values[key]))
        else:
            items.insert(max(0, index), (key, values[key]))
    puts.clear()
    ordered.clear()
    ordered.update(items)
