"""An Input that does not take the data set is reported, with its fix, even while the graph has
errors of its own: it is often their cause (a Conv2d after an Input left at its default [2])."""

from __future__ import annotations

import json

from studio.cli.main import main
from studio.data import load_dataset
from studio.doctor.lints import diagnose
from studio.files import load
from studio.graph.fixes import apply_fix

CNN = {
    "format": "studio-graph", "version": 1,
    "nodes": [
        {"id": "input1", "block": "Input", "position": [0, 0], "params": {"shape": [2], "dtype": "float"}},
        {"id": "conv2d1", "block": "Conv2d", "position": [200, 0], "params": {"out_channels": 4, "kernel_size": 3}},
        {"id": "flatten1", "block": "Flatten", "position": [400, 0], "params": {}},
        {"id": "linear1", "block": "Linear", "position": [600, 0], "params": {"out_features": 10}},
    ],
    "edges": [{"from": "input1.out", "to": "conv2d1.in"}, {"from": "conv2d1.out", "to": "flatten1.in"},
              {"from": "flatten1.out", "to": "linear1.in"}],
    "training": {"dataset": {"name": "digits"}},
}


def _graph(tmp_path):
    path = tmp_path / "cnn.json"
    path.write_text(json.dumps(CNN))
    return path, load(path)


def test_the_editor_names_the_input_and_its_fix_mends_the_graph(tmp_path):
    _, graph = _graph(tmp_path)
    graph.training["optimizer"] = {"name": "sgd", "lr": 10}
    dataset = load_dataset({"name": "digits"})
    found = diagnose(graph, dataset)
    assert [p.level for p in found] == ["error", "error", "warning"]  # errors first
    assert [(p.node, p.code) for p in found if p.level == "error"] == [("conv2d1", ""), ("input1", "input-shape")]
    fix = next(p for p in found if p.code == "input-shape").fixes[0]
    assert fix.title == "Set the shape of input1 to [1, 8, 8]"
    apply_fix(graph, fix)
    assert [p for p in diagnose(graph, dataset) if p.level == "error"] == []


def test_studio_check_names_it_too(tmp_path, capsys):
    path, _ = _graph(tmp_path)
    assert main(["check", str(path), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    found = [e for e in report["errors"] if e.get("code") == "input-shape"]
    assert found and found[0]["node"] == "input1" and found[0]["fixes"]


def test_a_dtype_finding_is_not_said_twice(tmp_path):
    graph = json.loads(json.dumps(CNN))
    graph["nodes"][1] = {"id": "conv2d1", "block": "Embedding", "position": [200, 0],
                         "params": {"num_embeddings": 10, "embedding_dim": 4}}
    graph["nodes"][0]["params"]["shape"] = [8]
    graph["training"]["dataset"] = {"name": "reverse"}
    path = tmp_path / "emb.json"
    path.write_text(json.dumps(graph))
    found = diagnose(load(path), load_dataset({"name": "reverse"}))
    assert [p.code for p in found if p.node == "input1" or p.code.startswith("dtype-")] == ["dtype-values-to-ids"]


def test_the_editor_lists_a_misfit_output_before_the_warnings(tmp_path):
    from studio.doctor.lints import standing

    graph = json.loads(json.dumps(CNN))
    graph["nodes"][0]["params"]["shape"] = [1, 8, 8]
    graph["nodes"][3]["params"]["out_features"] = 7
    graph["training"]["optimizer"] = {"name": "sgd", "lr": 10}
    path = tmp_path / "seven.json"
    path.write_text(json.dumps(graph))
    found = standing(load(path), load_dataset({"name": "digits"}))
    assert [(p.level, p.code) for p in found] == [("error", "output-classes"), ("warning", "lr-too-large")]
