"""Auto-layout: left to right by topological order, one column per depth,
separate networks stacked top to bottom."""

from __future__ import annotations

from studio.graph import Graph

COLUMN = 260.0
ROW = 150.0
NETWORK_GAP = 80.0


def layered_positions(graph: Graph) -> dict[str, tuple[float, float]]:
    depth: dict[str, int] = {}
    for node_id in graph.topological_order():
        parents = [e.src for e in graph.in_edges(node_id)]
        depth[node_id] = 1 + max((depth[p] for p in parents), default=-1)
    positions: dict[str, tuple[float, float]] = {}
    top = 0.0
    for part in graph.components():
        columns: dict[int, list[str]] = {}
        for node_id in part:
            columns.setdefault(depth[node_id], []).append(node_id)
        tallest = max(len(c) for c in columns.values())
        for d, ids in columns.items():
            # Centre each column on the network's middle row.
            start = top + (tallest - len(ids)) * ROW / 2
            for i, node_id in enumerate(ids):
                positions[node_id] = (d * COLUMN, start + i * ROW)
        top += tallest * ROW + NETWORK_GAP
    return positions
