"""Fixes as plain edits applied in one step (undone and redone exactly, or refused whole),
and dtypes travelling with shapes."""

from __future__ import annotations

import pytest

from studio.graph import Graph, validate
from studio.graph.dtypes import infer_dtypes
from studio.graph.fixes import Bypass, Fix, FixError, InsertOnWire, Replace, SetParams, SetTraining, apply_fix, pairs


def chain(*blocks, dtype="float", shape=(4,)) -> Graph:
    g = Graph()
    g.add_node("Input", {"shape": list(shape), "dtype": dtype}, (0, 0), "x")
    last = "x"
    for i, (block, params) in enumerate(blocks, 1):
        g.add_node(block, params, (200 * i, 0), f"n{i}")
        g.connect(last, "out", f"n{i}", "in")
        last = f"n{i}"
    return g


def test_a_fix_of_several_edits_is_undone_and_redone_exactly():
    g = chain(("Linear", {"out_features": 8}), ("Sigmoid", {}), ("Linear", {"out_features": 3}))
    g.set_training({"optimizer": {"name": "sgd", "lr": 10.0}})
    before = g.snapshot()
    fix = Fix("mend", (Replace("n2", "ReLU"), InsertOnWire("BatchNorm1d", (), "n1", "out", "n2", "in"),
                       SetParams("n1", pairs({"bias": False})), SetTraining(("optimizer", "lr"), 0.1)))
    journal = apply_fix(g, fix)
    after = g.snapshot()
    assert g.node("n2").block == "ReLU" and g.training["optimizer"] == {"name": "sgd", "lr": 0.1}
    assert [e.src for e in g.in_edges("n2")] == journal.new_nodes[1:] and validate(g) == []
    journal.undo(g)
    assert g.snapshot() == before
    journal.redo(g)
    assert g.snapshot() == after


def test_bypass_wires_the_feed_to_everything_the_node_fed():
    g = chain(("Linear", {"out_features": 8}), ("Softmax", {}))
    g.add_node("Linear", {"out_features": 2}, (600, 100), "other")
    g.connect("n2", "out", "other", "in")
    apply_fix(g, Fix("remove", (Bypass("n2"),)))
    assert "n2" not in g and sorted(e.dst for e in g.out_edges("n1")) == ["other"]


def test_a_fix_that_no_longer_applies_changes_nothing():
    g = chain(("Linear", {"out_features": 8}), ("ReLU", {}))
    before = g.snapshot()
    stale = Fix("Insert Flatten before n2", (SetParams("n1", pairs({"out_features": 4})),
                                             InsertOnWire("Flatten", (), "x", "out", "n2", "in")))
    with pytest.raises(FixError, match="no longer there"):
        apply_fix(g, stale)
    assert g.snapshot() == before  # the first edit was taken back
    with pytest.raises(FixError, match="out_features"):
        apply_fix(g, Fix("bad value", (SetParams("n1", pairs({"out_features": -3})),)))
    assert g.snapshot() == before


def test_ids_pass_through_reshapes_and_meet_their_blocks():
    g = chain(("Reshape", {"shape": [2, 2]}), ("Flatten", {}), ("Embedding", {"num_embeddings": 10}),
              dtype="long")
    dtypes, problems = infer_dtypes(g)
    assert problems == [] and dtypes == {"x": "long", "n1": "long", "n2": "long", "n3": "float"}
    g.set_params("x", {"dtype": "float"})
    (problem,) = validate(g)
    assert (problem.node, problem.port, problem.kind, problem.code) == ("n3", "in", "dtype", "dtype-values-to-ids")
    assert [f.title for f in problem.fixes] == ["Set the dtype of x to long (token ids)"]


def test_ids_into_a_linear_offer_an_embedding_or_float_values():
    g = chain(("Linear", {"out_features": 3}), dtype="long")
    (problem,) = validate(g)
    assert problem.code == "dtype-ids-to-values" and "Embedding" in problem.message
    assert [f.title for f in problem.fixes] == ["Insert Embedding before n1", "Set the dtype of x to float (values)"]
    apply_fix(g, problem.fixes[0])
    assert validate(g) == [] and g.shapes.output("n1") == (4, 3)


def test_a_training_run_refuses_float_ids_naming_the_node(tmp_path):
    from studio.training import Trainer, TrainingConfig

    g = chain(("Embedding", {"num_embeddings": 10}), ("Flatten", {}), ("Linear", {"out_features": 2}))
    result = Trainer(g, None, TrainingConfig.from_dict({"dataset": {"name": "xor"}, "epochs": 1}),
                     base_dir=tmp_path).run()
    assert result.status == "failed" and result.history == []
    assert "n1.in: Embedding looks up integer token ids, but x gives float values" in result.message


def test_an_inserted_block_lands_clear_of_the_others():
    g = chain(("Linear", {"out_features": 8}), ("ReLU", {}), ("Linear", {"out_features": 3}))
    for node_id, x in (("x", 0), ("n1", 260), ("n2", 520), ("n3", 780)):
        g.move_node(node_id, (x, 0))
    g.add_node("Identity", {}, (390, 100), "below")  # where the midpoint of n1 -> n2 would put it
    journal = apply_fix(g, Fix("insert", (InsertOnWire("Dropout", (), "n1", "out", "n2", "in"),)))
    (new,) = journal.new_nodes
    nx, ny = g.node(new).position
    for other in g.nodes.values():
        if other.id != new:
            ox, oy = other.position
            assert abs(nx - ox) >= 180 or abs(ny - oy) >= 90, (new, other.id)
