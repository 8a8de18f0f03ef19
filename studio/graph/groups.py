"""Groups: a network inside a block, edited as one node or from the inside.

A ``Definition`` is a named graph of its own (``BasicBlock``) with ports: each
input port is one of its Input nodes, each output port one output of an inner
node. A group node is an instance of a definition: its ``block`` is the
definition's name, so every instance shares one inside, and an edit inside
changes them all. A definition can expose inner parameters (``channels`` bound
to ``conv1.out_channels`` and ``conv2.out_channels``): each instance holds its
own values for them.

The definitions of a document live in its ``Library``, shared by the top graph
and by every definition's own graph, so groups nest to any depth. The library
watches each definition's graph: an edit there re-infers every instance, in
every graph, and the graphs holding those instances tell their own listeners.

An instance's shapes come from its inside: the definition's graph with the
instance's input shapes and parameter values put in (``Definition.instance``),
inferred by the same incremental machinery as any graph, and remembered for
each (inside, shapes, values) seen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

import blocks
from blocks import BlockSpec, Param, Port, ShapeError

from .errors import GraphError
from .text import shown

if TYPE_CHECKING:
    from .document import Graph

CATEGORY = "My blocks"
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MEMO_LIMIT = 64  # instances seen per definition: a few per use, many more only while sizes are typed


class GroupError(GraphError):
    pass


@dataclass(frozen=True)
class Exposed:
    """A parameter of a definition, bound to inner parameters: ``targets`` are (node, param) pairs."""

    name: str
    targets: tuple[tuple[str, str], ...]
    default: Any


@dataclass(frozen=True)
class OutputPort:
    name: str
    node: str
    port: str = "out"


@dataclass(frozen=True, eq=False)
class GroupSpec(BlockSpec):
    """A definition seen as a block; rebuilt after every edit of the definition (``revision``)."""

    definition: "Definition | None" = None
    revision: int = 0


# How a definition's inside becomes a module; studio.compile sets it (the graph layer knows no torch).
_module_builder: Callable[["Definition", "Graph"], Any] | None = None


def set_module_builder(builder: Callable[["Definition", "Graph"], Any]) -> None:
    global _module_builder
    _module_builder = builder


class _GroupModule:
    """The ``Constructor`` class of a group: builds the instance's inside as a module."""

    def __new__(cls, definition: "Definition", inside: "Graph"):
        if _module_builder is None:  # studio.compile sets it as it is imported: the graph layer knows no torch
            raise RuntimeError(f"cannot build {definition.name}: import studio.compile first")
        return _module_builder(definition, inside)


