"""``studio import MODULE:CALLABLE --input-shape SHAPE ... [-o OUT] [--weights W]``, and the weights it
writes read back by ``studio export --weights`` and ``studio train --weights``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from studio.cli.main import main
from studio.compile import compile_networks
from studio.files import load, save
from studio.training.checkpoint import load_weights

ROOT = Path(__file__).resolve().parents[2]

NET = '''
import torch
from torch import nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self, hidden=16, classes=3):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU())
        self.fc1 = nn.Linear(4 * 6 * 6, hidden)
        self.fc2 = nn.Linear(hidden, classes)

    def forward(self, x):
        x = F.max_pool2d(self.features(x), 2)
        x = x.view(x.size(0), -1)
        return self.fc2(torch.relu(self.fc1(x)))


class XOR(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(2, 8)
        self.tanh = nn.Tanh()
        self.logits = nn.Linear(8, 2)

    def forward(self, x):
        return self.logits(self.tanh(self.hidden(x)))


class Gelu(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        return torch.special.erf(self.fc(x))


class Branchy(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        if x.mean() > 0:
            return self.fc(x)
        return -x


def make_net(width=8):
    return Net(hidden=width)


def not_a_model():
    return [1, 2, 3]
'''


@pytest.fixture
def models_file(tmp_path, monkeypatch):
    path = tmp_path / "zoo" / "nets.py"
    path.parent.mkdir()
    path.write_text(NET)
    monkeypatch.chdir(tmp_path)
    return path


def _run(capsys, *argv) -> tuple[int, str, str]:
    code = main(["import", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_command_in_a_subprocess_writes_the_graph_and_weights(models_file, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "studio", "import", "zoo/nets.py:Net", "--kwargs", '{"hidden": 10}',
         "--input-shape", "1,12,12", "--weights", "net.safetensors"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        "studio import: 9 blocks, 1,531 parameters",
        "studio import: the same outputs as the model on a random batch of 2 (largest difference 0)",
        "studio import: wrote Net.json",
        "studio import: wrote net.safetensors",
    ]
    graph = load(tmp_path / "Net.json")
    assert [n.block for n in graph.nodes.values()] == [
        "Input", "Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d", "Flatten", "Linear", "ReLU", "Linear"]
    assert graph.node("fc1").params["out_features"] == 10
    tensors = load_file(tmp_path / "net.safetensors")
    assert set(tensors) >= {"features_0.weight", "features_1.running_mean", "fc1.weight", "fc2.bias"}


def test_the_weights_reproduce_the_module(models_file, tmp_path, capsys):
    # a folder that does not exist: exit 2, nothing written
    code, _, err = _run(capsys, "zoo/nets.py:make_net", "--input-shape", "[1, 12, 12]", "-o", "out/g.json",
                        "--weights", "out/g.safetensors")
    assert code == 2 and err.startswith("studio import: cannot write ")
    assert not (tmp_path / "out").exists()
    (tmp_path / "out").mkdir()
    code, _, err = _run(capsys, "zoo/nets.py:make_net", "--input-shape", "[1, 12, 12]", "-o", "out/g.json",
                        "--weights", "out/g.safetensors")
    assert code == 0, err
    graph = load(tmp_path / "out" / "g.json")
    assert graph.node("fc1").params["out_features"] == 8
    networks = compile_networks(graph)
    load_weights(tmp_path / "out" / "g.safetensors", networks)
    net = next(iter(networks.values())).eval()
    # the module itself, given the same tensors under its own names
    namespace: dict = {}
    exec(compile(NET, "nets.py", "exec"), namespace)
    original = namespace["make_net"]()
    compiled = net.state_dict()
    original.load_state_dict({k: compiled[k.replace("features.", "features_")] for k in original.state_dict()})
    original.eval()
    x = torch.randn(4, 1, 12, 12)
    assert torch.allclose(net(x), original(x), atol=1e-6)


def test_default_output_is_the_callable_name_in_the_current_folder(models_file, tmp_path, capsys):
    code, out, err = _run(capsys, "zoo/nets.py:XOR", "--input-shape", "2")
    assert code == 0 and out == ""
    assert (tmp_path / "XOR.json").is_file()
    assert err.splitlines()[-1] == "studio import: wrote XOR.json"


def test_an_importable_module_name(models_file, tmp_path, capsys, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "zoo" / "__init__.py").write_text("")
    code, _, err = _run(capsys, "zoo.nets:XOR", "--input-shape", "2", "-o", "x.json")
    assert code == 0, err
    assert [n.id for n in load(tmp_path / "x.json").nodes.values()] == ["x", "hidden", "tanh", "logits"]


@pytest.mark.parametrize("argv, message", [
    (["zoo/nets.py:Net", "--input-shape", "1,12,12", "--kwargs", "{hidden: 3}"],
     "studio import: --kwargs: not JSON (Expecting property name enclosed in double quotes at character 1): "
     "'{hidden: 3}'"),
    (["zoo/nets.py:Net", "--input-shape", "1,12,12", "--kwargs", "[3]"],
     "studio import: --kwargs: must be a JSON object of keyword arguments, e.g. '{\"num_classes\": 10}', got list"),
    (["zoo/nets.py:Net", "--input-shape", "1,12,12", "--kwargs", '{"depth": 3}'],
     "studio import: Net(**kwargs): Net.__init__() got an unexpected keyword argument 'depth'"),
    (["zoo/missing.py:Net", "--input-shape", "1,12,12"], "studio import: zoo/missing.py: no such Python file"),
    (["no_such_package.nets:Net", "--input-shape", "4"],
     "studio import: no_such_package.nets: no such module (not a file either: a file's name ends in .py)"),
    (["zoo/nets.py:Nope", "--input-shape", "4"], "studio import: zoo/nets.py: has no 'Nope'"),
    (["zoo/nets.py", "--input-shape", "4"],
     "studio import: 'zoo/nets.py': give MODULE:CALLABLE, e.g. models/net.py:ResNet or mypkg.nets:make_resnet"),
    (["zoo/nets.py:not_a_model", "--input-shape", "4"],
     "studio import: not_a_model(...) returned list, not a torch.nn.Module"),
    (["zoo/nets.py:XOR", "--input-shape", "2,x"],
     "studio import: --input-shape '2,x': sizes are whole numbers from 1, separated by commas, without the batch "
     "(e.g. 1,28,28)"),
    (["zoo/nets.py:XOR", "--input-shape", "0"],
     "studio import: --input-shape '0': sizes are whole numbers from 1, separated by commas, without the batch "
     "(e.g. 1,28,28)"),
    (["zoo/nets.py:XOR", "--input-shape", "1,100000,100000"],
     "studio import: --input-shape '1,100000,100000': one sample of 10,000,000,000 values is more than Studio "
     "imports with (at most 67,108,864, 2^26); is a size mistyped?"),
    (["zoo/nets.py:XOR"], "studio import: give --input-shape: one sample's shape without the batch (e.g. 1,28,28)"),
    (["zoo/nets.py:XOR", "--input-shape", "2", "--input-shape", "3"],
     "studio import: --input-shape given 2 times, but XOR.forward takes 1 input(s): x"),
    (["zoo/nets.py:XOR", "--input-shape", "2", "--weights", "w.pt"],
     "studio import: --weights w.pt: a weights file ends in .safetensors"),
])
def test_bad_arguments_exit_2_with_one_message(models_file, tmp_path, capsys, argv, message):
    code, out, err = _run(capsys, *argv)
    assert code == 2
    assert out == "" and err.splitlines() == [message]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["zoo"]  # nothing written


def test_an_op_without_a_block_exits_1_and_writes_nothing(models_file, tmp_path, capsys):
    code, _, err = _run(capsys, "zoo/nets.py:Gelu", "--input-shape", "4", "--weights", "g.safetensors")
    assert code == 1
    assert err == "studio import: node 'special_erf': torch.special.erf (called in Gelu.forward) has no block\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["zoo"]


def test_an_untraceable_forward_exits_1_naming_the_line(models_file, tmp_path, capsys):
    code, _, err = _run(capsys, "zoo/nets.py:Branchy", "--input-shape", "4")
    assert code == 1
    assert err.startswith(f"studio import: {models_file}:")
    assert "`if x.mean() > 0:`: Branchy.forward cannot be traced: a Python if, while or assert reads a tensor " \
           "(its values" in err
    assert not (tmp_path / "Branchy.json").exists()


def test_an_unwritable_target_exits_2_and_leaves_the_other_file_alone(models_file, tmp_path, capsys):
    (tmp_path / "g.json").write_text("old graph")
    (tmp_path / "w.safetensors").mkdir()  # a folder where the weights would go
    code, _, err = _run(capsys, "zoo/nets.py:XOR", "--input-shape", "2", "-o", "g.json",
                        "--weights", "w.safetensors")
    assert code == 2
    assert err.startswith("studio import: cannot write w.safetensors")
    assert (tmp_path / "g.json").read_text() == "old graph"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.json", "w.safetensors", "zoo"]


def test_export_reads_the_weights(models_file, tmp_path, capsys):
    assert _run(capsys, "zoo/nets.py:XOR", "--input-shape", "2", "--weights", "xor.safetensors")[0] == 0
    assert main(["export", "XOR.json", "--format", "python", "-o", "xor.py", "--weights", "xor.safetensors"]) == 0
    capsys.readouterr()
    namespace: dict = {}
    exec((tmp_path / "xor.py").read_text(), namespace)
    model = namespace["XOR"]()
    model.load_state_dict(torch.load(tmp_path / "xor.pt"))
    tensors = load_file(tmp_path / "xor.safetensors")
    assert torch.equal(model.hidden.weight, tensors["hidden.weight"])


def _trainable(tmp_path: Path, graph_file: str) -> Path:
    graph = load(tmp_path / graph_file)
    # a step too small to move a weight: the run ends where it started
    graph.set_training({"task": "classification", "dataset": {"name": "xor"},
                        "optimizer": {"name": "sgd", "lr": 1e-12}, "batch_size": 4, "epochs": 1, "seed": 0})
    save(graph, tmp_path / graph_file)
    return tmp_path / graph_file


def test_train_starts_from_the_weights(models_file, tmp_path, capsys):
    assert _run(capsys, "zoo/nets.py:XOR", "--input-shape", "2", "--weights", "xor.safetensors")[0] == 0
    _trainable(tmp_path, "XOR.json")
    code = main(["train", "XOR.json", "--weights", "xor.safetensors", "--checkpoint", "after", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    given, trained = load_file(tmp_path / "xor.safetensors"), load_file(tmp_path / "after.safetensors")
    assert set(given) == set(trained)
    assert all(torch.allclose(given[k], trained[k], atol=1e-6) for k in given)
    # without --weights the run starts from weights of its own
    assert main(["train", "XOR.json", "--checkpoint", "fresh", "--json"]) == 0
    capsys.readouterr()
    fresh = load_file(tmp_path / "fresh.safetensors")
    assert not torch.allclose(fresh["hidden.weight"], given["hidden.weight"])


def test_train_refuses_weights_that_do_not_fit_naming_file_and_tensor(models_file, tmp_path, capsys):
    assert _run(capsys, "zoo/nets.py:XOR", "--input-shape", "2", "--weights", "xor.safetensors")[0] == 0
    graph = _trainable(tmp_path, "XOR.json")
    g = load(graph)
    g.set_params("hidden", {"out_features": 5})
    save(g, graph)
    code = main(["train", "XOR.json", "--weights", "xor.safetensors"])
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert err == ("studio train: --weights xor.safetensors: hidden.weight has shape [8, 2], the graph needs "
                   "[5, 2]; hidden.bias has shape [8], the graph needs [5]; logits.weight has shape [2, 8], "
                   "the graph needs [2, 5]\n")


def test_train_refuses_weights_with_resume(models_file, tmp_path, capsys):
    assert _run(capsys, "zoo/nets.py:XOR", "--input-shape", "2")[0] == 0
    code = main(["train", "XOR.json", "--weights", "a.safetensors", "--resume", "b.safetensors"])
    assert code == 2
    assert capsys.readouterr().err == "studio train: --weights and --resume both give the starting weights; choose one\n"


def test_help_and_usage_name_the_command(capsys):
    assert main(["--help"]) == 0
    assert "studio import MODULE:CALLABLE --input-shape SHAPE" in capsys.readouterr().out
    assert main(["import", "--help"]) == 0
    assert "Import a PyTorch model as an editable graph of blocks." in capsys.readouterr().out


def test_json_graph_file_is_plain(models_file, tmp_path, capsys):
    assert _run(capsys, "zoo/nets.py:XOR", "--input-shape", "2")[0] == 0
    doc = json.loads((tmp_path / "XOR.json").read_text())
    assert doc["name"] == "XOR" and doc["description"] == "Imported from XOR"
    assert [n["position"] for n in doc["nodes"]] == [[0, 0], [280, 0], [560, 0], [840, 0]]


def test_a_file_in_a_package_keeps_its_relative_imports(tmp_path, capsys, monkeypatch):
    package = tmp_path / "proj" / "nets"
    package.mkdir(parents=True)
    (tmp_path / "proj" / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "layers.py").write_text("from torch import nn\n\n\ndef block(n):\n    return nn.Linear(n, n)\n")
    (package / "model.py").write_text(
        "from torch import nn\nfrom .layers import block\n\n\nclass Tiny(nn.Module):\n"
        "    def __init__(self):\n        super().__init__()\n        self.body = block(3)\n\n"
        "    def forward(self, x):\n        return self.body(x)\n")
    (tmp_path / "helper.py").write_text("WIDTH = 5\n")
    (tmp_path / "plain.py").write_text(
        "from torch import nn\nfrom helper import WIDTH  # a neighbour, as a script imports it\n\n\n"
        "def make():\n    return nn.Linear(2, WIDTH)\n")
    monkeypatch.chdir(tmp_path)
    assert main(["import", "proj/nets/model.py:Tiny", "--input-shape", "3"]) == 0
    assert main(["import", "plain.py:make", "--input-shape", "2"]) == 0
    capsys.readouterr()
    assert load(tmp_path / "make.json").node("linear").params["out_features"] == 5
    # the file edited since: the new one is imported
    (package / "layers.py").write_text("from torch import nn\n\n\ndef block(n):\n    return nn.Linear(n, 2 * n)\n")
    (package / "model.py").write_text((package / "model.py").read_text() + "\n")
    assert main(["import", "proj/nets/model.py:Tiny", "--input-shape", "3"]) == 0
    assert load(tmp_path / "Tiny.json").node("body").params["out_features"] == 3
