"""int8: onnxruntime dynamic quantization of the ONNX file, its table against fp32 (size, latency,
validation score), and PyTorch's dynamic quantization of a program refused where torch cannot."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from studio.cli.export import trained_networks
from studio.cli.main import main
from studio.compile import compile_networks
from studio.export import ExportError, export_onnx, int8_path, load_validation, measure
from studio.export.int8_table import Cancelled
from studio.files import load
from studio.graph import Graph
from studio.training.supervised import ordered_inputs

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
DIGITS = EXAMPLES / "lenet5_digits.json"


@pytest.fixture(scope="module")
def digits_weights(tmp_path_factory) -> Path:
    """lenet5_digits trained for 2 epochs: its weights file."""
    folder = tmp_path_factory.mktemp("digits")
    assert main(["train", str(DIGITS), "--epochs", "2", "--checkpoint", str(folder / "lenet")]) == 0
    return folder / "lenet.safetensors"


def _torch_accuracy(graph, net, dataset) -> float:
    val = dataset.val
    inputs = [val.inputs[i] for i in ordered_inputs(net, dataset, graph)]
    with torch.no_grad():
        out = net.eval()(*inputs)
    return float((out.argmax(-1) == val.targets).float().mean())


def test_int8_of_trained_digits_as_json(digits_weights, tmp_path, capsys):
    out = tmp_path / "lenet.onnx"
    assert main(["export", str(DIGITS), "--format", "onnx", "-o", str(out), "--weights", str(digits_weights),
                 "--quantize", "int8", "--json"]) == 0
    stdout, stderr = capsys.readouterr()
    lines = stderr.splitlines()
    assert lines[0] == f"studio export: wrote {out}"
    assert lines[1].startswith("studio export: onnxruntime matches the compiled network: max |difference| ")
    assert lines[2] == f"studio export: wrote {tmp_path / 'lenet.int8.onnx'} (int8 weights)"
    (row,) = [json.loads(line) for line in stdout.splitlines()]
    quantized = tmp_path / "lenet.int8.onnx"
    assert row["size_bytes"] == {"fp32": out.stat().st_size, "int8": quantized.stat().st_size}
    assert row["size_bytes"]["int8"] < 0.5 * row["size_bytes"]["fp32"]  # the weights are a quarter
    assert row["latency"] == {"batch": 1, "threads": 1, "runs": 50, "statistic": "median", "interleaved": True}
    assert row["latency_ms_per_sample"]["fp32"] > 0 and row["latency_ms_per_sample"]["int8"] > 0
    graph = load(DIGITS)
    dataset, note = load_validation(graph, EXAMPLES)
    assert note == "" and row["validation"]["metric"] == "accuracy"
    assert row["validation"]["samples"] == len(dataset.val)
    # the fp32 file scores what the trained network scores (one sample apart at most: a tie)
    net = trained_networks(graph, str(digits_weights))
    assert abs(row["validation"]["fp32"] - _torch_accuracy(graph, net, dataset)) <= 1 / len(dataset.val)
    assert row["validation"]["fp32"] > 0.5  # it did learn: the score means something
    assert abs(row["validation"]["int8"] - row["validation"]["fp32"]) < 0.05
    # the int8 file holds int8 weights and integer operators
    model = onnx.load(str(quantized))
    ops = {n.op_type for n in model.graph.node}
    assert {"ConvInteger", "MatMulInteger"} <= ops and "Conv" not in ops
    int8_weights = [i for i in model.graph.initializer if i.data_type == onnx.TensorProto.INT8]
    assert sum(int(np.prod(i.dims)) for i in int8_weights) >= 0.95 * sum(p.numel() for p in net.parameters()
                                                                        if p.dim() > 1)


def test_int8_table_as_text(digits_weights, tmp_path, capsys):
    out = tmp_path / "m.onnx"
    assert main(["export", str(DIGITS), "--format", "onnx", "-o", str(out), "--weights", str(digits_weights),
                 "--quantize", "int8"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "m.onnx against m.int8.onnx"
    assert lines[1].split() == ["fp32", "int8", "int8", "/", "fp32"]
    assert lines[2].startswith("file size ") and lines[2].rstrip().endswith("x")
    assert lines[3].startswith("CPU latency / sample ") and lines[3].count(" ms") == 2
    assert lines[4].startswith("accuracy, validation (359) ") and lines[4].endswith(" points")
    assert lines[5] == "latency: onnxruntime, 1 thread, batch 1, median of 50 interleaved runs each"


def test_values_are_scored_by_mean_absolute_error(tmp_path):
    graph = load(EXAMPLES / "lstm_sequence.json")
    networks = compile_networks(graph)
    (result,) = export_onnx(graph, tmp_path / "lstm.onnx", networks, int8=True)
    assert result.int8_path == tmp_path / "lstm.int8.onnx" == int8_path(result.path)
    dataset, note = load_validation(graph, EXAMPLES)
    (net,) = networks.values()
    table = measure(graph, net, result.path, result.int8_path, dataset, note, runs=5)
    assert table.metric == "MAE" and table.samples == len(dataset.val)
    with torch.no_grad():
        out = net.eval()(dataset.val.inputs[0])
    expected = float((out.reshape(dataset.val.targets.shape) - dataset.val.targets).abs().mean())
    assert table.fp32_score == pytest.approx(expected, abs=1e-5)
    assert table.int8_score == pytest.approx(expected, rel=0.2, abs=1e-3)
    assert table.rows()[2][0] == "MAE, validation (120)"


def test_no_validation_split_is_said(tmp_path):
    graph = load(EXAMPLES / "lenet5.json")  # a network with no data set
    networks = compile_networks(graph)
    (result,) = export_onnx(graph, tmp_path / "l.onnx", networks, int8=True)
    dataset, note = load_validation(graph, EXAMPLES)
    assert dataset is None and note == "no validation split (nothing to train on)"
    (net,) = networks.values()
    table = measure(graph, net, result.path, result.int8_path, dataset, note, runs=3)
    assert table.metric is None and table.to_json()["validation"] is None
    assert table.to_json()["note"] == note and table.rows()[2] == ("validation", note, "", "")
    stops = iter([False, False, True])
    with pytest.raises(Cancelled):
        measure(graph, net, result.path, result.int8_path, runs=50, stop=lambda: next(stops))


def test_program_quantization_is_refused_with_torchs_reason(capsys, tmp_path):
    out = tmp_path / "s.pt2"
    assert main(["export", str(EXAMPLES / "spiral_mlp.json"), "--format", "program", "-o", str(out),
                 "--quantize", "int8"]) == 1
    err = capsys.readouterr().err
    assert "torch.ao.quantization.quantize_dynamic" in err and "torch.export cannot save" in err
    assert "use --format onnx --quantize int8" in err
    assert list(tmp_path.iterdir()) == []  # refused before anything is written
    from studio.export import quantize_program

    conv_only = Graph("conv")
    conv_only.add_node("Input", {"shape": [1, 8, 8]}, (0, 0), "x")
    conv_only.add_node("Conv2d", {"out_channels": 2, "kernel_size": 3}, (200, 0), "conv")
    conv_only.connect("x", "out", "conv", "in")
    (net,) = compile_networks(conv_only).values()
    with pytest.raises(ExportError, match="applies to Linear, LSTM and GRU layers; this network has none"):
        quantize_program(net, ())


def test_quantize_arguments_that_do_not_go_together_exit_2(capsys, tmp_path):
    spiral = str(EXAMPLES / "spiral_mlp.json")
    cases = [
        (["--format", "python", "--quantize", "int8"], "--quantize goes with --format onnx or program"),
        (["--format", "onnx", "--json"], "--json goes with --quantize"),
        (["--format", "program", "--opset", "18"], "--opset goes with --format onnx"),
        (["--format", "onnx", "--opset", "99"], "--opset 99: ONNX opsets run from 7 to "),
        (["--format", "onnx", "--quantize", "int4"], "invalid choice: 'int4'"),
    ]
    for extra, said in cases:
        assert main(["export", spiral, "-o", str(tmp_path / "x"), *extra]) == 2, extra
        assert said in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
