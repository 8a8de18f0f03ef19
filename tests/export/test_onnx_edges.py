"""ONNX export at its edges: networks that are only an Input, folders that do not exist yet, writes that
fail (nothing left behind, the message names the file asked for), the data set note of the int8 table."""

from __future__ import annotations

import errno
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch

from studio.compile import compile_networks
from studio.export import export_onnx, load_validation
from studio.export import onnx as onnx_export
from studio.graph import Graph


def _tiny() -> Graph:
    g = Graph("tiny")
    g.add_node("Input", {"shape": [4]}, (0, 0), "a")
    g.add_node("Linear", {"out_features": 3}, (220, 0), "fc")
    g.connect("a", "out", "fc", "in")
    return g


@pytest.fixture(scope="module")
def stray_input(tmp_path_factory):
    """A graph with a second Input wired to nothing (its own network), exported once."""
    g = _tiny()
    g.add_node("Input", {"shape": [6]}, (0, 200), "b")
    networks = compile_networks(g)
    folder = tmp_path_factory.mktemp("stray")
    return g, networks, export_onnx(g, folder / "m.onnx", networks), folder


def test_an_input_wired_to_nothing_exports_as_its_own_file(stray_input):
    _, networks, results, folder = stray_input
    assert {r.network: r.path for r in results} == {"a": folder / "m-a.onnx", "b": folder / "m-b.onnx"}
    session = ort.InferenceSession(str(folder / "m-b.onnx"), providers=["CPUExecutionProvider"])
    # the input keeps the node id; its output, the same value, is named by port so the names differ
    assert [i.name for i in session.get_inputs()] == ["b"]
    assert [o.name for o in session.get_outputs()] == ["b.out"]
    x = np.random.default_rng(0).standard_normal((7, 6)).astype(np.float32)
    (got,) = session.run(None, {"b": x})
    assert np.array_equal(got, x)
    a = ort.InferenceSession(str(folder / "m-a.onnx"), providers=["CPUExecutionProvider"])
    xa = torch.randn(7, 4)
    with torch.no_grad():
        expected = networks["a"].eval()(xa).numpy()
    (got,) = a.run(None, {"a": xa.numpy()})
    assert np.abs(got - expected).max() <= 1e-5


def test_missing_folders_are_made(stray_input, tmp_path):
    g, networks, _, _ = stray_input
    target = tmp_path / "new" / "deeper" / "m.onnx"
    results = export_onnx(g, target, networks)
    assert sorted(p.name for p in target.parent.iterdir()) == ["m-a.onnx", "m-b.onnx"]
    assert all(r.path.parent == target.parent for r in results)


def _full_disk(monkeypatch):
    """Every ONNX write fails part way, as on a full disk."""
    def writer(data):
        def write(tmp: Path) -> None:
            tmp.write_bytes(data[:10])
            raise OSError(errno.ENOSPC, "No space left on device", str(tmp))
        return write
    monkeypatch.setattr(onnx_export, "_writer", writer)


def test_a_failed_write_names_the_target_and_leaves_no_folder_or_temporary_file(monkeypatch, tmp_path):
    g = _tiny()
    networks = compile_networks(g)
    _full_disk(monkeypatch)
    target = tmp_path / "new" / "deeper" / "m.onnx"
    with pytest.raises(OSError) as caught:
        export_onnx(g, target, networks, int8=True)
    assert caught.value.filename == str(target)  # not its temporary name beside it
    assert caught.value.errno == errno.ENOSPC
    assert list(tmp_path.iterdir()) == []  # the folders it made are gone again

    existing = tmp_path / "kept"
    existing.mkdir()
    with pytest.raises(OSError) as caught:
        export_onnx(g, existing / "m.onnx", networks)
    assert caught.value.filename == str(existing / "m.onnx")
    assert existing.is_dir() and list(existing.iterdir()) == []  # a folder it did not make stays


def test_a_file_where_a_folder_should_be_is_said(tmp_path):
    g = _tiny()
    blocker = tmp_path / "graph.json"
    blocker.write_text("{}")
    with pytest.raises(OSError) as caught:
        export_onnx(g, blocker / "deep" / "m.onnx", compile_networks(g))
    assert caught.value.filename == str(blocker / "deep" / "m.onnx")
    assert caught.value.strerror == f"{blocker} is a file, not a folder"
    assert blocker.read_text() == "{}" and sorted(p.name for p in tmp_path.iterdir()) == ["graph.json"]


def test_a_data_set_that_cannot_be_loaded_is_said_with_the_key_and_file(tmp_path):
    g = _tiny()
    g.set_training({"task": "classification", "dataset": {"name": "csv", "path": "nothere.csv"}})
    dataset, note = load_validation(g, tmp_path)
    assert dataset is None
    assert note.startswith("no validation split (the data set cannot be loaded: training.dataset.path: "
                           "no file 'nothere.csv'"), note


def test_adaptive_max_pool_to_any_size_and_a_squeeze_that_keeps_its_dimension_export(tmp_path):
    g = Graph("pools")
    g.add_node("Input", {"shape": [3, 7, 9]}, (0, 0), "x")
    g.add_node("AdaptiveMaxPool2d", {"output_size": 3}, (220, 0), "odd")  # 7 and 9 into 3: uneven windows
    g.add_node("AdaptiveMaxPool2d", {"output_size": [5, 4]}, (220, 100), "half")
    g.add_node("AdaptiveMaxPool2d", {"output_size": [7, 3]}, (220, 200), "even")  # a plain max pool
    g.add_node("Squeeze", {"dim": 2}, (220, 300), "keep")  # 7 is not 1: torch leaves it
    for node in ("odd", "half", "even", "keep"):
        g.connect("x", "out", node, "in")
    (net,) = compile_networks(g).values()
    (result,) = export_onnx(g, tmp_path / "pools.onnx", net)
    session = ort.InferenceSession(str(result.path), providers=["CPUExecutionProvider"])
    assert [o.name for o in session.get_outputs()] == ["odd", "half", "even", "keep"]
    x = torch.randn(7, 3, 7, 9)
    with torch.no_grad():
        expected = net.eval()(x)
    got = session.run(None, {"x": x.numpy()})
    assert [g.shape for g in got] == [(7, 3, 3, 3), (7, 3, 5, 4), (7, 3, 7, 3), (7, 3, 7, 9)]
    for e, o in zip(expected, got):
        assert np.array_equal(e.numpy(), o)  # a max picks values: exactly equal


def test_an_interrupted_write_leaves_no_folder(monkeypatch, tmp_path):
    g = _tiny()
    networks = compile_networks(g)

    def writer(data):
        def write(tmp: Path) -> None:
            tmp.write_bytes(data[:10])
            raise KeyboardInterrupt
        return write
    monkeypatch.setattr(onnx_export, "_writer", writer)
    with pytest.raises(KeyboardInterrupt):
        export_onnx(g, tmp_path / "new" / "m.onnx", networks)
    assert list(tmp_path.iterdir()) == []
