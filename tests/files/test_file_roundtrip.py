import json
import os
import stat

import pytest

from studio.files import FORMAT, VERSION, GraphFileError, dumps, load, loads, save


def test_document_layout_and_key_order(graph):
    text = dumps(graph)
    doc = json.loads(text)
    assert list(doc) == ["format", "version", "name", "description", "definitions", "nodes", "edges",
                         "training"]
    assert doc["format"] == FORMAT and doc["version"] == VERSION == 2
    assert doc["definitions"] == []
    assert [n["id"] for n in doc["nodes"]] == ["input", "fc1", "relu1", "add", "fc2"]
    fc1 = doc["nodes"][1]
    assert list(fc1) == ["id", "block", "label", "position", "params"]
    assert fc1["label"] == "hidden"
    assert "label" not in doc["nodes"][0]  # empty labels are left out
    assert list(doc["nodes"][4]["params"]) == ["out_features", "bias"]  # declaration order, every parameter
    assert doc["nodes"][4]["params"] == {"out_features": 3, "bias": False}
    assert doc["nodes"][3]["position"] == [660, 80.5]
    assert doc["edges"][2] == {"from": "relu1.out", "to": "add.in1"}
    assert doc["training"]["dataset"] == {"name": "spiral", "classes": 3, "shape": [4]}
    # readable diffs: 2-space indent, short lists and edges on one line, trailing newline
    assert text.endswith("}\n") and not text.endswith("\n\n")
    assert '\n  "nodes": [\n    {\n      "id": "input",' in text
    assert '      "position": [220, 0],\n' in text
    assert '    {"from": "input.out", "to": "fc1.in"},\n' in text
    assert '        "shape": [4],\n' in text


def test_load_restores_the_document(graph, tmp_path):
    path = tmp_path / "g.json"
    save(graph, path)
    back = load(path)
    assert back.snapshot() == graph.snapshot()
    assert back.description == graph.description
    assert back.node("fc1").label == "hidden"
    assert back.node("add").position == (660.0, 80.5)
    assert back.shapes.output("fc2") == (3,)
    assert back.total_params() == graph.total_params() == 4 * 4 + 4 + 4 * 3
    assert [str(e) for e in back.edges] == [str(e) for e in graph.edges]


def test_load_then_save_is_byte_identical(graph, tmp_path):
    first = tmp_path / "a.json"
    second = tmp_path / "b.json"
    save(graph, first)
    save(load(first), second)
    assert first.read_bytes() == second.read_bytes()


def test_defaults_fill_missing_params_and_aliases_map_to_current_names():
    text = json.dumps({
        "format": "studio-graph", "version": 1,
        "nodes": [
            {"id": "x", "block": "Input", "params": {"shape": [2]}},
            {"id": "step", "block": "Step", "position": [220, 0]},  # Heaviside's old name
            {"id": "fc", "block": "Linear"},
        ],
        "edges": [{"from": "x.out", "to": "step.in"}, {"from": "step.out", "to": "fc.in"}],
    })
    g = loads(text)
    assert g.node("step").block == "Heaviside"
    assert g.node("fc").params == {"out_features": 10, "bias": True}
    assert g.node("x").position == (0.0, 0.0)
    assert g.name == "" and g.description == "" and g.training == {}
    doc = json.loads(dumps(g))
    assert doc["nodes"][1]["block"] == "Heaviside"
    assert doc["nodes"][2]["params"] == {"out_features": 10, "bias": True}


def test_training_section_is_kept_verbatim(graph):
    graph.set_training({"zeta": 1, "alpha": [1, {"b": None}], "dataset": {"path": "data/ü.csv", "target": "y"}})
    back = loads(dumps(graph))
    assert back.training == graph.training
    assert list(back.training) == ["zeta", "alpha", "dataset"]  # order kept, not sorted
    assert "data/ü.csv" in dumps(graph)  # written as text, not \u escapes


def test_save_is_atomic_and_keeps_the_old_file_on_failure(graph, tmp_path):
    path = tmp_path / "g.json"
    save(graph, path)
    os.chmod(path, 0o640)
    before = path.read_bytes()
    graph.training["lr"] = float("nan")  # set_training refuses it; changed in place, it reaches the writer
    with pytest.raises(GraphFileError, match=r"g\.json: training\.lr: must be a finite number"):
        save(graph, path)
    assert path.read_bytes() == before
    graph.set_training({"lr": 0.5})
    save(graph, path)
    assert json.loads(path.read_text())["training"] == {"lr": 0.5}
    assert stat.S_IMODE(path.stat().st_mode) == 0o640  # a rewrite keeps the file's permissions
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.json"]  # no temporary file left


def test_save_into_a_missing_folder_names_the_file(graph, tmp_path):
    target = tmp_path / "nowhere" / "g.json"
    with pytest.raises(GraphFileError) as info:
        save(graph, target)
    assert str(info.value).startswith(f"{target}: cannot write:")
    assert not target.parent.exists()


def test_the_documented_example_is_a_saved_file():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "file-format.md").read_text(encoding="utf-8")
    example = doc.split("```json\n", 1)[1].split("```", 1)[0]
    graph = loads(example, "docs/file-format.md")
    assert dumps(graph) == example
    assert graph.shapes.output("out") == (3,)
    assert graph.node("fc1").label == "hidden"
