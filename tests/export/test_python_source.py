"""The exported PyTorch source: standalone, same weights, same outputs as the compiled module."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

import blocks
from blocks import Constructor
from blocks.library.modules import Heaviside
from studio.compile import compile_networks
from studio.export import export_python
from studio.export.errors import ExportError
from studio.export.python_source import class_names, constructor, render
from studio.files import load
from studio.graph import Graph, InvalidGraphError

ROOT = Path(__file__).resolve().parents[2]


def _exec(source: str) -> dict:
    namespace: dict = {"__name__": "exported"}
    exec(compile(source, "exported.py", "exec"), namespace)
    return namespace


def _inputs(graph: Graph, net, batch: int, seed: int) -> tuple[torch.Tensor, ...]:
    gen = torch.Generator().manual_seed(seed)
    out = []
    for node_id in net.input_nodes:
        p = graph.node(node_id).params
        if p["dtype"] == "long":
            vocab = min(graph.node(e.dst).params["num_embeddings"] for e in graph.out_edges(node_id))
            out.append(torch.randint(0, vocab, (batch, *p["shape"]), generator=gen))
        elif node_id == "adj":  # a graph network's adjacency: symmetric 0/1
            a = (torch.rand((batch, *p["shape"]), generator=gen) > 0.8).float()
            out.append(((a + a.transpose(-1, -2)) > 0).float())
        else:
            out.append(torch.randn((batch, *p["shape"]), generator=gen))
    return tuple(out)


@pytest.mark.parametrize("name, batch", [
    ("lenet5", 4), ("resnet18", 1), ("lstm_sequence", 5), ("transformer_sequence", 3), ("gcn_karate", 1),
    ("gan_ring2d", 6), ("vgg16", 1), ("alexnet", 1), ("spiral_mlp", 7), ("gru_sequence", 2), ("rnn_sequence", 2),
])
def test_exported_class_matches_compiled_module(name, batch):
    graph = load(ROOT / "examples" / f"{name}.json")
    source = export_python(graph)
    assert "studio" not in source.replace("Studio", "") and "blocks." not in source
    assert " = None" not in source.split("def forward", 1)[-1]
    namespace = _exec(source)
    networks = compile_networks(graph)
    names = class_names(graph, list(networks))
    for key, class_name in names.items():
        assert f"\nclass {class_name}(nn.Module):\n" in source
    for class_name, (key, net) in zip(names.values(), networks.items()):
        torch.manual_seed(1)
        for p in net.parameters():  # away from the shared default init, so a copied weight is visible
            p.data.normal_(0, 0.1)
        for mod in net.modules():
            if isinstance(mod, nn.BatchNorm2d):
                mod.running_mean.uniform_(-0.5, 0.5)
                mod.running_var.uniform_(0.5, 1.5)
        model = namespace[class_name]()
        assert list(model.state_dict()) == list(net.state_dict())
        model.load_state_dict(net.state_dict())
        assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in net.parameters())
        net.eval(), model.eval()
        args = _inputs(graph, net, batch, seed=7)
        with torch.no_grad():
            expected, got = net(*args), model(*args)
        assert got.shape == expected.shape
        assert torch.equal(got, expected), (name, key, (got - expected).abs().max().item())


def test_lenet5_source_reads_like_hand_written_torch():
    source = export_python(load(ROOT / "examples" / "lenet5.json"))
    assert source.startswith('"""LeNet-5')
    assert "import torch\nfrom torch import nn\n" in source
    assert "class LeNet5(nn.Module):" in source
    for line in ("self.conv1 = nn.Conv2d(1, 6, kernel_size=5)", "self.pool1 = nn.AvgPool2d(2)",
                 "self.fc1 = nn.Linear(120, 84)", "self.flatten = nn.Flatten()",
                 "conv1 = self.conv1(image)", "return fc2"):
        assert f"        {line}\n" in source, line


def test_exported_file_runs_in_a_fresh_interpreter_without_studio(tmp_path):
    source = export_python(load(ROOT / "examples" / "gcn_karate.json"))
    (tmp_path / "karate.py").write_text(source)
    probe = ("import sys; sys.modules['studio'] = None; sys.modules['blocks'] = None\n"
             "import torch, karate\n"
             "m = karate.GCNKarateClub().eval()\n"
             "x, adj = torch.randn(1, 34, 34), torch.eye(34).unsqueeze(0)\n"
             "print(tuple(m(x, adj).shape))\n")
    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "(1, 34, 2)"


def test_residual_and_reshape_code_is_plain_python():
    source = export_python(load(ROOT / "examples" / "resnet18.json"))
    assert "        add = bn2 + x\n" in source  # inside the BasicBlock class
    assert "self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)" in source
    assert "self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)" in source


def _single_block_graph(block: str) -> Graph:
    spec = blocks.get(block)
    g = Graph("one block")
    shapes = {"Embedding": [6], "GCNConv": [5, 4], "GATConv": [5, 4]}
    sequence = {"RNN", "LSTM", "GRU", "PositionalEncoding", "MultiheadAttention", "TransformerEncoderLayer"}
    if spec.inputs and spec.inputs[0].name == "x":
        g.add_node("Input", {"shape": [5, 4]}, (0, 0), "x")
        g.add_node("Input", {"shape": [5, 5]}, (0, 200), "adj")
        g.add_node(block, {}, (300, 0), "node")
        g.connect("x", "out", "node", "x")
        g.connect("adj", "out", "node", "adj")
        return g
    if spec.inputs and spec.inputs[0].name == "tgt":  # a decoder: the target and the memory it reads
        g.add_node("Input", {"shape": [6, 8]}, (0, 0), "x")
        g.add_node("Input", {"shape": [4, 8]}, (0, 200), "memory")
        g.add_node(block, {}, (300, 0), "node")
        g.connect("x", "out", "node", "tgt")
        g.connect("memory", "out", "node", "memory")
        return g
    if block == "Embedding":
        g.add_node("Input", {"shape": shapes[block], "dtype": "long"}, (0, 0), "x")
    elif block in sequence:
        g.add_node("Input", {"shape": [6, 8]}, (0, 0), "x")
    elif block.endswith("1d"):
        g.add_node("Input", {"shape": [4, 12]}, (0, 0), "x")
    elif block in ("Linear", "Dropout", "LayerNorm") or spec.category == "Activation":
        g.add_node("Input", {"shape": [3, 8]}, (0, 0), "x")
    else:
        g.add_node("Input", {"shape": [4, 12, 12]}, (0, 0), "x")
    params = {"num_heads": 2} if block == "MultiheadAttention" else {}
    g.add_node(block, params, (300, 0), "node")
    g.connect("x", "out", "node", "in")
    return g


