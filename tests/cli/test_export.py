"""``studio export FILE --format python|torchrun|program|onnx [-o OUT] [--weights CKPT] [--opset N] [--quantize int8]``."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
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
    assert main(["export", str(LENET), "--format", "tflite"]) == 2
    assert "invalid choice: 'tflite'" in capsys.readouterr().err
    assert main(["export", str(LENET), "--format", "python", "-o", str(tmp_path / "no" / "dir" / "x.py")]) == 2
    assert "cannot write" in capsys.readouterr().err


def test_usage_lists_export(capsys):
    assert main(["--help"]) == 0
    assert "studio export FILE --format python|torchrun|program|onnx [-o OUT] [--quantize int8]" in capsys.readouterr().out


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


def _trained_mlp(tmp_path: Path) -> tuple[Path, Path]:
    """The tiny MLP trained for one epoch with a checkpoint: (graph file, weights file)."""
    g = _mlp()
    g.set_training({"dataset": {"name": "blobs", "classes": 3, "features": 8, "points": 60, "seed": 0},
                    "epochs": 1, "batch_size": 16, "device": "cpu", "threads": 1, "probes": False,
                    "checkpoint": {"enabled": True, "path": str(tmp_path / "run")}})
    graph_file = tmp_path / "mlp.json"
    save(g, graph_file)
    assert main(["train", str(graph_file)]) == 0
    weights = tmp_path / "run.safetensors"
    assert weights.exists()
    return graph_file, weights


def test_weights_go_into_the_program_and_beside_the_source(capsys, tmp_path):
    from safetensors.torch import load_file

    graph_file, weights = _trained_mlp(tmp_path)
    trained = load_file(str(weights))
    assert main(["export", str(graph_file), "--format", "program", "-o", str(tmp_path / "m.pt2"),
                 "--weights", str(weights)]) == 0
    state = torch.export.load(str(tmp_path / "m.pt2")).state_dict
    assert torch.equal(state["fc.weight"], trained["fc.weight"]) and torch.equal(state["fc.bias"], trained["fc.bias"])

    source = tmp_path / "m.py"
    assert main(["export", str(graph_file), "--format", "python", "-o", str(source), "--weights", str(weights)]) == 0
    assert f"wrote {tmp_path / 'm.pt'}" in capsys.readouterr().err
    namespace: dict = {}
    exec(compile(source.read_text(), str(source), "exec"), namespace)
    model = namespace[re.search(r"^class (\w+)\(nn\.Module\):", source.read_text(), re.M).group(1)]()
    model.load_state_dict(torch.load(tmp_path / "m.pt"))
    assert torch.equal(model.fc.weight, trained["fc.weight"])


def test_weights_that_do_not_fit_or_cannot_go_along_are_refused(capsys, tmp_path):
    graph_file, weights = _trained_mlp(tmp_path)
    capsys.readouterr()
    bigger = _mlp()
    bigger.set_params("fc", {"out_features": 4})
    other = tmp_path / "other.json"
    save(bigger, other)
    assert main(["export", str(other), "--format", "program", "-o", str(tmp_path / "o.pt2"),
                 "--weights", str(weights)]) == 1
    assert "fc.weight has shape [3, 8], the graph needs [4, 8]" in capsys.readouterr().err
    assert main(["export", str(graph_file), "--format", "program", "--weights", str(tmp_path / "none")]) == 2
    assert "no such weights file" in capsys.readouterr().err  # unreadable, as a missing graph file
    assert main(["export", str(graph_file), "--format", "torchrun", "--weights", str(weights)]) == 2
    assert main(["export", str(graph_file), "--format", "python", "--weights", str(weights)]) == 2
    assert "needs -o OUT" in capsys.readouterr().err
    gan = ROOT / "examples" / "gan_ring2d.json"
    assert main(["export", str(gan), "--format", "program", "--weights", str(weights)]) == 1
    assert "graphs with one network" in capsys.readouterr().err


# ---- --format onnx ------------------------------------------------------------------------------
def test_onnx_default_path_check_line_and_names(capsys, tmp_path, monkeypatch):
    import onnx
    import onnxruntime as ort

    monkeypatch.chdir(tmp_path)
    graph_file = tmp_path / "mlp.json"
    save(_mlp(), graph_file)
    assert main(["export", str(graph_file), "--format", "onnx"]) == 0
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert out == "" and lines[0] == "studio export: wrote mlp.onnx"
    assert re.fullmatch(r"studio export: onnxruntime matches the compiled network: max \|difference\| "
                        r"\S+ on a batch of 3 \(\S+ on a batch of 1\)", lines[1]), lines[1]
    assert float(lines[1].split("|difference| ")[1].split()[0]) <= 1e-4
    model = onnx.load(str(tmp_path / "mlp.onnx"))
    assert [i.name for i in model.graph.input] == ["x"] and [o.name for o in model.graph.output] == ["fc"]
    assert sorted(i.name for i in model.graph.initializer) == ["fc.bias", "fc.weight"]
    weight = {i.name: onnx.numpy_helper.to_array(i).copy() for i in model.graph.initializer}
    x = torch.randn(7, 8)
    (got,) = ort.InferenceSession(str(tmp_path / "mlp.onnx")).run(None, {"x": x.numpy()})
    expected = x @ torch.from_numpy(weight["fc.weight"]).T + torch.from_numpy(weight["fc.bias"])
    torch.testing.assert_close(torch.from_numpy(got), expected, rtol=1e-5, atol=1e-5)


def test_onnx_with_several_networks_and_trained_weights(capsys, tmp_path):
    from safetensors.torch import load_file
    import onnx

    out = tmp_path / "gan.onnx"
    assert main(["export", str(ROOT / "examples" / "gan_ring2d.json"), "--format", "onnx", "-o", str(out)]) == 0
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == f"studio export: wrote {tmp_path / 'gan-noise.onnx'}"
    assert lines[1].startswith("studio export: onnxruntime matches the compiled network noise: max |difference| ")
    assert lines[2] == f"studio export: wrote {tmp_path / 'gan-sample.onnx'}"
    assert lines[3].startswith("studio export: onnxruntime matches the compiled network sample: ")

    graph_file, weights = _trained_mlp(tmp_path)
    capsys.readouterr()
    assert main(["export", str(graph_file), "--format", "onnx", "-o", str(tmp_path / "m.onnx"),
                 "--weights", str(weights)]) == 0
    model = onnx.load(str(tmp_path / "m.onnx"))
    stored = {i.name: onnx.numpy_helper.to_array(i) for i in model.graph.initializer}
    trained = load_file(str(weights))
    assert np.array_equal(stored["fc.weight"], trained["fc.weight"].numpy())


def test_onnx_refusals_name_the_node_and_write_nothing(capsys, tmp_path):
    # a group norm with one value per group: torch itself refuses the check's batch of 1
    g = Graph("norm")
    g.add_node("Input", {"shape": [8]}, (0, 0), "x")
    g.add_node("Linear", {"out_features": 8}, (200, 0), "fc")
    g.add_node("GroupNorm", {"num_groups": 8}, (400, 0), "norm")
    g.connect("x", "out", "fc", "in")
    g.connect("fc", "out", "norm", "in")
    path = tmp_path / "norm.json"
    save(g, path)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    assert main(["export", str(path), "--format", "onnx", "-o", str(out_dir / "p.onnx"), "--quantize", "int8"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"studio export: {path}: cannot export as onnx: node norm (GroupNorm): the compiled "
                          "network itself cannot run a batch of 1, so the file cannot be checked: "), err
    assert len(err.splitlines()) == 1
    assert list(out_dir.iterdir()) == []
    assert main(["export", str(ROOT / "examples" / "xor_mlp.json"), "--format", "onnx", "--opset", "9",
                 "-o", str(out_dir / "x.onnx")]) == 1
    assert "cannot write opset 9" in capsys.readouterr().err
    assert list(out_dir.iterdir()) == []


def test_onnx_export_in_a_fresh_process_says_only_its_own_lines(tmp_path):
    # the exporter's progress lines and its warnings (torchvision absent, deprecations) stay out
    target = tmp_path / "xor.onnx"
    run = subprocess.run([sys.executable, "-m", "studio", "export", str(ROOT / "examples" / "xor_mlp.json"),
                          "--format", "onnx", "-o", str(target), "--quantize", "int8"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    err = run.stderr.splitlines()
    assert len(err) == 3 and all(line.startswith("studio export: ") for line in err), run.stderr
    table = run.stdout.splitlines()
    assert table[0] == "xor.onnx against xor.int8.onnx" and table[2].startswith("file size ")
    assert table[4] == "validation: no validation split"  # xor has no validation part


def test_onnx_of_a_network_larger_than_memory_says_so_instead_of_allocating(capsys, tmp_path):
    doc = {"format": "studio-graph", "version": 1, "name": "huge",
           "nodes": [{"id": "x", "block": "Input", "position": [0, 0], "params": {"shape": [200000]}},
                     {"id": "fc", "block": "Linear", "position": [240, 0], "params": {"out_features": 200000}}],
           "edges": [{"from": "x.out", "to": "fc.in"}]}
    path = tmp_path / "huge.json"
    path.write_text(json.dumps(doc))
    out = tmp_path / "out"
    out.mkdir()
    assert main(["export", str(path), "--format", "onnx", "-o", str(out / "huge.onnx"), "--quantize", "int8"]) == 1
    err = capsys.readouterr().err
    assert "40,000,200,000 parameters need at least" in err and "to build" in err
    assert list(out.iterdir()) == []


# ---- where the files go, and what -o and --weights may not be ------------------------------------
@pytest.fixture(scope="module")
def mlp_file(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("mlp")
    path = folder / "mlp.json"
    save(_mlp(), path)
    return path


def test_output_into_an_existing_folder_takes_the_graph_files_name(capsys, mlp_file, tmp_path):
    assert main(["export", str(mlp_file), "--format", "onnx", "-o", str(tmp_path)]) == 0
    assert capsys.readouterr().err.splitlines()[0] == f"studio export: wrote {tmp_path / 'mlp.onnx'}"
    assert main(["export", str(mlp_file), "--format", "program", "-o", str(tmp_path)]) == 0
    assert capsys.readouterr().err.strip() == f"studio export: wrote {tmp_path / 'mlp.pt2'}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mlp.onnx", "mlp.pt2"]
    assert not (tmp_path.parent / f"{tmp_path.name}.onnx").exists()


@pytest.mark.parametrize("fmt", ["onnx", "program", "python"])
def test_output_that_is_the_graph_file_is_refused(capsys, mlp_file, fmt, monkeypatch):
    before = mlp_file.read_bytes()
    monkeypatch.chdir(mlp_file.parent)
    for output in (str(mlp_file), "./mlp.json"):
        assert main(["export", str(mlp_file), "--format", fmt, "-o", output]) == 2
        out, err = capsys.readouterr()
        assert out == ""
        assert err == (f"studio export: -o {output}: that is the graph file {mlp_file}; the export would "
                       "overwrite it, give another name\n")
    assert mlp_file.read_bytes() == before
    assert sorted(p.name for p in mlp_file.parent.iterdir()) == ["mlp.json"]


def test_int8_copy_that_would_be_the_graph_file_is_refused(capsys, tmp_path):
    graph_file = tmp_path / "m.int8.onnx"  # a graph file with an unusual name: the int8 copy of -o m.onnx
    save(_mlp(), graph_file)
    before = graph_file.read_bytes()
    assert main(["export", str(graph_file), "--format", "onnx", "-o", str(tmp_path / "m.onnx"),
                 "--quantize", "int8"]) == 2
    assert "the export would overwrite it" in capsys.readouterr().err
    assert graph_file.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["m.int8.onnx"]


def test_weights_that_are_no_file_exit_2(capsys, mlp_file, tmp_path):
    for weights, said in ((tmp_path / "none", f"{tmp_path / 'none.safetensors'}: no such weights file"),
                          (tmp_path, f"--weights {tmp_path}: is a folder; give the .safetensors file a run "
                                     "with training.checkpoint saved"),
                          (mlp_file, f"--weights {mlp_file}: not a weights file; give the .safetensors file a "
                                     "run with training.checkpoint saved")):
        for fmt in ("onnx", "program"):
            assert main(["export", str(mlp_file), "--format", fmt, "-o", str(tmp_path / "out"),
                         "--weights", str(weights)]) == 2
            assert capsys.readouterr().err == f"studio export: {said}\n"
    assert list(tmp_path.iterdir()) == []


def test_a_failed_onnx_write_names_the_file_and_leaves_nothing(capsys, mlp_file, tmp_path, monkeypatch):
    import errno

    from studio.export import onnx as onnx_export

    def writer(data):
        def write(tmp: Path) -> None:
            tmp.write_bytes(data[:10])
            raise OSError(errno.ENOSPC, "No space left on device", str(tmp))
        return write
    monkeypatch.setattr(onnx_export, "_writer", writer)
    target = tmp_path / "new" / "m.onnx"
    assert main(["export", str(mlp_file), "--format", "onnx", "-o", str(target), "--quantize", "int8"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == f"studio export: cannot write {target}: No space left on device\n"
    assert list(tmp_path.iterdir()) == []


def test_an_int8_copy_says_whether_it_holds_int8_weights(capsys, mlp_file, tmp_path):
    g = Graph("order")
    g.add_node("Input", {"shape": [3, 4]}, (0, 0), "x")
    g.add_node("Permute", {"dims": [2, 1]}, (220, 0), "swap")
    g.connect("x", "out", "swap", "in")
    plain = tmp_path / "order.json"
    save(g, plain)
    for graph_file, said in ((plain, "no weights to quantize: no convolution or matrix product with weights; "
                                     "the same network"),
                             (mlp_file, "int8 weights")):
        target = tmp_path / f"{graph_file.stem}.onnx"
        assert main(["export", str(graph_file), "--format", "onnx", "-o", str(target), "--quantize", "int8"]) == 0
        lines = capsys.readouterr().err.splitlines()
        assert lines[2] == f"studio export: wrote {tmp_path / (graph_file.stem + '.int8.onnx')} ({said})"
