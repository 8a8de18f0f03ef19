"""``studio evaluate``: the confusion matrix and per-class figures of trained weights on the
validation split, its JSON, regression figures, and what it refuses."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from studio.cli.main import main
from studio.compile import compile_networks
from studio.data import load_dataset
from studio.files import load, save
from studio.graph import Graph
from studio.training.checkpoint import load_weights, save_weights
from studio.training.metrics import ClassReport

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)


def evaluate(capsys, *args):
    code = main(["evaluate", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def spiral(tmp_path_factory):
    """spiral_mlp trained a few epochs through ``studio train --json``: its file, weights and last epoch."""
    folder = tmp_path_factory.mktemp("spiral")
    graph = load(EXAMPLES / "spiral_mlp.json")
    graph.set_training({**graph.training, "threads": 1, "probes": False})
    path = folder / "spiral.json"
    save(graph, path)
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["train", str(path), "--epochs", "6", "--json", "--checkpoint", str(folder / "run")]) == 0
    epochs = [json.loads(line) for line in out.getvalue().splitlines()]
    return path, folder / "run.safetensors", epochs[-2]  # the last line repeats the best epoch


def independent_report(path, weights) -> ClassReport:
    """The confusion matrix counted apart from studio's own pass: the network on the validation split."""
    graph = load(path)
    nets = compile_networks(graph)
    load_weights(weights, nets)
    net = next(iter(nets.values())).eval()
    data = load_dataset(graph.training["dataset"])
    with torch.no_grad():
        predicted = net(data.val.x).argmax(-1).numpy()
    return ClassReport.from_labels(data.val.targets.numpy(), predicted, data.class_names)


def printed_matrix(out: str, classes: int) -> np.ndarray:
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("confusion matrix")) + 2
    rows = [line.split()[-classes:] for line in lines[start:start + classes]]
    return np.array(rows, dtype=np.int64)


def test_printed_matrix_and_figures(spiral, capsys):
    path, weights, last = spiral
    expected = independent_report(path, weights)
    code, out, err = evaluate(capsys, path, "--weights", weights)
    assert code == 0, err
    np.testing.assert_array_equal(printed_matrix(out, 3), expected.counts)
    lines = out.splitlines()
    header = lines[lines.index("confusion matrix (rows: true class, columns: predicted class)") + 1]
    assert header.split() == list(expected.class_names)
    table = lines.index(next(line for line in lines if line.startswith("class ")))
    for i, name in enumerate(expected.class_names):
        cells = lines[table + 1 + i].split()
        assert cells[-4:] == [f"{expected.precision[i]:.3f}", f"{expected.recall[i]:.3f}", f"{expected.f1[i]:.3f}",
                              str(expected.support[i])]
    accuracy = next(line for line in lines if line.startswith("accuracy")).split()
    assert accuracy[1:] == [f"{expected.accuracy:.3f}", str(expected.total)]
    macro = next(line for line in lines if line.startswith("macro avg")).split()
    assert macro[2:5] == [f"{v:.3f}" for v in expected.macro().values()]
    assert f"validation split of {expected.total} samples" in lines[0]
    # the same figures the run reported for its last epoch
    assert expected.accuracy == pytest.approx(last["val_acc"])
    assert f"validation loss {last['val_loss']:.4f}" in out


def test_json(spiral, capsys):
    path, weights, last = spiral
    expected = independent_report(path, weights)
    code, out, err = evaluate(capsys, path, "--weights", weights, "--json")
    assert code == 0, err
    data = json.loads(out)  # one object
    assert data["kind"] == "classes" and data["split"] == "validation" and data["dataset"] == "spiral"
    assert data["counts"] == expected.counts.tolist() and data["samples"] == expected.total
    assert data["precision"] == pytest.approx(expected.precision.tolist())
    assert data["recall"] == pytest.approx(expected.recall.tolist())
    assert data["f1"] == pytest.approx(expected.f1.tolist())
    assert data["accuracy"] == pytest.approx(last["val_acc"]) and data["loss"] == pytest.approx(last["val_loss"])
    assert data["weighted"] == pytest.approx(expected.weighted())


def test_no_validation_split_is_refused(spiral, tmp_path, capsys):
    path, weights, _ = spiral
    graph = load(path)
    graph.set_training({**graph.training, "dataset": {**graph.training["dataset"], "val_fraction": 0.0}})
    save(graph, tmp_path / "whole.json")
    code, out, err = evaluate(capsys, tmp_path / "whole.json", "--weights", weights)
    assert code == 1 and out == ""
    assert err.startswith("studio evaluate: ") and "holds no validation split" in err
    assert "set training.dataset.val_fraction above 0" in err