def _buildable_blocks() -> list[str]:
    return sorted(s.name for s in blocks.all_blocks() if s.constructor is not None)


@pytest.mark.parametrize("block", _buildable_blocks())
def test_every_block_has_a_constructor_that_builds_the_same_module(block):
    graph = _single_block_graph(block)
    net, = compile_networks(graph).values()
    built = net.submodule_of("node")
    assert type(built) is blocks.get(block).constructor(graph.shapes.inputs("node"), graph.node("node").params).cls
    source = export_python(graph)
    namespace = _exec(source)
    expr = constructor(graph, "node")
    made = eval(expr, namespace)
    assert repr(made) == repr(built), expr
    assert [(k, v.shape) for k, v in made.state_dict().items()] == \
        [(k, v.shape) for k, v in built.state_dict().items()]


def test_non_default_parameters_are_written_out():
    g = Graph("conv")
    g.add_node("Input", {"shape": [3, 16, 16]}, (0, 0), "x")
    g.add_node("Conv2d", {"out_channels": 8, "kernel_size": [3, 5], "stride": 2, "padding": [1, 2],
                          "dilation": 1, "groups": 1, "bias": False}, (200, 0), "conv")
    g.add_node("BatchNorm2d", {"eps": 1e-3, "momentum": 0.01}, (400, 0), "bn")
    g.add_node("Upsample", {"mode": "bilinear", "scale_factor": 2.0}, (600, 0), "up")
    g.connect("x", "out", "conv", "in")
    g.connect("conv", "out", "bn", "in")
    g.connect("bn", "out", "up", "in")
    assert constructor(g, "conv") == "nn.Conv2d(3, 8, kernel_size=(3, 5), stride=2, padding=(1, 2), bias=False)"
    assert constructor(g, "bn") == "nn.BatchNorm2d(8, eps=0.001, momentum=0.01)"
    assert constructor(g, "up") == "nn.Upsample(scale_factor=2.0, mode='bilinear', align_corners=False)"


def test_an_invalid_graph_is_refused_with_its_nodes():
    g = Graph("broken")
    g.add_node("Input", {"shape": [3]}, (0, 0), "x")
    g.add_node("Conv2d", {}, (200, 0), "conv")
    g.connect("x", "out", "conv", "in")
    with pytest.raises(InvalidGraphError) as info:
        export_python(g)
    assert "conv" in str(info.value)


def test_weightless_blocks_become_plain_calls():
    g = Graph("plain calls")
    g.add_node("Input", {"shape": [4, 6]}, (0, 0), "x")
    g.add_node("Linear", {"out_features": 6}, (200, 0), "fc")
    g.add_node("Concat", {"dim": -1}, (400, 0), "cat")
    g.add_node("Reshape", {"shape": [8, -1]}, (600, 0), "flat")
    g.add_node("Multiply", {}, (800, 0), "gate")
    g.add_node("Identity", {}, (1000, 0), "same")
    g.connect("x", "out", "fc", "in")
    g.connect("x", "out", "cat", "in1")
    g.connect("fc", "out", "cat", "in2")
    g.connect("cat", "out", "flat", "in")
    g.connect("flat", "out", "gate", "in1")
    g.connect("flat", "out", "gate", "in2")
    g.connect("gate", "out", "same", "in")
    source = export_python(g)
    assert "cat = torch.cat([x, fc], dim = -1)" in source
    assert "flat = cat.reshape(-1, 8, 6)" in source
    assert "gate = flat * flat" in source
    net, = compile_networks(g).values()
    model = _exec(source)["PlainCalls"]()
    model.load_state_dict(net.state_dict())
    x = torch.randn(3, 4, 6)
    assert torch.equal(model(x), net(x))
    assert model(x).shape == (3, 8, 6)


def test_render_writes_a_constructor_with_only_what_differs_from_its_defaults():
    assert render(Constructor(nn.Linear, (4, 2), {"bias": True})) == "nn.Linear(4, 2)"
    assert render(Constructor(nn.Linear, (4, 2), {"bias": False})) == "nn.Linear(4, 2, bias=False)"
    shown = Constructor(nn.Upsample, kwargs={"scale_factor": 2.0, "mode": "nearest"}, shown=("mode",))
    assert render(shown) == "nn.Upsample(scale_factor=2.0, mode='nearest')"
    assert render(Constructor(Heaviside)) == "Heaviside()"  # copied into the file, so named bare


def test_render_refuses_a_class_or_a_keyword_the_file_cannot_name():
    class Local(nn.Module):
        pass

    with pytest.raises(ExportError, match="neither in torch.nn"):
        render(Constructor(Local))
    with pytest.raises(ExportError, match="not a Python name"):
        render(Constructor(nn.Linear, (4, 2), {"bias=print(1)": False}))
