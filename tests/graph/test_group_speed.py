"""What an edit inside a definition re-infers, and grouping re-inferring once: counted, not timed."""

from collections import Counter

import pytest

from studio.graph import Graph, shapes
from studio.graph.groups import group_nodes, ungroup, use_definition


@pytest.fixture
def count(monkeypatch):
    """Nodes re-inferred, per graph name."""
    calls: Counter = Counter()
    original = shapes.ShapeInference._infer_one

    def counting(self, node_id):
        calls[self._graph.name] += 1
        return original(self, node_id)

    monkeypatch.setattr(shapes.ShapeInference, "_infer_one", counting)
    return calls


def eight_uses(tail: int = 20) -> Graph:
    """x -> 8 uses of Block (Linear -> ReLU -> Linear -> Add skip) -> head -> a chain of ReLUs."""
    g = Graph("top")
    g.add_node("Input", {"shape": [64]}, id="x")
    for nid, block, params in (("fca", "Linear", {"out_features": 64}), ("act", "ReLU", {}),
                               ("fcb", "Linear", {"out_features": 64}), ("add", "Add", {})):
        g.add_node(block, params, id=nid)
    for a, b in (("x", "fca"), ("fca", "act"), ("act", "fcb")):
        g.connect(a, "out", b, "in")
    g.connect("fcb", "out", "add", "in1")
    g.connect("x", "out", "add", "in2")
    _, prev = group_nodes(g, ["fca", "act", "fcb", "add"], "Block", group_id="b0")
    for k in range(1, 8):
        g.connect(prev, "out", use_definition(g, "Block", (0, 0), f"b{k}"), "x")
        prev = f"b{k}"
    g.add_node("Linear", {"out_features": 10}, id="head")
    g.connect(prev, "out", "head", "in")
    for k in range(tail):
        g.add_node("ReLU", {}, id=f"t{k}")
        g.connect("head" if k == 0 else f"t{k - 1}", "out", f"t{k}", "in")
    return g


def test_an_edit_inside_whose_outputs_stay_re_infers_the_uses_and_not_what_follows(count):
    g = eight_uses()
    inside = g.library.get("Block").graph
    count.clear()
    inside.set_params("fca", {"out_features": 65})  # the next Linear absorbs it: every output stays [64]
    # the 8 uses, nothing after them; inside: fca, act, fcb of the definition (fcb's output
    # stays), then the one inside all 8 uses share (same shapes, same values), 5 nodes
    assert count == {"top": 8, "Block": 3 + 5}
    assert g.param_count("b3") == 64 * 65 + 65 + 65 * 64 + 64


def test_an_edit_inside_that_changes_the_output_re_infers_what_follows(count):
    g = eight_uses()
    inside = g.library.get("Block").graph
    count.clear()
    inside.set_params("fcb", {"out_features": 32})  # the Add cannot take [32] and [64]
    assert "inside Block, add" in g.shapes.error("b0").message
    assert count["top"] == 8 + 1 + 20  # the uses, head and the chain lose their shapes
    count.clear()
    inside.set_params("fcb", {"out_features": 64})
    assert count["top"] == 29 and g.shapes.output("t19") == (10,)


def test_grouping_and_its_undo_re_infer_once_each(count):
    g = Graph("top")
    g.add_node("Input", {"shape": [8]}, id="x")
    prev = "x"
    for k in range(60):
        g.add_node("Linear" if k % 2 == 0 else "ReLU", {"out_features": 8} if k % 2 == 0 else {}, id=f"n{k}")
        g.connect(prev, "out", f"n{k}", "in")
        prev = f"n{k}"
    before, shapes_before = g.snapshot(), dict(g.shapes.outputs)
    events = []
    g.subscribe(lambda e: events.append(e.kind))
    count.clear()
    journal, gid = group_nodes(g, [f"n{k}" for k in range(10, 50)], "Middle")
    # the group node and the node it feeds (whose input stays [8]: nothing after it), once;
    # inside, the 40 and its Input once as built, and once as the instance's copy
    assert count == {"top": 2, "Middle": 2 * 41} and events.count("shapes_changed") == 1
    assert g.shapes.output("n59") == (8,) and g.param_count(gid) == 20 * 72
    count.clear()
    events.clear()
    journal.undo(g)
    assert g.snapshot() == before and dict(g.shapes.outputs) == shapes_before
    assert count["top"] <= 40 + 10 and events.count("shapes_changed") == 1
    journal.redo(g)
    _, ids = ungroup(g, gid)
    assert g.snapshot()["nodes"] == before["nodes"] and dict(g.shapes.outputs) == shapes_before