def test_refusals(spiral, tmp_path, capsys):
    path, weights, _ = spiral
    code, _, err = evaluate(capsys, path, "--weights", tmp_path / "none.safetensors")
    assert code == 2 and "none.safetensors: no such weights file" in err
    (tmp_path / "bad.json").write_text("[")
    code, _, err = evaluate(capsys, tmp_path / "bad.json", "--weights", weights)
    assert code == 2 and "bad.json" in err
    other = load(EXAMPLES / "xor_mlp.json")
    save(other, tmp_path / "xor.json")
    code, _, err = evaluate(capsys, tmp_path / "xor.json", "--weights", weights)
    assert code == 1 and "was it saved from another graph?" in err
    gan = load(EXAMPLES / "gan_ring2d.json")
    save(gan, tmp_path / "gan.json")
    nets = compile_networks(gan)
    save_weights(tmp_path / "gan.safetensors", {k: n.state_dict() for k, n in nets.items()})
    code, _, err = evaluate(capsys, tmp_path / "gan.json", "--weights", tmp_path / "gan.safetensors")
    assert code == 1 and "a gan has no validation split to evaluate on" in err
    assert evaluate(capsys, path)[0] == 2  # --weights is required


def untrained(tmp_path, graph: Graph, name: str) -> tuple[Path, Path]:
    path = tmp_path / f"{name}.json"
    save(graph, path)
    torch.manual_seed(0)
    nets = compile_networks(graph)
    return path, save_weights(tmp_path / f"{name}.safetensors", {k: n.state_dict() for k, n in nets.items()})


def test_regression_figures(tmp_path, capsys):
    graph = load(EXAMPLES / "lstm_sequence.json")
    graph.set_training({**graph.training, "dataset": {**graph.training["dataset"], "samples": 200}})
    path, weights = untrained(tmp_path, graph, "lstm")
    code, out, err = evaluate(capsys, path, "--weights", weights, "--json")
    assert code == 0, err
    data = json.loads(out)
    nets = compile_networks(load(path))
    load_weights(weights, nets)
    ds = load_dataset(graph.training["dataset"])
    with torch.no_grad():
        predicted = next(iter(nets.values())).eval()(ds.val.x).numpy().reshape(-1)
    target = ds.val.targets.numpy().reshape(-1)
    err_ = predicted - target
    assert data["kind"] == "values" and data["count"] == target.size
    assert data["mae"] == pytest.approx(np.abs(err_).mean(), rel=1e-4)
    assert data["rmse"] == pytest.approx(np.sqrt((err_ ** 2).mean()), rel=1e-4)
    assert data["r2"] == pytest.approx(1 - (err_ ** 2).sum() / ((target - target.mean()) ** 2).sum(), rel=1e-4)
    assert data["residuals"]["median"] == pytest.approx(np.median(err_), rel=1e-4, abs=1e-6)
    code, out, _ = evaluate(capsys, path, "--weights", weights)
    assert code == 0
    assert f"MAE   {data['mae']:.6g}" in out and f"RMSE  {data['rmse']:.6g}" in out and f"R^2   {data['r2']:.4f}" in out
    assert "residuals (predicted - target):" in out and "confusion" not in out


def test_many_classes_print_the_table_only(tmp_path, capsys):
    letters = "abcdefghijklmnopqrstuvwxyz0123456789"
    (tmp_path / "text.txt").write_text((letters * 8 + "\n") * 3)
    g = Graph("chars")
    g.add_node("Input", {"shape": [4], "dtype": "long"}, id="chars")
    g.add_node("Embedding", {"num_embeddings": 37, "embedding_dim": 4}, id="embed")
    g.add_node("Flatten", {}, id="flat")
    g.add_node("Linear", {"out_features": 37}, id="next")
    g.connect("chars", "out", "embed", "in")
    g.connect("embed", "out", "flat", "in")
    g.connect("flat", "out", "next", "in")
    g.set_training({"task": "classification", "dataset": {"name": "text", "path": "text.txt", "length": 4,
                                                          "val_fraction": 0.2}, "threads": 1})
    path, weights = untrained(tmp_path, g, "chars")
    code, out, err = evaluate(capsys, path, "--weights", weights)
    assert code == 0, err
    assert "37 classes: the confusion matrix is too wide to print and is left out (--json holds it); per-class figures:" in out
    assert "confusion matrix (rows" not in out
    lines = out.splitlines()
    table = lines.index(next(line for line in lines if line.startswith("class ")))
    assert [line.split()[0] for line in lines[table + 1: table + 4]] == ["\\n", "0", "1"]
    code, out, _ = evaluate(capsys, path, "--weights", weights, "--json")
    assert code == 0 and np.array(json.loads(out)["counts"]).shape == (37, 37)


def test_node_classification_counts_validation_nodes(tmp_path, capsys):
    graph = load(EXAMPLES / "gcn_karate.json")
    path, weights = untrained(tmp_path, graph, "karate")
    code, out, err = evaluate(capsys, path, "--weights", weights, "--json")
    assert code == 0, err
    data = json.loads(out)
    ds = load_dataset(graph.training["dataset"])
    assert data["samples"] == int(ds.val.mask.sum()) == sum(map(sum, data["counts"]))


def test_evaluate_as_a_command(spiral):
    path, weights, last = spiral
    done = subprocess.run([sys.executable, "-m", "studio", "evaluate", str(path), "--weights", str(weights), "--json"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["accuracy"] == pytest.approx(last["val_acc"])
