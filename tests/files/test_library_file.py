"""Library files: a graph's block definitions exported on their own and imported into another graph."""

import json

import pytest

from studio.files import GraphFileError, dumps, import_library, loads, read_library, save_library
from studio.graph import Graph
from studio.graph.groups import Exposed, expose, group_nodes
from graph_helpers import residual




def stage_graph() -> Graph:
    """BasicBlock (conv1.out_channels exposed as width) used twice inside Stage, used once at the top."""
    g = residual()
    _, first = group_nodes(g, ["conv1", "relu1", "conv2", "add"], "BasicBlock")
    second = g.add_node("BasicBlock", {}, (1100, 0)).id
    g.disconnect(g.in_edges("relu2")[0])
    g.connect(first, "out", second, "x")
    g.connect(second, "out", "relu2", "in")
    expose(g, "BasicBlock", [Exposed("width", (("conv1", "out_channels"),), 8)])
    g.set_params(second, {"width": 16})
    group_nodes(g, [first, second], "Stage")
    return g


def test_export_writes_the_named_blocks_with_those_they_use_and_import_brings_them_back(tmp_path):
    g = stage_graph()
    path = tmp_path / "blocks.json"
    assert save_library(g, ["Stage"], path) == ["BasicBlock", "Stage"]
    doc = json.loads(path.read_text())
    assert (doc["format"], doc["version"]) == ("studio-blocks", 1)
    assert [d["name"] for d in doc["definitions"]] == ["BasicBlock", "Stage"]
    # the same entries a graph file holds
    assert doc["definitions"] == json.loads(dumps(g))["definitions"]
    assert not list(tmp_path.glob(".*.tmp"))

    other = Graph("other")
    other.add_node("Input", {"shape": [8, 16, 16]}, (0, 0), id="x")
    journal = import_library(other, path)
    assert list(other.library.definitions) == ["BasicBlock", "Stage"]
    assert [e.name for e in other.library.get("BasicBlock").exposed] == ["width"]
    n = other.add_node("Stage", {}, (200, 0)).id
    other.connect("x", "out", n, "x")
    assert other.shapes.output(n) == g.shapes.output(g.in_edges("relu2")[0].src) == (8, 16, 16)
    assert other.param_count(n) == g.total_params()
    other.remove_node(n)
    journal.undo(other)
    assert not other.library.definitions
    journal.redo(other)
    assert list(other.library.definitions) == ["BasicBlock", "Stage"]
    # the graph with imported blocks saves and reads back as any graph
    assert dumps(loads(dumps(other))) == dumps(other)


def test_a_taken_name_gets_a_fresh_one_the_uses_follow_and_an_identical_block_is_reused(tmp_path):
    path = tmp_path / "blocks.json"
    save_library(stage_graph(), ["Stage"], path)
    other = residual(channels=4)
    group_nodes(other, ["conv1", "relu1"], "BasicBlock")  # a different BasicBlock
    import_library(other, path)
    assert list(other.library.definitions) == ["BasicBlock", "BasicBlock2", "Stage"]
    stage = other.library.get("Stage")
    assert {n.block for n in stage.graph.nodes.values()} == {"Input", "BasicBlock2"}
    assert len(other.library.get("BasicBlock").graph) == 3  # the graph's own one is untouched
    # the same file again: every block is already here, nothing is added
    again = import_library(other, path)
    assert not again.steps and list(other.library.definitions) == ["BasicBlock", "BasicBlock2", "Stage"]


def test_export_of_an_unknown_block_or_an_empty_library_is_refused(tmp_path):
    with pytest.raises(GraphFileError, match="no block 'Nope'"):
        save_library(stage_graph(), ["Nope"], tmp_path / "a.json")
    with pytest.raises(GraphFileError, match="no blocks to export"):
        save_library(Graph(), [], tmp_path / "b.json")
    assert not list(tmp_path.iterdir())


def _entry(name, blocks_inside):
    nodes = [{"id": "x", "block": "Input", "params": {"shape": [4]}}]
    nodes += [{"id": f"n{i}", "block": b} for i, b in enumerate(blocks_inside)]
    return {"name": name, "inputs": ["x"], "outputs": {"out": "x.out"}, "nodes": nodes, "edges": []}


