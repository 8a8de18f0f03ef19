"""Submodules used as a unit, imported as groups.

A child module whose class is the user's own (not a torch.nn layer, not one of
the block library's modules), called once by the forward, becomes one group
node named after its path (``layer1.0`` -> ``layer1_0``); its blocks go inside,
named after their path within it (``layer1.0.conv1`` -> ``conv1``). torch.nn
containers (``nn.Sequential``, ``nn.ModuleList``) are looked through, so
torchvision's ``layer1`` gives the groups ``layer1_0`` and ``layer1_1``. Only
the outermost such modules become groups; what they hold stays flat inside.

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
from studio.graph import Graph
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
    inner: dict[str, str] = field(default_factory=dict)  # flat id -> id inside
    sources: list[tuple[str, str]] = field(default_factory=list)  # (flat node, port) feeding each input port
    ports_in: list[str] = field(default_factory=list)
    outputs: list[tuple[str, str]] = field(default_factory=list)  # (flat node, port) of each output port
    ports_out: list[str] = field(default_factory=list)
    group_id: str = ""
    definition: str = ""
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class Grouped:
    graph: Graph
    module_of: dict[str, str]  # "group.inner" (or a top-level node id) -> module path
    scales: dict[str, float]


def group_units(flat: Graph, module_of: Mapping[str, str], scales: Mapping[str, float],
                origin: Mapping[str, str], calls: Sequence[UnitCall], counts: Mapping[str, int]) -> Grouped | None:
    """``flat`` with the submodules used as a unit made groups, or None when there are none."""
    units = _units(flat, origin, calls, counts)
    if not units:
        return None
    unit_of = {n: u for u in units for n in u.members}
    dtypes = infer_dtypes(flat)[0]
    for u in units:
        _ports(flat, u, origin)
    out = Graph(flat.name)
    out.description = flat.description
    out.training = dict(flat.training)
    _define(flat, out, units, dtypes)
    taken = {n for n in flat.nodes if n not in unit_of}
    for u in units:
        u.group_id = _free(_as_id(u.path.replace(".", "_")), taken)
        taken.add(u.group_id)
    last = {u.members[-1]: u for u in units}  # a group stands where its last block stood: outputs stay last
    for node_id in flat.nodes:
        if node_id in last:
            u = last[node_id]
            out.add_node(u.definition, u.values, (0.0, 0.0), u.group_id)
        elif node_id not in unit_of:
            n = flat.node(node_id)
            out.add_node(n.block, n.params, n.position, n.id, n.label)
    wired: set[tuple[str, str]] = set()
    for e in flat.edges:
        su, du = unit_of.get(e.src), unit_of.get(e.dst)
        if su is not None and su is du:
            continue
        src, src_port = (su.group_id, su.ports_out[su.outputs.index((e.src, e.src_port))]) if su else (e.src, e.src_port)
        if du is not None:
            dst, dst_port = du.group_id, du.ports_in[du.sources.index((e.src, e.src_port))]
        else:
            dst, dst_port = e.dst, e.dst_port
        if (dst, dst_port) in wired:
            continue
        wired.add((dst, dst_port))
        out.connect(src, src_port, dst, dst_port)
    grouped_module_of: dict[str, str] = {}
    grouped_scales: dict[str, float] = {}
    for node_id, path in module_of.items():
        u = unit_of.get(node_id)
        grouped_module_of[f"{u.group_id}.{u.inner[node_id]}" if u else node_id] = path
    for node_id, factor in scales.items():
        u = unit_of.get(node_id)
        grouped_scales[f"{u.group_id}.{u.inner[node_id]}" if u else node_id] = factor
    return Grouped(out, grouped_module_of, grouped_scales)


# ---- which calls are units ---------------------------------------------------------

def _user_class(cls: type) -> bool:
    from .tracing import _class_kind

    module = getattr(cls, "__module__", "") or ""
    return not (module == "torch" or module.startswith("torch.")) and _class_kind(cls) is None


def _units(flat: Graph, origin: Mapping[str, str], calls: Sequence[UnitCall], counts: Mapping[str, int]) -> list[_Unit]:
    candidates = [c for c in calls if c.path and counts.get(c.path) == 1 and _user_class(c.cls)]
    outermost = [c for c in candidates
                 if not any(c.path.startswith(o.path + ".") for o in candidates if o is not c)]
    units = []
    for call in outermost:
        made = set(call.nodes)
        members = [n for n in flat.nodes if origin.get(n) in made and not flat.node(n).spec.is_input]
        if not members or not _convex(flat, set(members)):
            continue
        unit = _Unit(call.path, call.cls, members, arguments=call.arguments)
        unit.inner = _inner_ids(call.path, members)
        units.append(unit)
    units.sort(key=lambda u: list(flat.nodes).index(u.members[0]))
    return units


def _convex(graph: Graph, members: set[str]) -> bool:
    """No path leaves the set and comes back into it (a group of it would make a cycle)."""
    outside = {e.dst for n in members for e in graph.out_edges(n) if e.dst not in members}
    return not (graph.descendants(outside) | outside) & members


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

def _ports(flat: Graph, u: _Unit, origin: Mapping[str, str]) -> None:
    """The unit's input ports (one per outside value it reads, named after the forward's argument)
    and output ports (one per value it gives out: ``out``, or each after its inner node)."""
    members = set(u.members)
    for e in flat.edges:
        if e.dst in members and e.src not in members and (e.src, e.src_port) not in u.sources:
            u.sources.append((e.src, e.src_port))
        if e.src in members and e.dst not in members and (e.src, e.src_port) not in u.outputs:
            u.outputs.append((e.src, e.src_port))
    for n in u.members:  # what the forward returns, unwired
        if not flat.out_edges(n):
            for p in flat.node(n).output_ports():
                if (n, p.name) not in u.outputs:
                    u.outputs.append((n, p.name))
    taken = set(u.inner.values())
    for k, (src, _) in enumerate(u.sources):
        wanted = u.arguments.get(origin.get(src) or "", "")
        if not _ID.fullmatch(wanted or ""):
            wanted = "x" if len(u.sources) == 1 else f"x{k + 1}"
        u.ports_in.append(_free(wanted, taken))
        taken.add(u.ports_in[-1])
    used: set[str] = set()
    for src, port in u.outputs:
        wanted = "out" if len(u.outputs) == 1 else (u.inner[src] if port == "out" else f"{u.inner[src]}_{port}")
        u.ports_out.append(_free(wanted, used))
        used.add(u.ports_out[-1])


# ---- definitions -------------------------------------------------------------------

def _structure(flat: Graph, u: _Unit, dtypes: Mapping[str, str]) -> tuple:
    members = set(u.members)
    nodes = tuple((u.inner[n], flat.node(n).block) for n in u.members)
    edges = tuple((u.inner[e.src], e.src_port, u.inner[e.dst], e.dst_port)
                  for e in flat.edges if e.src in members and e.dst in members)
    feeds = tuple((u.ports_in[u.sources.index((e.src, e.src_port))], u.inner[e.dst], e.dst_port)
                  for e in flat.edges if e.dst in members and e.src not in members)
    ins = tuple((p, dtypes.get(src, "float")) for p, (src, _) in zip(u.ports_in, u.sources))
    outs = tuple((p, u.inner[src], port) for p, (src, port) in zip(u.ports_out, u.outputs))
    return nodes, edges, feeds, ins, outs


def _definition_name(cls: type, taken: set[str]) -> str:
    stem = cls.__name__ if _ID.fullmatch(cls.__name__ or "") else "Group"
    if blocks.exists(stem):  # a class named like a built-in block
        stem += "Group"
    name, k = stem, 1
    while name in taken or blocks.exists(name):
        k += 1
        name = f"{stem}{k}"
    taken.add(name)
    return name


def _define(flat: Graph, out: Graph, units: list[_Unit], dtypes: Mapping[str, str]) -> None:
    by_class: dict[type, dict[tuple, list[_Unit]]] = {}
    for u in units:
        by_class.setdefault(u.cls, {}).setdefault(_structure(flat, u, dtypes), []).append(u)
    taken: set[str] = set()
    for cls, variants in by_class.items():
        for members in variants.values():
            _one_definition(flat, out, _definition_name(cls, taken), members, dtypes)


def _one_definition(flat: Graph, out: Graph, name: str, instances: list[_Unit], dtypes: Mapping[str, str]) -> None:
    first = instances[0]
    by_inner = [{v: k for k, v in u.inner.items()} for u in instances]
    # the parameters that differ between instances, one exposed parameter per set that agrees throughout
    exposed: dict[tuple, list[tuple[str, str]]] = {}
    for flat_id in first.members:
        inner = first.inner[flat_id]
        for key in flat.node(flat_id).params:
            values = tuple(flat.node(b[inner]).params.get(key) for b in by_inner)
            if any(repr(v) != repr(values[0]) for v in values):
                exposed.setdefault(tuple(repr(v) for v in values), []).append((inner, key))
    names: set[str] = set()
    params: list[Exposed] = []
    for targets in exposed.values():
        node, key = targets[0]
        label = _free(key if key not in names else f"{node}_{key}", names)
        names.add(label)
        params.append(Exposed(label, tuple(targets), flat.node(by_inner[0][node]).params[key]))
    for u, b in zip(instances, by_inner):
        u.definition = name
        u.values = {e.name: flat.node(b[e.targets[0][0]]).params[e.targets[0][1]] for e in params}
    g = Graph(name, library=out.library)
    for port, (src, src_port) in zip(first.ports_in, first.sources):
        shape = flat.shapes.output(src, src_port)
        g.add_node("Input", {"shape": list(shape) if shape else [1], "dtype": dtypes.get(src, "float")},
                   (0.0, 0.0), port)
    for flat_id in first.members:
        n = flat.node(flat_id)
        g.add_node(n.block, n.params, (0.0, 0.0), first.inner[flat_id], n.label)
    members = set(first.members)
    for e in flat.edges:
        if e.dst in members and e.src not in members:
            g.connect(first.ports_in[first.sources.index((e.src, e.src_port))], "out", first.inner[e.dst], e.dst_port)
        elif e.src in members and e.dst in members:
            g.connect(first.inner[e.src], e.src_port, first.inner[e.dst], e.dst_port)
    lay_out(g)
    outputs = [OutputPort(p, first.inner[src], port) for p, (src, port) in zip(first.ports_out, first.outputs)]
    doc = (first.cls.__doc__ or "").strip().splitlines()
    out.library.add(Definition(name, g, list(first.ports_in), outputs, params,
                               description=doc[0].strip() if doc else ""))
