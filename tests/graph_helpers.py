"""Building test graphs node by node."""

from __future__ import annotations

from studio.graph import Graph


def chain(graph: Graph, *specs) -> Graph:
    """Add (block, params, id) nodes wired one after another."""
    prev = None
    for block, params, node_id in specs:
        node = graph.add_node(block, params, id=node_id)
        if prev is not None:
            graph.connect(prev, "out", node.id, "in")
        prev = node.id
    return graph
