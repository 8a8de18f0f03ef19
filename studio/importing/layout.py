"""Readable positions for an imported graph: a column per topological depth, branches in rows.

The editor's own scheme (columns 280 apart, rows 150), and, as there, a deep
network wraps into bands read like lines of text instead of one long row.
"""

from __future__ import annotations

from studio.graph import Graph

COLUMN = 280.0
ROW = 150.0
NETWORK_GAP = 80.0
BAND_GAP = 110.0
MAX_COLUMNS = 10
BAND_COLUMNS = 8


def lay_out(graph: Graph) -> None:
    depth: dict[str, int] = {}
    for node_id in graph.topological_order():
        parents = [e.src for e in graph.in_edges(node_id)]
        depth[node_id] = 1 + max((depth[p] for p in parents), default=-1)
    top = 0.0
    for part in graph.components():
        columns: dict[int, list[str]] = {}
        for node_id in part:
            columns.setdefault(depth[node_id], []).append(node_id)
        first = min(columns)
        count = max(columns) - first + 1
        per_band = count if count <= MAX_COLUMNS else BAND_COLUMNS
        bands = -(-count // per_band)
        tallest = max(len(c) for c in columns.values())
        band_height = tallest * ROW + BAND_GAP
        for d, ids in columns.items():
            band, column = divmod(d - first, per_band)
            start = top + band * band_height + (tallest - len(ids)) * ROW / 2
            for i, node_id in enumerate(ids):
                graph.move_node(node_id, (column * COLUMN, start + i * ROW))
        top += bands * band_height - BAND_GAP + NETWORK_GAP
