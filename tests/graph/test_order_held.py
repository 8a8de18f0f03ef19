"""An undo puts nodes and wires back at their places in one rebuild of each order (it rebuilt the
whole order once per node and wire), with the exact order of putting them back one by one:
counted, not timed."""

import random

import pytest

from studio.graph import Graph, document
from studio.graph.groups import group_nodes, ungroup

from graph_helpers import linear_chain


@pytest.fixture
def rebuilds(monkeypatch):
    """Whole rebuilds of an order: by ``_insert`` (one at an index) and by ``_reorder`` (many)."""
    calls = {"insert": 0, "reorder": 0}
    insert, reorder = document._insert, document._reorder

    def counting_insert(ordered, key, value, index):
        if index is not None and index < len(ordered):
            calls["insert"] += 1
        return insert(ordered, key, value, index)

    def counting_reorder(ordered, puts):
        if any(index is not None for _, index in puts):
            calls["reorder"] += 1
        return reorder(ordered, puts)

    monkeypatch.setattr(document, "_insert", counting_insert)
    monkeypatch.setattr(document, "_reorder", counting_reorder)
    return calls


def chain(n: int) -> Graph:
    return linear_chain(n, skips=True)


def test_undoing_a_grouping_rebuilds_each_order_once_and_gives_back_the_exact_document(rebuilds):
    g = chain(20)
    before = g.snapshot()
    members = [f"{kind}{i}" for i in range(5, 15) for kind in ("fc", "act", "add")]
    journal, _gid = group_nodes(g, members, "Stretch", group_id="stretch")
    grouped = g.snapshot()
    rebuilds.update(insert=0, reorder=0)
    journal.undo(g)
    assert g.snapshot() == before  # nodes and wires in the very order they had
    assert rebuilds == {"insert": 0, "reorder": 2}  # the nodes' order once, the wires' once
    journal.redo(g)
    assert g.snapshot() == grouped
    journal.undo(g)
    assert g.snapshot() == before


def test_undoing_an_ungrouping_gives_back_the_exact_document(rebuilds):
    g = chain(12)
    _, gid = group_nodes(g, [f"{k}{i}" for i in range(3, 9) for k in ("fc", "act", "add")], "Stretch")
    grouped = g.snapshot()
    journal, _ids = ungroup(g, gid)
    ungrouped = g.snapshot()
    journal.undo(g)
    assert g.snapshot() == grouped
    journal.redo(g)
    assert g.snapshot() == ungrouped


def test_what_is_read_inside_a_hold_is_the_order_of_putting_back_one_by_one():
    rng = random.Random(7)
    held, plain = chain(6), chain(6)
    for g in (held, plain):
        for i in range(6):
            g.remove_node(f"act{i}")
    with held.order_held():
        for i in range(6):
            index, at = rng.randrange(-1, len(plain) + 2), rng.randrange(0, 20) if i % 2 else None
            for g in (held, plain):
                g.add_node("ReLU", {}, id=f"act{i}", index=index)
                g.connect(f"fc{i}", "out", f"act{i}", "in", index=at)
            if i == 2:  # read and removed mid-way: both see the same order
                assert held.node_index("act1") == plain.node_index("act1")
                assert list(held.nodes) == list(plain.nodes) and held.edges == plain.edges
            if i == 4:
                for g in (held, plain):
                    g.remove_node("add0")
    assert held.snapshot() == plain.snapshot()
