"""Whole-graph validation: every problem, each naming its node and port."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import Problem

if TYPE_CHECKING:
    from .document import Graph


def validate(graph: "Graph") -> list[Problem]:
    """Problems in document order; an empty list means the graph can compile."""
    problems: list[Problem] = []
    if not graph.nodes:
        return [Problem(None, None, "the graph is empty", "structure")]
    if not any(n.spec.is_input for n in graph.nodes.values()):
        problems.append(Problem(None, None, "the graph has no Input block", "structure"))
    for node_id in graph.topological_order():
        err = graph.shapes.error(node_id)
        if err is not None:
            problems.append(err)
    from .dtypes import dtype_problems  # after shapes: a node with a shape error is not judged again

    problems.extend(dtype_problems(graph))
    return problems
