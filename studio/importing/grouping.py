"""Submodules used as a unit, imported as groups.

A child module whose class is the user's own (not a torch.nn layer, not one of
the block library's modules), called once by the forward, becomes one group
node named after its path (``layer1.0`` -> ``layer1_0``); its blocks go inside,
named after their path within it (``layer1.0.conv1`` -> ``conv1``). torch.nn
containers (``nn.Sequential``, ``nn.ModuleList``) are looked through, so
torchvision's ``layer1`` gives the groups ``layer1_0`` and ``layer1_1``. Such
a module inside another becomes a group inside the other's definition
(``Stage`` holding two ``BasicBlock``): the innermost are made first, and a
definition always comes after those it uses.

Instances of one class whose insides are wired alike share one definition,
named after the class; the parameters that differ between them (a block's
``out_channels``, ``stride``) are exposed, one per set of inner parameters
that agree in every instance, and each group node holds its values. Instances
wired otherwise (a downsampling shortcut) get a definition of their own:
``BasicBlock2``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import blocks
from studio.graph import Graph, validate
from studio.graph.errors import GraphError
from studio.graph.dtypes import infer_dtypes
from studio.graph.groups import Definition, Exposed, OutputPort

from .layout import lay_out
from .tracing import UnitCall

_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBERED = re.compile(r"_\d+$")


@dataclass
class _Unit:
    path: str
    cls: type
    members: list[str]  # flat node ids, in document order
    arguments: dict[str, str] = field(default_factory=dict)  # fx node name -> the forward's argument
    current: list[str] = field(default_factory=list)  # its nodes in the graph as it is grouped (inner groups made)
    inner: dict[str, str] = field(default_factory=dict)  # node id -> id inside
    sources: list[tuple[str, str]] = field(default_factory=list)  # (node, port) feeding each input port
    ports_in: list[str] = field(default_factory=list)
    feeds: dict[tuple[str, str], str] = field(default_factory=dict)  # (inner node, its port) -> input port
    outputs: list[tuple[str, str]] = field(default_factory=list)  # (node, port) of each output port
    ports_out: list[str] = field(default_factory=list)
    definition: str = ""
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class Grouped:
    graph: Graph
    module_of: dict[str, str]  # "group.inner" (or a top-level node id) -> module path
    scales: dict[str, float]


def group_units(flat: Graph, module_of: Mapping[str, str], scales: Mapping[str, float],
                origin: Mapping[str, str], calls: Sequence[UnitCall], counts: Mapping[str, int]) -> Grouped | None:
    """``flat`` with the submodules used as a unit made groups (a copy), or None when there are none
    or they cannot be made."""
    units = _units(flat, origin, calls, counts)
    if not units:
        return None
    graph = flat.copy()
    origin = dict(origin)
    under = {n: [n] for n in flat.nodes}  # a node of the graph being grouped -> the flat nodes it holds
    names = {n: [n] for n in flat.nodes}  # flat node -> its path of ids, groups first
    height = _heights(units)
    try:
        for level in sorted(set(height.values())):  # inner groups first, so a definition can use them
            done = [u for u in units if height[id(u)] == level]
            for u in done:
                members = set(u.members)
                u.current = [n for n in graph.nodes if set(under[n]) <= members]
                u.inner = _inner_ids(u.path, u.current)
                _ports(graph, u, origin)
            dtypes = infer_dtypes(graph)[0]
            _define(graph, done, dtypes)
            for u in done:
                _collapse(graph, u, under, names, origin)
    except GraphError:  # a grouping the graph refuses (a cycle through a unit): the flat import stands
        return None
    if validate(graph):
        return None
    grouped_module_of = {".".join(names[n]): path for n, path in module_of.items()}
    grouped_scales = {".".join(names[n]): factor for n, factor in scales.items()}
    return Grouped(graph, grouped_module_of, grouped_scales)


def _heights(units: list[_Unit]) -> dict[int, int]:
    """0 for a unit that holds no other, else one more than the highest it holds."""
    out: dict[int, int] = {}

    def height(u: _Unit) -> int:
        if id(u) not in out:
            members = set(u.members)
            inside = [v for v in units if v is not u and v.path.startswith(u.path + ".")
                      and set(v.members) <= members]
            out[id(u)] = 1 + max(map(height, inside)) if inside else 0
        return out[id(u)]

    for u in units:
        height(u)
    return out


def _collapse(graph: Graph, u: _Unit, under: dict[str, list[str]], names: dict[str, list[str]],
              origin: dict[str, str]) -> None:
    """The unit's nodes replaced by one group node, an instance of its definition, wired as they were."""
    members = set(u.current)
    ins = [e for e in graph.edges if e.dst in members and e.src not in members]
    outs = [e for e in graph.edges if e.src in members and e.dst not in members]
    out_port = dict(zip(u.outputs, u.ports_out))
    index = graph.node_index(u.current[-1]) - (len(u.current) - 1)  # where its last node stood
    held = [f for n in u.current for f in under[n]]
    for n in u.current:
        for f in under.pop(n):
            names[f] = [u.inner[n], *names[f][1:]]
        graph.remove_node(n)
    group_id = _free(_as_id(u.path.replace(".", "_")), set(graph.nodes))
    graph.add_node(u.definition, u.values, (0.0, 0.0), group_id, index=index)
    under[group_id] = held
    for f in held:
        names[f] = [group_id, *names[f]]
    if len(u.outputs) == 1 and u.outputs[0][0] in origin:
        origin[group_id] = origin[u.outputs[0][0]]  # the value a later call takes as its argument
    wired: set[str] = set()
    for e in ins:
        port = u.feeds[(u.inner[e.dst], e.dst_port)]
        if port not in wired:
            wired.add(port)
            graph.connect(e.src, e.src_port, group_id, port)
    for e in outs:
        graph.connect(group_id, out_port[(e.src, e.src_port)], e.dst, e.dst_port)


