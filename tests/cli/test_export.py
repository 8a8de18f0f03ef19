"""``studio export FILE --format python|torchrun|program [-o OUT]``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from studio.cli.main import main
from studio.compile import compile_graph
from studio.files import load, save
from studio.graph import Graph

ROOT = Path(__file__).resolve().parents[2]
LENET = ROOT / "examples" / "lenet5.json"


def _mlp() -> Graph:
    g = Graph("tiny mlp")
    g.add_node("Input", {"shape": [8]}, (0, 0), "x")
    g.add_node("Linear", {"out_features": 3}, (220, 0), "fc")
    g.connect("x", "out", "fc", "in")
    return g


def test_python_to_stdout_is_the_exported_source(capsys):
    assert main(["export", str(LENET), "--format", "python"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert "class LeNet5(nn.Module):" in out
    assert "        self.conv1 = nn.Conv2d(1, 6, kernel_size=5)\n" in out
    namespace: dict = {}
    exec(compile(out, "lenet5.py", "exec"), namespace)
    assert sum(p.numel() for p in namespace["LeNet5"]().parameters()) == 61706


def test_python_to_a_file(capsys, tmp_path):
    target = tmp_path / "lenet.py"
    assert main(["export", str(LENET), "--format", "python", "-o", str(target)]) == 0
    out, err = capsys.readouterr()
    assert out == "" and err.strip() == f"studio export: wrote {target}"
    assert target.read_text().startswith('"""LeNet-5')


def test_torchrun_script_to_a_file(capsys, tmp_path):
    target = tmp_path / "train.py"
    spiral = ROOT / "examples" / "spiral_mlp.json"
    assert main(["export", str(spiral), "--format", "torchrun", "-o", str(target)]) == 0
    text = target.read_text()
    assert "torchrun --nproc_per_node=N train_spiral_mlp.py DATA.npz" in text
    compile(text, str(target), "exec")


def test_program_default_path_and_outputs(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    graph_file = tmp_path / "mlp.json"
    save(_mlp(), graph_file)
    assert main(["export", str(graph_file), "--format", "program"]) == 0
    assert capsys.readouterr().err.strip() == "studio export: wrote mlp.pt2"
    program = torch.export.load(str(tmp_path / "mlp.pt2"))
    state = program.state_dict
    assert sorted(state) == ["fc.bias", "fc.weight"]
    x = torch.randn(5, 8)
    expected = x @ state["fc.weight"].T + state["fc.bias"]
    torch.testing.assert_close(program.module()(x), expected)


def test_program_with_several_networks_writes_one_file_each(capsys, tmp_path):
    out = tmp_path / "gan.pt2"
    assert main(["export", str(ROOT / "examples" / "gan_ring2d.json"), "--format", "program", "-o", str(out)]) == 0
    lines = capsys.readouterr().err.splitlines()
    assert lines == [f"studio export: wrote {tmp_path / 'gan-noise.pt2'}",
                     f"studio export: wrote {tmp_path / 'gan-sample.pt2'}"]
    assert torch.export.load(str(tmp_path / "gan-noise.pt2")).module()(torch.randn(3, 8)).shape == (3, 2)


def test_invalid_graph_exits_1_naming_the_nodes(capsys, tmp_path):
    g = _mlp()
    g.add_node("Conv2d", {"out_channels": 4}, (440, 0), "conv")
    g.connect("fc", "out", "conv", "in")
    g.add_node("Add", {}, (660, 0), "add")
    g.connect("fc", "out", "add", "in1")
    path = tmp_path / "broken.json"
    save(g, path)
    for fmt in ("python", "torchrun", "program"):
        assert main(["export", str(path), "--format", fmt, "-o", str(tmp_path / "out")]) == 1
        out, err = capsys.readouterr()
        lines = err.splitlines()
        assert out == ""
        assert lines[0] == f"studio export: {path}: the graph is invalid, 2 problems:"
        assert lines[1].startswith("  conv.in: expected [C, H, W], got [3]")
        assert lines[2] == "  add.in2: not connected"
    assert not (tmp_path / "out").exists()


def test_a_format_the_graph_cannot_take_exits_1(capsys):
    assert main(["export", str(ROOT / "examples" / "gan_ring2d.json"), "--format", "torchrun"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"studio export: {ROOT / 'examples' / 'gan_ring2d.json'}: cannot export as torchrun: ")
    assert "GAN" in err


def test_unreadable_file_and_bad_arguments_exit_2(capsys, tmp_path):
    assert main(["export", str(tmp_path / "missing.json"), "--format", "python"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "missing.json: cannot read" in err
    bad = tmp_path / "bad.json"
    doc = json.loads(LENET.read_text())
    doc["nodes"][3]["block"] = "Conv3x"
    bad.write_text(json.dumps(doc))
    assert main(["export", str(bad), "--format", "python"]) == 2
    assert "unknown block 'Conv3x'" in capsys.readouterr().err
    assert main(["export", str(LENET)]) == 2  # --format is required
    assert "--format" in capsys.readouterr().err
    assert main(["export", str(LENET), "--format", "onnx"]) == 2
    assert "invalid choice: 'onnx'" in capsys.readouterr().err
    assert main(["export", str(LENET), "--format", "python", "-o", str(tmp_path / "no" / "dir" / "x.py")]) == 2
    assert "cannot write" in capsys.readouterr().err


def test_usage_lists_export(capsys):
    assert main(["--help"]) == 0
    assert "studio export FILE --format python|torchrun|program [-o OUT]" in capsys.readouterr().out


def test_python_module_entry_point(tmp_path):
    target = tmp_path / "lenet.py"
    run = subprocess.run([sys.executable, "-m", "studio", "export", str(LENET), "--format", "python",
                          "-o", str(target)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    graph = load(LENET)
    module = compile_graph(graph).eval()
    namespace: dict = {}
    exec(compile(target.read_text(), str(target), "exec"), namespace)
    model = namespace["LeNet5"]().eval()
    model.load_state_dict(module.state_dict())
    x = torch.randn(2, 1, 32, 32)
    assert torch.equal(model(x), module(x))
