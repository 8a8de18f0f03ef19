import json

import pytest

from studio.files import MIGRATIONS, VERSION, GraphFileError, dumps, loads, migrate
from studio.files import migrations as migrations_module
from studio.files import reader


def test_current_files_need_no_step(graph):
    doc = json.loads(dumps(graph))
    assert migrate(doc, VERSION, "g.json") is doc
    assert all(v < VERSION for v in MIGRATIONS)  # every step leads up to the current version


def test_a_version_1_file_opens_unchanged_in_meaning_and_saves_as_version_2(graph):
    text = dumps(graph)
    old = json.loads(text)
    old["version"] = 1
    del old["definitions"]
    g = loads(json.dumps(old), "old.json")
    assert g.snapshot() == graph.snapshot()
    assert dumps(g) == text
    assert list(json.loads(text))[:5] == ["format", "version", "name", "description", "definitions"]


def _v1_to_v2(doc):
    # an imagined later format that renamed "edges" to "wires"
    doc["wires"] = doc.pop("edges")
    return doc


def _v2_to_v3(doc):
    for node in doc["nodes"]:
        node["type"] = node.pop("block")
    return doc


def test_steps_run_in_order_and_leave_the_input_alone():
    doc = {"format": "studio-graph", "version": 1, "nodes": [{"id": "a", "block": "ReLU"}], "edges": []}
    out = migrate(doc, 1, "old.json", migrations={1: _v1_to_v2, 2: _v2_to_v3}, current=3)
    assert out == {"format": "studio-graph", "version": 3, "nodes": [{"id": "a", "type": "ReLU"}], "wires": []}
    assert doc["version"] == 1 and "edges" in doc and doc["nodes"][0]["block"] == "ReLU"
    partial = migrate(doc, 1, "old.json", migrations={1: _v1_to_v2, 2: _v2_to_v3}, current=2)
    assert partial["version"] == 2 and "wires" in partial and partial["nodes"][0]["block"] == "ReLU"


def test_a_missing_step_or_a_failing_one_is_a_file_error():
    doc = {"format": "studio-graph", "version": 1, "nodes": "not a list", "edges": []}
    with pytest.raises(GraphFileError, match=r"^old\.json: version: no way to upgrade a version 1 file to version 2"):
        migrate(doc, 1, "old.json", migrations={}, current=2)
    with pytest.raises(GraphFileError, match=r"^old\.json: cannot upgrade this version 2 file to version 3"):
        migrate(doc, 1, "old.json", migrations={1: _v1_to_v2, 2: _v2_to_v3}, current=3)


def test_loading_applies_the_table(graph, monkeypatch):
    """With a current version of 2, a version-1 file goes through the 1 -> 2 step before it is read."""

    def v2_to_v3(doc):
        # say version 3 counted positions in half-pixels
        for node in doc["nodes"]:
            node["position"] = [p * 2 for p in node.get("position", [0, 0])]
        return doc

    monkeypatch.setattr(migrations_module, "VERSION", 3)
    monkeypatch.setattr(reader, "VERSION", 3)
    monkeypatch.setitem(MIGRATIONS, 2, v2_to_v3)
    g = loads(dumps(graph), "old.json")
    assert g.node("fc1").position == (440.0, 0.0)
    assert g.node("add").position == (1320.0, 161.0)
    assert g.snapshot()["edges"] == graph.snapshot()["edges"]
    with pytest.raises(GraphFileError, match="version 4, newer than this studio reads \\(up to 3\\)"):
        loads(dumps(graph).replace('"version": 2', '"version": 4'), "new.json")
