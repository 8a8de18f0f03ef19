"""Layered positions, for the editor's Auto-layout and an imported model: left
to right by topological order, one column per depth, separate networks
stacked top to bottom.

A deep network (VGG, a ResNet) would make one row dozens of columns long,
most of it off screen at a readable zoom; past ``MAX_COLUMNS`` columns the
row wraps into bands of ``BAND_COLUMNS``, read like lines of text, the wire
from the end of one band running back to the start of the next.
"""

from __future__ import annotations

from .document import Graph

COLUMN = 280.0  # as in the examples: a shape label fits on the wire between two nodes
ROW = 150.0
NETWORK_GAP = 80.0
BAND_GAP = 110.0
MAX_COLUMNS = 10  # up to this many columns stay in one row
BAND_COLUMNS = 8


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
        first = min(columns)
        count = max(columns) - first + 1
        per_band = count if count <= MAX_COLUMNS else BAND_COLUMNS
        bands = -(-count // per_band)
        tallest = max(len(c) for c in columns.values())
        band_height = tallest * ROW + BAND_GAP
        for d, ids in columns.items():
            band, column = divmod(d - first, per_band)
            # Centre each column on its band's middle row.
            start = top + band * band_height + (tallest - len(ids)) * ROW / 2
            for i, node_id in enumerate(ids):
                positions[node_id] = (column * COLUMN, start + i * ROW)
        top += bands * band_height - BAND_GAP + NETWORK_GAP
    return positions
