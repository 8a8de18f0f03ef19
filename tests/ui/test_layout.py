"""Auto-layout of short and deep networks."""

from __future__ import annotations

from pathlib import Path

from graph_helpers import chain

from studio.files import load
from studio.graph import Graph
from studio.ui.document.layout import BAND_COLUMNS, COLUMN, MAX_COLUMNS, layered_positions

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def deep_chain(length: int) -> Graph:
    specs = [("Input", {"shape": [4]}, "x")]
    specs += [("Linear" if i % 2 == 0 else "ReLU", {"out_features": 4} if i % 2 == 0 else {}, f"n{i}")
              for i in range(length - 1)]
    return chain(Graph(), *specs)


def test_a_short_chain_is_one_row():
    pos = layered_positions(deep_chain(MAX_COLUMNS))
    assert len({y for _, y in pos.values()}) == 1
    assert sorted(x for x, _ in pos.values()) == [i * COLUMN for i in range(MAX_COLUMNS)]


def test_a_deep_chain_wraps_into_bands_read_like_text():
    g = deep_chain(20)
    pos = layered_positions(g)
    order = g.topological_order()
    rows = sorted({y for _, y in pos.values()})
    assert len(rows) == 3  # 8 + 8 + 4 columns
    assert max(x for x, _ in pos.values()) == (BAND_COLUMNS - 1) * COLUMN
    for k, node in enumerate(order):  # band by band, left to right in each
        assert pos[node] == ((k % BAND_COLUMNS) * COLUMN, rows[k // BAND_COLUMNS])
    assert len(set(pos.values())) == len(pos)  # no two nodes on one spot


def test_deep_examples_wrap_without_overlaps():
    for name in ("vgg16", "resnet18"):
        g = load(EXAMPLES / f"{name}.json")
        pos = layered_positions(g)
        xs = [x for x, _ in pos.values()]
        assert max(xs) <= (BAND_COLUMNS - 1) * COLUMN, name
        spots = list(pos.values())
        assert len(set(spots)) == len(spots), name