class Definition:
    def __init__(self, name: str, graph: "Graph", inputs: Iterable[str] = (),
                 outputs: Iterable[OutputPort] = (), exposed: Iterable[Exposed] = (), description: str = "") -> None:
        self.name = name
        self.graph = graph
        self.inputs: list[str] = list(inputs)  # inner Input node ids, in port order; a port is named as its node
        self.outputs: list[OutputPort] = list(outputs)
        self.exposed: list[Exposed] = list(exposed)
        self.description = description
        self.revision = 0
        self._spec: GroupSpec | None = None
        self._memo: dict[tuple, "Graph"] = {}

    # ---- as a block ----------------------------------------------------
    @property
    def spec(self) -> GroupSpec:
        if self._spec is None or self._spec.revision != self.revision:
            self._spec = self._make_spec()
        return self._spec

    def _make_spec(self) -> GroupSpec:
        params = []
        for e in self.exposed:
            inner = self._target_param(e)
            params.append(replace(inner, name=e.name, default=e.default,
                                  doc=f"{inner.doc} (sets {', '.join(f'{n}.{p}' for n, p in e.targets)})"))
        dtypes = [self.graph.node(n).params.get("dtype", "float") for n in self.inputs if n in self.graph]
        count = sum(1 for n in self.graph.nodes.values() if not n.spec.is_input)  # the ports are not blocks
        return GroupSpec(
            name=self.name, category=CATEGORY,
            doc=self.description or f"A group of {count} block{'s' * (count != 1)}.",
            inputs=tuple(Port(n) for n in self.inputs),
            outputs=tuple(Port(o.name) for o in self.outputs),
            params=tuple(params),
            infer=self._infer,
            constructor=lambda in_shapes, values: blocks.Constructor(
                _GroupModule, (self, self.instance(in_shapes, values))),
            key_params=tuple(e.name for e in self.exposed[:2]),
            dtypes="ids" if dtypes and all(d == "long" for d in dtypes) else "float",
            definition=self, revision=self.revision,
        )

    def _target_param(self, exposed: Exposed) -> Param:
        node_id, param = exposed.targets[0]
        return self.graph.node(node_id).spec.param(param)

    def _infer(self, given: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
        inside = self.instance(given, values)
        for node_id in inside.topological_order():
            problem = inside.shapes.error(node_id)
            if problem is not None:
                raise ShapeError(f"inside {self.name}, {node_id}: {problem.message}")
        out = {}
        for o in self.outputs:
            shape = inside.shapes.output(o.node, o.port) if o.node in inside else None
            if shape is None:
                raise ShapeError(f"inside {self.name}, output {o.name} has no shape ({o.node}.{o.port})")
            out[o.name] = shape
        return out

    def param_count(self, given: Mapping[str, Any], values: Mapping[str, Any]) -> int | None:
        inside = self.instance(given, values)
        total = 0
        for node_id in inside.nodes:
            count = inside.param_count(node_id)
            if count is None and inside.node(node_id).spec.constructor is not None:
                return None
            total += count or 0
        return total

    # ---- one instance's inside -------------------------------------------
    def bindings(self, values: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        """Inner node -> the parameter values an instance's ``values`` put there."""
        out: dict[str, dict[str, Any]] = {}
        for e in self.exposed:
            value = values.get(e.name, e.default)
            for node_id, param in e.targets:
                out.setdefault(node_id, {})[param] = value
        return out

    def instance(self, given: Mapping[str, Any], values: Mapping[str, Any]) -> "Graph":
        """The inside of an instance fed ``given`` (input port -> shape) with parameter ``values``:
        a graph of its own, shapes inferred; remembered, so keep it unchanged."""
        key = (self.revision, _freeze(dict(given)), _freeze(dict(values)))
        inside = self._memo.get(key)
        if inside is None:
            inside = self.graph.copy(library=self.graph.library, inputs=given, params=self.bindings(values))
            if len(self._memo) >= _MEMO_LIMIT:
                self._memo.pop(next(iter(self._memo)))
            self._memo[key] = inside
        return inside

    def changed(self) -> None:
        self.revision += 1
        self._memo.clear()

    # ---- checks --------------------------------------------------------
    def bound(self) -> dict[tuple[str, str], str]:
        """(inner node, param) -> the exposed parameter that sets it."""
        return {t: e.name for e in self.exposed for t in e.targets}

    def uses(self) -> set[str]:
        """Names of the definitions used inside this one (directly)."""
        lib = self.graph.library
        return {n.block for n in self.graph.nodes.values() if n.block in lib.definitions}

    def snapshot(self) -> dict[str, Any]:
        return {"graph": self.graph.snapshot(), "inputs": list(self.inputs), "outputs": list(self.outputs),
                "exposed": list(self.exposed), "description": self.description}


def _freeze(value):
    if isinstance(value, dict):
        return tuple((k, _freeze(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    return value


# Events inside a definition that cannot change what its instances compute.
_COSMETIC = {"node_moved", "label_changed", "shapes_changed", "training_changed"}


class Library:
    """The definitions of one document, and the graphs that may use them."""

    def __init__(self) -> None:
        self.definitions: dict[str, Definition] = {}
        self._graphs: list["Graph"] = []  # the top graph(s); definitions' graphs are found through them
        self._listeners: list[Callable[[str, str], None]] = []
        self._unsubscribe: dict[str, Callable[[], None]] = {}

    # ---- reading ---------------------------------------------------------
    def get(self, name: str) -> Definition | None:
        return self.definitions.get(name)

    def spec(self, block: str) -> BlockSpec:
        d = self.definitions.get(block)
        return d.spec if d is not None else blocks.get(block)

    def graphs(self) -> list["Graph"]:
        return [*self._graphs, *(d.graph for d in self.definitions.values())]

    def owner(self, graph: "Graph") -> Definition | None:
        for d in self.definitions.values():
            if d.graph is graph:
                return d
        return None

    def instances(self, name: str) -> list[tuple["Graph", str]]:
        """Every use of a definition: (graph, node id), the top graph first."""
        return [(g, n.id) for g in self.graphs() for n in g.nodes.values() if n.block == name]

    def contains(self, outer: str, inner: str) -> list[str] | None:
        """The path of definitions from ``outer`` down to a use of ``inner`` (both included), or None."""
        seen: set[str] = set()

        def walk(name: str, path: list[str]) -> list[str] | None:
            if name == inner and len(path) > 1:
                return path
            if name in seen or name not in self.definitions:
                return None
            seen.add(name)
            for used in sorted(self.definitions[name].uses()):
                found = walk(used, path + [used])
                if found:
                    return found
            return None

        if outer == inner:
            return [outer] if inner in self.definitions[outer].uses() else walk(outer, [outer])
        return walk(outer, [outer])

    def order(self) -> list[str]:
        """Definition names, each after those it uses (the order a file lists them)."""
        done: dict[str, None] = {}

        def visit(name: str) -> None:
            if name in done:
                return
            for used in sorted(self.definitions[name].uses()):
                if used in self.definitions and used not in done:
                    visit(used)
            done[name] = None

        for name in self.definitions:
            visit(name)
        return list(done)

    # ---- listening -------------------------------------------------------
    def subscribe(self, listener: Callable[[str, str], None]) -> Callable[[], None]:
        """``listener(kind, name)``: kind is "added", "removed", "renamed" (name is the new one) or "changed"."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _tell(self, kind: str, name: str) -> None:
        for listener in list(self._listeners):
            listener(kind, name)

    def attach(self, graph: "Graph") -> None:
        self._graphs.append(graph)

    # ---- edits -----------------------------------------------------------
    def check_name(self, name: str) -> None:
        if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
            raise GroupError(f"a block name must be letters, digits and _ and not start with a digit, "
                             f"got {shown(name)}")
        if name in self.definitions:
            raise GroupError(f"there is already a block {shown(name)} in this graph")
        if blocks.exists(name):
            raise GroupError(f"{shown(name)} is the name of a built-in block; choose another")

    def new_name(self, stem: str = "Group") -> str:
        i = 1
        while f"{stem}{i}" in self.definitions or blocks.exists(f"{stem}{i}"):
            i += 1
        return f"{stem}{i}"

    def add(self, definition: Definition, index: int | None = None) -> None:
        self.check_name(definition.name)
        if definition.graph.library is not self:
            raise GroupError(f"{definition.name}'s graph belongs to another document")
        items = list(self.definitions.items())
        items.insert(len(items) if index is None else index, (definition.name, definition))
        self.definitions.clear()
        self.definitions.update(items)
        self._unsubscribe[definition.name] = definition.graph.subscribe(
            lambda event, d=definition: self._inner_event(d, event))
        path = self.contains(definition.name, definition.name)
        if path:
            self.remove(definition.name)
            raise GroupError(f"{definition.name} would contain itself: {' > '.join(path)}")
        self._tell("added", definition.name)

    def remove(self, name: str) -> Definition:
        used = [f"{g.name or 'the graph'}: {n}" if self.owner(g) is None else f"{self.owner(g).name}: {n}"
                for g, n in self.instances(name)]
        if used:
            raise GroupError(f"{name} is still used ({', '.join(used[:3])}); remove those first")
        definition = self.definitions.pop(name)
        self._unsubscribe.pop(name)()
        self._tell("removed", name)
        return definition

    def rename(self, old: str, new: str) -> None:
        """Rename a definition: every instance, in every graph, follows."""
        if old == new:
            return
        self.check_name(new)
        d = self.definitions[old]
        users = self.instances(old)
        self.definitions = {new if k == old else k: v for k, v in self.definitions.items()}
        self._unsubscribe[new] = self._unsubscribe.pop(old)
        d.name = new
        d.graph.name = new
        for graph, node_id in users:
            graph.node(node_id).block = new
        d.changed()
        self._tell("renamed", new)
        for graph, node_id in users:
            graph.definition_changed([node_id])

    def index(self, name: str) -> int:
        return list(self.definitions).index(name)

    def set_exposed(self, name: str, exposed: Iterable[Exposed],
                    values: Mapping[tuple[int, str], Mapping[str, Any]] | None = None) -> tuple[list, dict]:
        """Change a definition's parameters; each instance keeps its values for those that stay and
        takes the default of new ones (or ``values[(id(graph), node)]``, what an undo puts back).
        Returns the old parameters and the old values, for the undo."""
        d = self.definitions[name]
        new = list(exposed)
        for e in new:
            if not _NAME_RE.fullmatch(e.name):
                raise GroupError(f"a parameter name must be letters, digits and _, got {shown(e.name)}")
            for node_id, param in e.targets:
                d.graph.node(node_id).spec.param(param)  # KeyError / NodeIdError name what is missing
        old = d.exposed
        old_values = {(id(g), n): dict(g.node(n).params) for g, n in self.instances(name)}
        d.exposed = new
        d.changed()
        names = {e.name for e in new}
        for g, n in self.instances(name):
            node = g.node(n)
            kept = {k: v for k, v in node.params.items() if k in names}
            if values is not None and (id(g), n) in values:
                kept = dict(values[(id(g), n)])
            node.params = d.spec.coerce_params(kept)
        self._changed(d)
        return old, old_values

    def set_ports(self, name: str, inputs: Iterable[str], outputs: Iterable[OutputPort]) -> tuple:
        d = self.definitions[name]
        old = (list(d.inputs), list(d.outputs))
        d.inputs, d.outputs = list(inputs), list(outputs)
        self._changed(d)
        return old

    def _inner_event(self, definition: Definition, event) -> None:
        if event.kind in _COSMETIC or definition.graph._placing:
            return
        self._changed(definition)

    def _changed(self, definition: Definition) -> None:
        definition.changed()
        self._tell("changed", definition.name)
        by_graph: dict[int, tuple["Graph", list[str]]] = {}
        for graph, node_id in self.instances(definition.name):
            by_graph.setdefault(id(graph), (graph, []))[1].append(node_id)
        for graph, node_ids in by_graph.values():
            graph.definition_changed(node_ids)


def copy_library(library: Library) -> Library:
    """A library with copies of every definition (for a copy of a whole document)."""
    other = Library()
    for name in library.order():
        d = library.definitions[name]
        other.add(Definition(name, d.graph.copy(library=other), d.inputs, d.outputs, d.exposed, d.description))
    # keep the first library's order of definitions (the palette's and the file's)
    other.definitions = {name: other.definitions[name] for name in library.definitions}
    return other


# ---- grouping and ungrouping, with a journal that undoes and redoes exactly ----------------

def group_nodes(graph: "Graph", node_ids: Iterable[str], name: str | None = None, group_id: str | None = None):
    """Make ``node_ids`` one group node, an instance of a new definition; returns (Journal, group id).

    The group's input ports are the distinct sources of the wires that cross into the
    selection (one port per source, however many inner nodes it feeds), named after the
    inner node it feeds first; its outputs are the wired-out ports of the selection, named
    after their node. Selected Input nodes stay inside as Input nodes of the group."""
    from .document import Edge, Graph

    wanted = set(node_ids)
    chosen = [n for n in graph.nodes if n in wanted]
    if not chosen:
        raise GroupError("select the blocks to group first")
    members = set(chosen)
    if any(graph.node(n).spec.is_input for n in chosen):
        raise GroupError("an Input stays outside a group: select the blocks after it")
    library = graph.library
    name = name or library.new_name()
    library.check_name(name)
    inner = Graph(name, library=library)
    inner.shapes.hold()  # inferred once, when built
    for n in chosen:
        node = graph.node(n)
        inner.add_node(node.block, node.params, node.position, node.id, node.label)
    crossing_in = [e for e in graph.edges if e.dst in members and e.src not in members]
    crossing_out = [e for e in graph.edges if e.src in members and e.dst not in members]
    inside = [e for e in graph.edges if e.src in members and e.dst in members]
    # one input per distinct source outside
    sources: dict[tuple[str, str], str] = {}
    left = min(graph.node(n).position[0] for n in chosen)
    placed: list[float] = []
    taken = set(inner.nodes)
    for e in crossing_in:
        if (e.src, e.src_port) in sources:
            continue
        stem = "x" if len({(c.src, c.src_port) for c in crossing_in}) == 1 else f"{e.dst}_{e.dst_port}"
        port = _free(stem, taken)
        taken.add(port)
        sources[(e.src, e.src_port)] = port
        shape = graph.shapes.output(e.src, e.src_port)
        dtype = _source_dtype(graph, e.src)
        # a column (280 px, room for the shape on its wire) left of the whole inside, level with the
        # block it feeds, below the inputs placed before it
        y = graph.node(e.dst).position[1]
        while any(abs(y - py) < 90.0 for py in placed):
            y += 90.0
        placed.append(y)
        inner.add_node("Input", {"shape": list(shape) if shape else [1], "dtype": dtype},
                       (left - 280.0, y), port, index=len(sources) - 1)
    for e in crossing_in:
        inner.connect(sources[(e.src, e.src_port)], "out", e.dst, e.dst_port)
    for e in inside:
        inner.connect(e.src, e.src_port, e.dst, e.dst_port)
    inner.shapes.release()
    outs: dict[tuple[str, str], OutputPort] = {}
    distinct = {(e.src, e.src_port) for e in crossing_out}
    used_names: set[str] = set()
    for e in crossing_out:
        if (e.src, e.src_port) in outs:
            continue
        stem = "out" if len(distinct) == 1 else (e.src if e.src_port == "out" else f"{e.src}_{e.src_port}")
        port = _free(stem, used_names)
        used_names.add(port)
        outs[(e.src, e.src_port)] = OutputPort(port, e.src, e.src_port)
    if not outs:  # nothing leaves: the selection's last outputs are the group's
        sinks = [n for n in chosen if not graph.out_edges(n)] or chosen[-1:]
        for n in sinks:
            for p in graph.node(n).output_ports():
                stem = "out" if len(sinks) == 1 and len(graph.node(n).output_ports()) == 1 else f"{n}_{p.name}"
                outs[(n, p.name)] = OutputPort(_free(stem, used_names), n, p.name)
                used_names.add(outs[(n, p.name)].name)
    definition = Definition(name, inner, list(sources.values()), list(outs.values()))
    xs = [graph.node(n).position[0] for n in chosen]
    ys = [graph.node(n).position[1] for n in chosen]
    position = (sum(xs) / len(xs), sum(ys) / len(ys))
    index = min(graph.node_index(n) for n in chosen)
    journal = _journal()
    graph.shapes.hold()  # some 400 steps, re-inferred once
    try:
        _define(library, definition, journal)
        _remove_all(graph, chosen[::-1], journal)
        gid = group_id or graph.new_id(id_stem(name))
        _add(graph, name, {}, position, journal, gid, "", index)
        for e in crossing_in:
            port = sources[(e.src, e.src_port)]
            edge = Edge(e.src, e.src_port, gid, port)
            if graph.edge_into(gid, port) is None:
                _connect(graph, edge, journal)
        for e in crossing_out:
            _connect(graph, Edge(gid, outs[(e.src, e.src_port)].name, e.dst, e.dst_port), journal)
    except GraphError:
        journal.undo(graph)
        raise
    finally:
        graph.shapes.release()
    return journal, gid


def ungroup(graph: "Graph", group_id: str):
    """Put a group node's inside (with its parameter values) in its place; returns (Journal, new ids).
    The definition stays while other nodes use it."""
    from .document import Edge

    node = graph.node(group_id)
    definition = graph.library.get(node.block)
    if definition is None:
        raise GroupError(f"{group_id} is not a group")
    inside = definition.graph
    values = definition.bindings(node.params)
    ins, outs = graph.in_edges(group_id), graph.out_edges(group_id)
    index = graph.node_index(group_id)
    journal = _journal()
    rename: dict[str, str] = {}
    taken = set(graph.nodes) - {group_id}
    members = [n for n in inside.nodes if n not in definition.inputs]
    for n in members:
        rename[n] = _free(n, taken)
        taken.add(rename[n])
    # centre the inside on where the group stood
    if members:
        xs = [inside.node(n).position[0] for n in members]
        ys = [inside.node(n).position[1] for n in members]
        cx, cy = sum(xs) / len(xs), sum(ys) / len(ys)
    gx, gy = node.position
    graph.shapes.hold()
    try:
        _remove(graph, group_id, journal)
        for k, n in enumerate(members):
            inner = inside.node(n)
            params = {**inner.params, **values.get(n, {})}
            x, y = inner.position
            _add(graph, inner.block, params, (gx + x - cx, gy + y - cy), journal, rename[n], inner.label, index + k)
        fed = {e.dst_port: e for e in ins}
        for e in inside.edges:
            if e.src in definition.inputs:
                outer = fed.get(e.src)
                if outer is not None and e.dst in rename:
                    _connect(graph, Edge(outer.src, outer.src_port, rename[e.dst], e.dst_port), journal)
            elif e.src in rename and e.dst in rename:
                _connect(graph, Edge(rename[e.src], e.src_port, rename[e.dst], e.dst_port), journal)
        ports = {o.name: o for o in definition.outputs}
        for e in outs:
            o = ports.get(e.src_port)
            if o is None or o.node not in rename:
                continue
            _connect(graph, Edge(rename[o.node], o.port, e.dst, e.dst_port), journal)
        if not graph.library.instances(definition.name):
            _undefine(graph.library, definition.name, journal)
    except GraphError:
        journal.undo(graph)
        raise
    finally:
        graph.shapes.release()
    return journal, [rename[n] for n in members]


def make_unique(graph: "Graph", group_id: str, name: str | None = None):
    """Give one instance a definition of its own (a copy), so edits inside it change it alone."""
    from .fixes import Journal

    node = graph.node(group_id)
    library = graph.library
    old = library.get(node.block)
    if old is None:
        raise GroupError(f"{group_id} is not a group")
    name = name or library.new_name(old.name)
    library.check_name(name)
    copy = Definition(name, old.graph.copy(library=library), old.inputs, old.outputs, old.exposed, old.description)
    journal = Journal()
    try:
        _define(library, copy, journal)
        _replace_block(graph, group_id, name, journal)
    except GraphError:
        journal.undo(graph)
        raise
    return journal


def expose(graph: "Graph", name: str, exposed: Iterable[Exposed]):
    """Set the parameters a definition exposes, as one journaled step."""
    from .fixes import Journal

    library = graph.library
    new = list(exposed)
    old, values = library.set_exposed(name, new)
    journal = Journal()
    journal.steps.append(("exposed", library, name, old, new, values))
    return journal


def rename_definition(graph: "Graph", old: str, new: str):
    """Rename a definition (what "Save as block" asks for), as one journaled step."""
    from .fixes import Journal

    graph.library.rename(old, new)
    journal = Journal()
    journal.steps.append(("rename", graph.library, old, new))
    return journal


def rename_port(graph: "Graph", name: str, old: str, new: str):
    """Rename a port of a definition, as one journaled step: every use's wires follow. An input
    port is its Input node inside, so that node takes the new id."""
    from .document import Edge

    library = graph.library
    d = library.get(name)
    if d is None:
        raise GroupError(f"no block {shown(name)} in this graph's library")
    ports = [*d.inputs, *(o.name for o in d.outputs)]
    if old not in ports:
        raise GroupError(f"{name} has no port {shown(old)}")
    if old == new:
        return _journal()
    if not isinstance(new, str) or not _NAME_RE.fullmatch(new):
        raise GroupError(f"a port name must be letters, digits and _ and not start with a digit, got {shown(new)}")
    if new in ports or (old in d.inputs and new in d.graph):
        raise GroupError(f"{name} already has {'a port' if new in ports else 'a block'} {shown(new)}")
    journal = _journal()
    uses = library.instances(name)
    rewire = []
    for g, n in uses:
        for e in g.in_edges(n) + g.out_edges(n):
            if (e.dst == n and e.dst_port == old) or (e.src == n and e.src_port == old):
                at = g.edge_index(e)
                g.disconnect(e)
                journal.steps.append(("on", g, ("disconnect", e, at)))
                rewire.append((g, Edge(e.src, new if e.src == n else e.src_port, e.dst,
                                       new if e.dst == n else e.dst_port)))
    before = (list(d.inputs), list(d.outputs))
    if old in d.inputs:
        inner = d.graph
        node = inner.node(old)
        record = {"block": node.block, "params": dict(node.params), "position": node.position, "id": new,
                  "label": node.label, "index": inner.node_index(old)}
        wires = inner.out_edges(old)
        sub = _journal()
        _remove(inner, old, sub)
        inner.add_node(node.block, node.params, node.position, new, node.label, record["index"])
        sub.steps.append(("add", record))
        for e in wires:
            _connect(inner, Edge(new, e.src_port, e.dst, e.dst_port), sub)
        journal.steps.extend(("on", inner, step) for step in sub.steps)
        after = ([new if p == old else p for p in d.inputs], list(d.outputs))
    else:
        after = (list(d.inputs), [OutputPort(new, o.node, o.port) if o.name == old else o for o in d.outputs])
    library.set_ports(name, *after)
    journal.steps.append(("ports", library, name, before, after))
    for g, edge in rewire:
        g.connect(edge.src, edge.src_port, edge.dst, edge.dst_port)
        journal.steps.append(("on", g, ("connect", edge)))
    return journal


def use_definition(graph: "Graph", name: str, position=(0.0, 0.0), node_id: str | None = None) -> str:
    """A new instance of ``name`` (what a drag from "My blocks" adds)."""
    definition = graph.library.get(name)
    if definition is None:
        raise GroupError(f"no block {shown(name)} in this graph's library")
    return graph.add_node(name, {}, position, node_id or graph.new_id(id_stem(name))).id


_journal_class = None


def _journal():
    """A Journal whose undo and redo re-infer shapes once, at the end (``ShapeInference.hold``)."""
    global _journal_class
    if _journal_class is None:
        from .fixes import Journal

        class GroupJournal(Journal):
            def undo(self, graph: "Graph") -> None:
                with graph.shapes.held():
                    super().undo(graph)

            def redo(self, graph: "Graph") -> None:
                with graph.shapes.held():
                    super().redo(graph)

        _journal_class = GroupJournal
    return _journal_class()


def _replace_block(graph: "Graph", node_id: str, block: str, journal) -> None:
    from .fixes import _add, _connect, _remove

    old = graph.node(node_id)
    ins, outs = graph.in_edges(node_id), graph.out_edges(node_id)
    position, label, index, params = old.position, old.label, graph.node_index(node_id), dict(old.params)
    _remove(graph, node_id, journal)
    _add(graph, block, params, position, journal, node_id, label, index)
    for e in ins + outs:
        _connect(graph, e, journal)


def id_stem(name: str) -> str:
    # BasicBlock -> basic_block: node ids read as attributes do
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def _free(stem: str, taken: set[str]) -> str:
    if stem not in taken:
        return stem
    i = 1
    while f"{stem}{i}" in taken:
        i += 1
    return f"{stem}{i}"


def _source_dtype(graph: "Graph", node_id: str) -> str:
    """What ``infer_dtypes`` gives the node (float where it gives nothing), from the nodes above
    it that pass dtypes on alone, not the whole graph (a third of grouping 100 nodes of 500)."""
    memo: dict[str, str] = {}
    stack = [node_id]
    while stack:
        n = stack[-1]
        if n in memo:
            stack.pop()
            continue
        node = graph.node(n)
        spec = node.spec
        if spec.is_input:
            memo[n] = node.params.get("dtype", "float")
        elif spec.dtypes != "any" or graph.shapes.error(n) is not None:
            memo[n] = "float"
        else:
            sources = [e.src for e in graph.in_edges(n)]
            todo = [s for s in sources if s not in memo]
            if todo:
                stack.extend(todo)
                continue
            kinds = {memo[s] for s in sources}
            memo[n] = kinds.pop() if len(kinds) == 1 else "float"
        stack.pop()
    return memo[node_id]


def _add(graph, block, params, position, journal, node_id=None, label="", index=None):
    from .fixes import _add as add

    return add(graph, block, params, position, journal, node_id, label, index)


def _remove(graph, node_id, journal):
    from .fixes import _remove as remove

    remove(graph, node_id, journal)


def _remove_all(graph, node_ids, journal) -> None:
    """``_remove`` of each node in turn, with the same journal records, the positions of nodes
    and wires counted from one list of each (``_remove`` looks each up in the whole list: for
    100 nodes in a 500-node graph that was most of a grouping's time)."""
    from bisect import bisect_left, insort

    node_at = {n: i for i, n in enumerate(graph.nodes)}
    edge_at = {e: i for i, e in enumerate(graph.edges)}
    nodes_gone: list[int] = []
    edges_gone: list[int] = []
    for node_id in node_ids:
        node = graph.node(node_id)
        at = node_at[node_id]
        index = at - bisect_left(nodes_gone, at)
        edges = []
        for e in graph.in_edges(node_id) + graph.out_edges(node_id):
            p = edge_at[e]
            edges.append((e, p - bisect_left(edges_gone, p)))
        edges.sort(key=lambda pair: pair[1])
        record = {"block": node.block, "params": dict(node.params), "position": node.position, "id": node.id,
                  "label": node.label}
        graph.remove_node(node_id)
        insort(nodes_gone, at)
        for e, _ in edges:
            insort(edges_gone, edge_at[e])
        journal.steps.append(("remove", record, index, edges))


def _connect(graph, edge, journal):
    from .fixes import _connect as connect

    connect(graph, edge, journal)


def _define(library: Library, definition: Definition, journal) -> None:
    library.add(definition)
    journal.steps.append(("define", library, definition, library.index(definition.name)))


def _undefine(library: Library, name: str, journal) -> None:
    index = library.index(name)
    definition = library.remove(name)
    journal.steps.append(("undefine", library, definition, index))


__all__ = [
    "CATEGORY", "Definition", "Exposed", "GroupError", "GroupSpec", "Library", "OutputPort", "group_nodes",
    "expose", "make_unique", "rename_definition", "rename_port", "set_module_builder", "ungroup", "use_definition",
]
