"""Copied fragments of a graph as plain JSON-ready dicts, and how to paste them
with fresh ids so a paste never collides with what is already there."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from blocks import ParamError
from studio.graph import Edge, Graph

MIME_TYPE = "application/x-studio-fragment+json"
FORMAT = "studio-fragment"


class ClipboardError(ValueError):
    """The clipboard holds something that is not a fragment we can paste; the
    message names the place inside it."""


@dataclass
class PastedNode:
    id: str
    block: str
    params: dict
    position: tuple[float, float]
    label: str


@dataclass
class PastePlan:
    nodes: list[PastedNode]
    edges: list[Edge]


def extract(graph: Graph, node_ids: Iterable[str]) -> dict:
    ids = [n for n in graph.nodes if n in set(node_ids)]  # document order
    chosen = set(ids)
    nodes = []
    for node_id in ids:
        n = graph.node(node_id)
        spec = n.spec
        nodes.append({
            "id": n.id, "block": n.block, "label": n.label, "position": list(n.position),
            "params": {k: spec.param(k).to_json(v) for k, v in n.params.items()},
        })
    edges = [
        [e.src, e.src_port, e.dst, e.dst_port] for e in graph.edges if e.src in chosen and e.dst in chosen
    ]
    return {"format": FORMAT, "nodes": nodes, "edges": edges}


def plan_paste(graph: Graph, data: Mapping[str, Any], offset: tuple[float, float]) -> PastePlan:
    if not isinstance(data, Mapping) or data.get("format") != FORMAT:
        raise ClipboardError("clipboard: not a studio fragment")
    raw_nodes = data.get("nodes")
    if not isinstance(raw_nodes, list):
        raise ClipboardError("clipboard: $.nodes must be a list")
    taken = set(graph.nodes)
    rename: dict[str, str] = {}
    nodes = []
    for i, raw in enumerate(raw_nodes):
        where = f"clipboard: $.nodes[{i}]"
        try:
            # a group node pastes as another instance of the same definition (of this document)
            spec = graph.library.spec(raw["block"])
            params = spec.coerce_params(raw.get("params", {}))
            x, y = raw.get("position", (0, 0))
            old_id = str(raw["id"])
        except (KeyError, TypeError, ValueError) as exc:
            msg = exc.message if isinstance(exc, ParamError) else str(exc)
            raise ClipboardError(f"{where}: {msg}") from None
        new_id = _fresh_id(graph, spec.name, taken)
        taken.add(new_id)
        rename[old_id] = new_id
        nodes.append(PastedNode(new_id, spec.name, params, (float(x) + offset[0], float(y) + offset[1]),
                                str(raw.get("label", ""))))
    edges = []
    for i, raw in enumerate(data.get("edges", [])):
        try:
            src, sp, dst, dp = raw
            edges.append(Edge(rename[src], sp, rename[dst], dp))
        except (KeyError, TypeError, ValueError):
            raise ClipboardError(f"clipboard: $.edges[{i}] does not join two copied nodes") from None
    return PastePlan(nodes, edges)


def _fresh_id(graph: Graph, block: str, taken: set[str]) -> str:
    probe = Graph(library=graph.library)
    stem = probe.new_id(block)[:-1]  # the graph's own id stem, without its counter
    if block in graph.library.definitions:
        stem = stem.rstrip("0123456789") or stem  # Group1's uses: group2, not group11
    i = 1
    while f"{stem}{i}" in taken:
        i += 1
    return f"{stem}{i}"
