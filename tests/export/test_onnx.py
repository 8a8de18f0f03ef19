"""ONNX export: every example exports, and onnxruntime computes what the compiled network does;
names come from the node ids; the batch is free; what the exporter cannot express is refused by node."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from studio.compile import compile_networks
from studio.export import ExportError, export_onnx
from studio.export import onnx as onnx_export
from studio.export.onnx_check import check_inputs
from studio.files import load
from studio.graph import Graph

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p.stem for p in (ROOT / "examples").glob("*.json"))
# Examples that cannot export, with the reason the refusal gives: none today.
REFUSED: dict[str, str] = {}
# Weights of hundreds of MB (VGG-16 553 MB, AlexNet 244 MB): checked on a batch of 1 only, by
# `make test-large` (a minute of `make test` otherwise).
LARGE = {"vgg16": 1, "alexnet": 1}
_exported: dict[str, tuple] = {}  # one export per example, shared by the tests below


def exported(name: str, folder: Path):
    """(graph, compiled networks, export results) of examples/NAME.json, exported once."""
    if name not in _exported:
        graph = load(ROOT / "examples" / f"{name}.json")
        torch.manual_seed(0)
        networks = compile_networks(graph)
        start = time.perf_counter()
        results = export_onnx(graph, folder / f"{name}.onnx", networks)
        _exported[name] = (graph, networks, results, time.perf_counter() - start)
    return _exported[name]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    yield tmp_path_factory.mktemp("onnx")
    _exported.clear()  # the large files go with their folder


def test_every_example_is_covered():
    assert len(EXAMPLES) >= 15 and not set(REFUSED) - set(EXAMPLES)


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.large) if n in LARGE else n
                                  for n in EXAMPLES if n not in REFUSED])
def test_example_exports_and_onnxruntime_matches_the_compiled_network(name, folder):
    graph, networks, results, seconds = exported(name, folder)
    assert [r.network for r in results] == list(networks)
    for result, net in zip(results, networks.values()):
        # the export's own check, on batches of 3 and 1
        assert set(result.differences) == {3, 1}
        assert result.max_difference <= 1e-4, result.differences
        # and this test's own, on the file as written, with a batch the export never saw
        session = ort.InferenceSession(str(result.path), providers=["CPUExecutionProvider"])
        batch = LARGE.get(name, 5)
        inputs = check_inputs(graph, net, batch, torch.Generator().manual_seed(11), uniform=True)
        with torch.no_grad():
            expected = net.eval()(*inputs)
        expected = expected if isinstance(expected, tuple) else (expected,)
        got = session.run(None, {i.name: x.numpy() for i, x in zip(session.get_inputs(), inputs)})
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            assert g.shape == tuple(e.shape)
            assert np.abs(g - e.numpy()).max() <= 1e-4
        # inputs and outputs carry the node ids, the batch dimension is free
        assert [i.name for i in session.get_inputs()] == net.input_nodes
        assert [o.name for o in session.get_outputs()] == [n for n, _ in net.output_nodes]
        for i in session.get_inputs():
            assert i.shape[0] == "batch"
    names = [r.path.name for r in results]
    assert names == ([f"{name}.onnx"] if len(results) == 1 else [f"{name}-{key}.onnx" for key in networks])
    if name in LARGE:  # no other test needs them: their memory and disk go now
        _exported.pop(name)
        for r in results:
            r.path.unlink()


@pytest.mark.parametrize("name", ["lenet5", "resnet18", "transformer_sequence", "gcn_karate"])
def test_node_ids_name_the_onnx_nodes_and_initializers(name, folder):
    graph, networks, results, _ = exported(name, folder)
    (net,) = networks.values()
    model = onnx.load(str(results[0].path), load_external_data=False)
    onnx.checker.check_model(model)
    initializers = {i.name for i in model.graph.initializer}
    owners = {part for n in model.graph.node for part in n.name.split("/")[0].split("+")}
    for node_id, attr in net.node_to_attr.items():
        weights = [k for k in net.get_submodule(attr).state_dict() if "running" not in k and "num_batches" not in k]
        if weights:  # every node with weights is found by its id
            assert node_id in owners or any(i.startswith(f"{node_id}.") for i in initializers), node_id
    if name == "lenet5":
        assert [n.name for n in model.graph.node] == [
            "conv1", "tanh1", "pool1", "conv2", "tanh2", "pool2", "conv3", "tanh3", "flatten", "fc1", "tanh4", "fc2"]
        assert {"conv1.weight", "conv1.bias", "fc2.weight"} <= initializers
    if name == "resnet18":
        nodes = [n.name for n in model.graph.node]
        # batch norm folded into the convolution before it names both; a shortcut add keeps its id,
        # inside its group
        assert nodes[:3] == ["conv1+bn1", "relu", "maxpool"]
        assert "layer1_0.add" in nodes and "layer1_0.conv1+layer1_0.bn1" in nodes and "fc" in nodes


def test_odd_node_ids_still_give_valid_onnx_names(tmp_path):
    # ids the files allow that Python or torch keep for themselves: the compiler renames their
    # attributes, the ONNX file still says the ids
    g = Graph("odd ids")
    g.add_node("Input", {"shape": [6]}, (0, 0), "input")
    g.add_node("Linear", {"out_features": 6}, (200, 0), "forward")
    g.add_node("ReLU", {}, (400, 0), "def")
    g.add_node("Add", {}, (600, 0), "training")
    g.add_node("Linear", {"out_features": 2}, (800, 0), "_modules")
    g.connect("input", "out", "forward", "in")
    g.connect("forward", "out", "def", "in")
    g.connect("def", "out", "training", "in1")
    g.connect("forward", "out", "training", "in2")
    g.connect("training", "out", "_modules", "in")
    (net,) = compile_networks(g).values()
    assert net.node_to_attr["forward"] != "forward"  # renamed inside the module
    (result,) = export_onnx(g, tmp_path / "odd.onnx", net)
    model = onnx.load(str(result.path))
    onnx.checker.check_model(model, full_check=True)
    assert [i.name for i in model.graph.input] == ["input"]
    assert [o.name for o in model.graph.output] == ["_modules"]
    assert [n.name for n in model.graph.node] == ["forward", "def", "training", "_modules"]
    assert {i.name for i in model.graph.initializer} == {
        "forward.weight", "forward.bias", "_modules.weight", "_modules.bias"}
    assert result.max_difference <= 1e-4


def _pool(output_size: int) -> Graph:
    g = Graph("pool")
    g.add_node("Input", {"shape": [2, 7, 7]}, (0, 0), "x")
    g.add_node("AdaptiveMaxPool2d", {"output_size": output_size}, (200, 0), "squeeze_it")
    g.add_node("Flatten", {}, (400, 0), "flat")
    g.connect("x", "out", "squeeze_it", "in")
    g.connect("squeeze_it", "out", "flat", "in")
    return g


class _RawAdaptiveMaxPool(torch.nn.Module):
    """adaptive max pooling called directly, as a module from elsewhere may: there is no ONNX operator for it."""

    def forward(self, x):
        return torch.nn.functional.adaptive_max_pool2d(x, 3)


def test_a_block_the_exporter_cannot_express_is_refused_by_node_and_nothing_is_written(tmp_path):
    graph = _pool(3)
    (net,) = compile_networks(graph).values()
    setattr(net, net.node_to_attr["squeeze_it"], _RawAdaptiveMaxPool())
    with pytest.raises(ExportError) as refused:
        export_onnx(graph, tmp_path / "pool.onnx", net)
    message = str(refused.value)
    assert message.startswith("node squeeze_it (AdaptiveMaxPool2d): the ONNX exporter cannot express it: ")
    assert "adaptive_max_pool2d" in message and "\x1b" not in message
    assert list(tmp_path.iterdir()) == []
    # the block itself, to a size that divides the input or not, exports
    for size in (7, 3):
        (result,) = export_onnx(_pool(size), tmp_path / f"pool{size}.onnx")
        assert result.max_difference <= 1e-4


def test_a_difference_above_the_limit_refuses_the_export(tmp_path, monkeypatch):
    graph = load(ROOT / "examples" / "xor_mlp.json")
    networks = compile_networks(graph)
    (good,) = export_onnx(graph, tmp_path / "a.onnx", networks)
    assert good.max_difference <= 1e-4
    # the same network, the same random batches: held to a limit below what it differs by
    limit = good.differences[3] / 2 if good.differences[3] > 0 else -1.0
    monkeypatch.setattr(onnx_export, "TOLERANCE", limit)
    with pytest.raises(ExportError, match=r"onnxruntime differs from the compiled network by up to .* on a batch of 3"):
        export_onnx(graph, tmp_path / "b.onnx", networks)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.onnx"]


def test_opset_asked_is_the_opset_written_or_refused(tmp_path):
    graph = load(ROOT / "examples" / "spiral_mlp.json")
    (result,) = export_onnx(graph, tmp_path / "s.onnx", opset=18)
    model = onnx.load(str(result.path))
    assert result.opset == 18 and [o.version for o in model.opset_import if o.domain == ""] == [18]
    with pytest.raises(ExportError, match="cannot write opset 9"):
        export_onnx(graph, tmp_path / "old.onnx", opset=9)
    assert not (tmp_path / "old.onnx").exists()


def test_long_inputs_get_token_ids_within_the_vocabulary():
    graph = load(ROOT / "examples" / "transformer_sequence.json")
    (net,) = compile_networks(graph).values()
    vocabulary = net.get_submodule(net.node_to_attr["embedding"]).num_embeddings
    (tokens,) = check_inputs(graph, net, 64, torch.Generator().manual_seed(0))
    assert tokens.dtype == torch.long and int(tokens.min()) >= 0 and int(tokens.max()) < vocabulary
    assert int(tokens.max()) > vocabulary // 2  # the whole range, not only small ids


def test_a_node_with_several_outputs_names_each_by_port(tmp_path):
    g = Graph("split")
    g.add_node("Input", {"shape": [6]}, (0, 0), "x")
    g.add_node("Split", {"sizes": [2, 4]}, (200, 0), "split")
    g.connect("x", "out", "split", "in")
    (result,) = export_onnx(g, tmp_path / "split.onnx")
    model = onnx.load(str(result.path))
    assert [o.name for o in model.graph.output] == ["split.out1", "split.out2"]
    assert [[d.dim_param or d.dim_value for d in o.type.tensor_type.shape.dim] for o in model.graph.output] == [
        ["batch", 2], ["batch", 4]]
    x = np.arange(12, dtype=np.float32).reshape(2, 6)
    first, second = ort.InferenceSession(str(result.path)).run(None, {"x": x})
    assert np.array_equal(first, x[:, :2]) and np.array_equal(second, x[:, 2:])


class _SqueezeInside(torch.nn.Module):
    """A squeeze of a dimension of size 4 inside a module: torch leaves it, the exporter writes an ONNX Squeeze."""

    def forward(self, x):
        return x.squeeze(2)


def test_onnxruntime_refusing_the_file_names_the_node(tmp_path):
    # onnxruntime refuses the ONNX Squeeze of a dimension that is not 1: the message says which node
    g = Graph("squeeze")
    g.add_node("Input", {"shape": [3, 4]}, (0, 0), "x")
    g.add_node("Squeeze", {"dim": 2}, (200, 0), "drop_axis")
    g.connect("x", "out", "drop_axis", "in")
    (net,) = compile_networks(g).values()
    (result,) = export_onnx(g, tmp_path / "plain.onnx", net)  # the block itself: a no-op, as in torch
    assert result.max_difference == 0
    inner = Graph("squeeze")
    inner.add_node("Input", {"shape": [3, 4]}, (0, 0), "x")
    inner.add_node("ReLU", {}, (200, 0), "drop_axis")
    inner.connect("x", "out", "drop_axis", "in")
    (net,) = compile_networks(inner).values()
    setattr(net, net.node_to_attr["drop_axis"], _SqueezeInside())
    with pytest.raises(ExportError) as refused:
        export_onnx(inner, tmp_path / "s.onnx", net)
    assert str(refused.value).startswith("node drop_axis (ReLU): onnxruntime cannot run the exported file: ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain.onnx"]
