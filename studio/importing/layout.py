"""An imported graph laid out as the editor's Auto-layout would (``studio.graph.layout``):
a column per topological depth, branches in rows, a deep network wrapped into bands."""

from __future__ import annotations

from studio.graph import Graph
from studio.graph.layout import layered_positions


def lay_out(graph: Graph) -> None:
    for node_id, position in layered_positions(graph).items():
        graph.move_node(node_id, position)