def _library(definitions, **top):
    return json.dumps({"format": "studio-blocks", "version": 1, "definitions": definitions, **top})


@pytest.mark.parametrize("text, where, reason", [
    (_library([_entry("A", ["B"]), _entry("B", ["A"])]), "definitions[0].nodes", "A contains itself: A > B > A"),
    (_library([_entry("A", ["A"])]), "definitions[0].nodes", "A contains itself: A > A"),
    (_library([_entry("A", ["Linearr"])]), "definitions[0].nodes[1].block", "unknown block 'Linearr'"),
    (_library([_entry("A", ["Stem"])]), "definitions[0].nodes[1].block", "unknown block 'Stem'"),
    (_library([_entry("Linear", [])]), "definitions[0].name", "built-in block"),
    (_library([_entry("A", []), _entry("A", [])]), "definitions[1].name", "defined twice"),
    (_library("A"), "definitions", "must be a list"),
    (_library([7]), "definitions[0]", "must be an object"),
    (_library([{**_entry("A", []), "inputs": "x"}]), "definitions[0].inputs", "must be a list"),
    (_library([{**_entry("A", []), "code": "import os"}]), "definitions[0].code", "unknown key"),
    (_library([_entry("A", [])], extra=1), "extra", "unknown key"),
    (json.dumps({"format": "studio-blocks", "version": "1", "definitions": []}), "version", "whole number"),
    (json.dumps({"format": "studio-blocks", "version": 9, "definitions": []}), "version", "newer"),
    (json.dumps({"format": "studio-graph", "version": 2, "nodes": [], "edges": []}), None, "File > Open"),
    ('{"format": "studio-blocks", "version": 1, "definitions": [], "definitions": []}', None, "appears twice"),
    (_library([{**_entry("A", []), "description": float("nan")}]).replace('"NaN"', "NaN"), None, "NaN"),
])
def test_a_hostile_library_file_is_refused_naming_the_file_and_the_place(tmp_path, text, where, reason):
    path = tmp_path / "bad.json"
    path.write_text(text)
    g = residual()
    with pytest.raises(GraphFileError) as info:
        import_library(g, path)
    err = info.value
    assert str(path) in str(err) and reason in err.reason
    if where is not None:
        assert err.path == where
    assert not g.library.definitions


def test_a_definition_that_multiplies_past_the_limit_is_refused(tmp_path, monkeypatch):
    from studio.files import reader

    monkeypatch.setattr(reader, "MAX_EXPANDED_NODES", 50)
    # each level uses the one below eight times: 8**3 = 512 blocks opened
    defs = [_entry("L0", ["ReLU"])]
    for i in range(1, 4):
        defs.append(_entry(f"L{i}", [f"L{i - 1}"] * 8))
    path = tmp_path / "big.json"
    path.write_text(_library(defs))
    with pytest.raises(GraphFileError, match="more than 50 blocks"):
        read_library(path)


def test_a_library_file_too_large_or_not_a_file_is_refused_before_reading(tmp_path, monkeypatch):
    from studio.files import reader

    monkeypatch.setattr(reader, "MAX_FILE_BYTES", 100)
    path = tmp_path / "big.json"
    path.write_text(_library([_entry("A", ["ReLU"])]))
    with pytest.raises(GraphFileError, match="larger than the 0 MiB"):
        read_library(path)
    with pytest.raises(GraphFileError, match="this is a folder"):
        read_library(tmp_path)


def test_an_export_that_cannot_be_written_leaves_nothing_behind(tmp_path):
    target = tmp_path / "missing" / "blocks.json"
    with pytest.raises(GraphFileError, match="cannot write") as info:
        save_library(stage_graph(), ["BasicBlock"], target)
    assert str(target) in str(info.value) and not list(tmp_path.rglob("*.tmp"))
    # an existing file is replaced whole, never half-written
    good = tmp_path / "blocks.json"
    good.write_text("old")
    save_library(stage_graph(), ["BasicBlock"], good)
    assert json.loads(good.read_text())["definitions"][0]["name"] == "BasicBlock"