# ---- which calls are units ---------------------------------------------------------

def _user_class(cls: type) -> bool:
    from .tracing import _class_kind

    module = getattr(cls, "__module__", "") or ""
    return not (module == "torch" or module.startswith("torch.")) and _class_kind(cls) is None


def _units(flat: Graph, origin: Mapping[str, str], calls: Sequence[UnitCall], counts: Mapping[str, int]) -> list[_Unit]:
    units = []
    for call in calls:
        if not call.path or counts.get(call.path) != 1 or not _user_class(call.cls):
            continue
        made = set(call.nodes)
        members = [n for n in flat.nodes if origin.get(n) in made and not flat.node(n).spec.is_input]
        if members and _convex(flat, set(members)) and not _partly_returned(flat, set(members)):
            units.append(_Unit(call.path, call.cls, members, arguments=call.arguments))
    order = {n: i for i, n in enumerate(flat.nodes)}
    units.sort(key=lambda u: order[u.members[0]])
    return units


def _convex(graph: Graph, members: set[str]) -> bool:
    """No path leaves the set and comes back into it (a group of it would make a cycle)."""
    outside = {e.dst for n in members for e in graph.out_edges(n) if e.dst not in members}
    return not (graph.descendants(outside) | outside) & members


def _partly_returned(graph: Graph, members: set[str]) -> bool:
    """Whether the forward returns a value of the set while passing another on: a group wired onwards
    is no output of the graph, so its unwired port would not be returned."""
    returned = any(not graph.out_edges(n) for n in members)
    return returned and any(e.dst not in members for n in members for e in graph.out_edges(n))


def _inner_ids(path: str, members: list[str]) -> dict[str, str]:
    """``layer1_0_conv1`` -> ``conv1``; a call's numbered name (``add_3``) -> ``add``, ``add_1``..."""
    prefix = path.replace(".", "_") + "_"
    taken: set[str] = set()
    out = {}
    for node_id in members:
        if node_id.startswith(prefix) and len(node_id) > len(prefix):
            wanted = node_id[len(prefix):]
        else:
            wanted = _NUMBERED.sub("", node_id) or node_id
        wanted = _as_id(wanted)
        out[node_id] = _free(wanted, taken, sep="_")
        taken.add(out[node_id])
    return out


def _as_id(text: str) -> str:
    return text if _ID.fullmatch(text) else "_" + re.sub(r"\W", "_", text)


def _free(stem: str, taken: set[str], sep: str = "_") -> str:
    if stem not in taken:
        return stem
    i = 1
    while f"{stem}{sep}{i}" in taken:
        i += 1
    return f"{stem}{sep}{i}"


# ---- ports -------------------------------------------------------------------------

def _ports(graph: Graph, u: _Unit, origin: Mapping[str, str]) -> None:
    """The unit's input ports (one per outside value it reads, named after the forward's argument,
    in the order its nodes read them) and output ports (one per value it gives out: ``out``, or
    each after its inner node)."""
    members = set(u.current)
    for n in u.current:
        for port in graph.node(n).input_ports():
            e = graph.edge_into(n, port.name)
            if e is not None and e.src not in members and (e.src, e.src_port) not in u.sources:
                u.sources.append((e.src, e.src_port))
    for n in u.current:
        for p in graph.node(n).output_ports():
            wired_out = [e for e in graph.out_edges(n) if e.src_port == p.name]
            if (any(e.dst not in members for e in wired_out) or not graph.out_edges(n)) and (n, p.name) not in u.outputs:
                u.outputs.append((n, p.name))  # given out, or returned by the forward (unwired)
    taken = set(u.inner.values())
    for k, (src, _) in enumerate(u.sources):
        wanted = u.arguments.get(origin.get(src) or "", "")
        if not _ID.fullmatch(wanted or ""):
            wanted = "x" if len(u.sources) == 1 else f"x{k + 1}"
        u.ports_in.append(_free(wanted, taken))
        taken.add(u.ports_in[-1])
    for n in u.current:
        for port in graph.node(n).input_ports():
            e = graph.edge_into(n, port.name)
            if e is not None and e.src not in members:
                u.feeds[(u.inner[n], port.name)] = u.ports_in[u.sources.index((e.src, e.src_port))]
    used: set[str] = set()
    for src, port in u.outputs:
        wanted = "out" if len(u.outputs) == 1 else (u.inner[src] if port == "out" else f"{u.inner[src]}_{port}")
        u.ports_out.append(_free(wanted, used))
        used.add(u.ports_out[-1])


