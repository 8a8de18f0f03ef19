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
    data = {"format": FORMAT, "nodes": nodes, "edges": edges}
    used = sorted({graph.node(n).block for n in ids if graph.node(n).is_group})
    if used:
        # the blocks the group nodes use travel with them: another document can take them in
        from studio.files.library_file import library_document

        data["library"] = library_document(graph, used)
    return data


def missing_blocks(graph: Graph, data: Mapping[str, Any]) -> list[str]:
    """Blocks of a fragment that neither the built-in library nor this document's has."""
    import blocks

    raw_nodes = data.get("nodes") if isinstance(data, Mapping) else None
    names = {raw.get("block") for raw in raw_nodes if isinstance(raw, Mapping)} if isinstance(raw_nodes, list) else set()
    return sorted(n for n in names if isinstance(n, str) and n not in graph.library.definitions and not blocks.exists(n))


def read_blocks(data: Mapping[str, Any]) -> Graph:
    """The blocks a fragment carries, read as carefully as a library file (never runs code)."""
    from studio.files import GraphFileError
    from studio.files.library_file import _read_library

    try:
        return _read_library(data.get("library"), "clipboard: $.library")
    except GraphFileError as exc:
        raise ClipboardError(str(exc)) from None


def take_blocks(graph: Graph, scratch: Graph):
    """Add the blocks a fragment carries (``read_blocks``) to this document as one journaled
    step; returns (journal, old name -> name here)."""
    from studio.files import GraphFileError
    from studio.files.library_file import import_definitions
    from studio.graph import GraphError

    try:
        return import_definitions(graph, scratch, "clipboard")
    except GraphFileError as exc:
        raise GraphError(str(exc)) from None


def renamed_blocks(data: Mapping[str, Any], names: Mapping[str, str]) -> dict:
    """The fragment with its nodes' blocks renamed (``names``: old -> new)."""
    nodes = [{**raw, "block": names.get(raw.get("block"), raw.get("block"))} if isinstance(raw, Mapping) else raw
             for raw in data.get("nodes", [])]
    return {**data, "nodes": nodes}


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
