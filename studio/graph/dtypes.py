"""Dtypes travel with shapes: integer token ids or float values, checked as a graph is wired.

Each block says what its inputs hold (``BlockSpec.dtypes``): most compute on float
values, Embedding looks up integer ids, and the blocks that only move values about
(Flatten, Reshape, Concat...) give what they were given. An Input gives its ``dtype``.
Float values wired into Embedding, or ids into a Linear, are errors here, with the
fixes a person would make, rather than torch's "Expected tensor for argument #1
'indices'" once training starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import Problem
from .fixes import Fix, InsertOnWire, SetParams, pairs

if TYPE_CHECKING:
    from .document import Graph

WORDS = {"long": "integer token ids", "float": "float values"}


def infer_dtypes(graph: "Graph") -> tuple[dict[str, str], list[Problem]]:
    """Each node's output dtype ("float" or "long"; absent where unknown) and the problems, in
    topological order. A node whose shapes are unknown is not judged (its error is said already).
    Both are worked out with the shapes, node by node as edits reach them (``ShapeInference``);
    a problem's fixes are made here, from the graph as it is now."""
    inference = graph.shapes
    dtypes: dict[str, str] = {}
    problems: list[Problem] = []
    known, faults = inference.dtypes, inference.dtype_faults
    for node_id in graph.topological_order():
        kind = known.get(node_id)
        if kind is not None:
            dtypes[node_id] = kind
        fault = faults.get(node_id)
        if fault is None:
            continue
        if fault[0] == "mixed":
            spec = graph.node(node_id).spec
            problems.append(Problem(node_id, None, f"{spec.name} is given integer ids and float values "
                                    "together; turn the ids into vectors (Embedding) first", "dtype",
                                    code="dtype-mixed"))
        else:
            _, port, edge, want = fault
            problems.append(_problem(graph, node_id, port, edge, want))
    return dtypes, problems


def dtype_problems(graph: "Graph") -> list[Problem]:
    return infer_dtypes(graph)[1]


def origin(graph: "Graph", node_id: str) -> str | None:
    """The Input whose dtype reaches ``node_id``'s output through blocks that pass it on."""
    seen = set()
    while node_id not in seen:
        seen.add(node_id)
        node = graph.node(node_id)
        if node.spec.is_input:
            return node_id
        if node.spec.dtypes != "any":
            return None
        ins = graph.in_edges(node_id)
        if len(ins) != 1:
            return None
        node_id = ins[0].src
    return None


def _problem(graph: "Graph", node_id: str, port: str, edge, want: str) -> Problem:
    spec = graph.node(node_id).spec
    source = origin(graph, edge.src)
    fixes = []
    if want == "long":
        message = (f"{spec.name} looks up integer token ids, but {edge.src} gives float values; "
                   "give the Input dtype long (token ids)")
        code = "dtype-values-to-ids"
        if source is not None:
            fixes.append(Fix(f"Set the dtype of {source} to long (token ids)",
                             (SetParams(source, pairs({"dtype": "long"})),)))
    else:
        message = (f"{spec.name} computes on float values, but {edge.src} gives integer token ids; "
                   "put an Embedding before it to turn each id into a vector")
        code = "dtype-ids-to-values"
        fixes.append(Fix(f"Insert Embedding before {node_id}",
                         (InsertOnWire("Embedding", (), edge.src, edge.src_port, edge.dst, edge.dst_port),)))
        if source is not None:
            fixes.append(Fix(f"Set the dtype of {source} to float (values)",
                             (SetParams(source, pairs({"dtype": "float"})),)))
    return Problem(node_id, port, message, "dtype", code=code, fixes=tuple(fixes))