# ---- definitions -------------------------------------------------------------------

def _structure(graph: Graph, u: _Unit, dtypes: Mapping[str, str]) -> tuple:
    """What instances sharing a definition have in common: their nodes, wires and ports."""
    members = set(u.current)
    nodes = tuple((u.inner[n], graph.node(n).block) for n in u.current)
    edges = tuple(sorted((u.inner[e.src], e.src_port, u.inner[e.dst], e.dst_port)
                         for e in graph.edges if e.src in members and e.dst in members))
    feeds = tuple(sorted(u.feeds.items()))
    ins = tuple((p, dtypes.get(src, "float")) for p, (src, _) in zip(u.ports_in, u.sources))
    outs = tuple((p, u.inner[src], port) for p, (src, port) in zip(u.ports_out, u.outputs))
    return nodes, edges, feeds, ins, outs


def _definition_name(cls: type, taken: Mapping[str, Any]) -> str:
    stem = cls.__name__ if _ID.fullmatch(cls.__name__ or "") else "Group"
    if blocks.exists(stem):  # a class named like a built-in block
        stem += "Group"
    name, k = stem, 1
    while name in taken or blocks.exists(name):
        k += 1
        name = f"{stem}{k}"
    return name


def _define(graph: Graph, units: list[_Unit], dtypes: Mapping[str, str]) -> None:
    by_class: dict[type, dict[tuple, list[_Unit]]] = {}
    for u in units:
        by_class.setdefault(u.cls, {}).setdefault(_structure(graph, u, dtypes), []).append(u)
    for cls, variants in by_class.items():
        for instances in variants.values():
            _one_definition(graph, _definition_name(cls, graph.library.definitions), instances, dtypes)


def _one_definition(graph: Graph, name: str, instances: list[_Unit], dtypes: Mapping[str, str]) -> None:
    first = instances[0]
    by_inner = [{v: k for k, v in u.inner.items()} for u in instances]
    # the parameters that differ between instances, one exposed parameter per set that agrees throughout
    exposed: dict[tuple, list[tuple[str, str]]] = {}
    for node_id in first.current:
        inner = first.inner[node_id]
        for key in graph.node(node_id).params:
            values = tuple(graph.node(b[inner]).params.get(key) for b in by_inner)
            if any(repr(v) != repr(values[0]) for v in values):
                exposed.setdefault(tuple(repr(v) for v in values), []).append((inner, key))
    labels: set[str] = set()
    params: list[Exposed] = []
    for targets in exposed.values():
        node, key = targets[0]
        label = _free(key if key not in labels else f"{node}_{key}", labels)
        labels.add(label)
        params.append(Exposed(label, tuple(targets), graph.node(by_inner[0][node]).params[key]))
    for u, b in zip(instances, by_inner):
        u.definition = name
        u.values = {e.name: graph.node(b[e.targets[0][0]]).params[e.targets[0][1]] for e in params}
    g = Graph(name, library=graph.library)
    for port, (src, src_port) in zip(first.ports_in, first.sources):
        shape = graph.shapes.output(src, src_port)
        g.add_node("Input", {"shape": list(shape) if shape else [1], "dtype": dtypes.get(src, "float")},
                   (0.0, 0.0), port)
    for node_id in first.current:
        n = graph.node(node_id)
        g.add_node(n.block, n.params, (0.0, 0.0), first.inner[node_id], n.label)
    for (inner, port), source in first.feeds.items():
        g.connect(source, "out", inner, port)
    members = set(first.current)
    for e in graph.edges:
        if e.src in members and e.dst in members:
            g.connect(first.inner[e.src], e.src_port, first.inner[e.dst], e.dst_port)
    lay_out(g)
    outputs = [OutputPort(p, first.inner[src], port) for p, (src, port) in zip(first.ports_out, first.outputs)]
    doc = (first.cls.__doc__ or "").strip().splitlines()
    graph.library.add(Definition(name, g, list(first.ports_in), outputs, params,
                                 description=doc[0].strip() if doc else ""))
