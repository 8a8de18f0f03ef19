"""Exports of graphs with groups: one class per definition in the Python source (torchvision's
ResNet shape), and the torchrun script, torch.export program and ONNX file of a grouped network."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
import torch
from torch import nn

from studio.compile import compile_graph
from studio.export import export_onnx, export_program, export_python, export_torchrun_script
from studio.export.onnx_check import check_inputs
from studio.graph import Graph
from studio.graph.groups import Definition, Exposed, OutputPort, rename_definition


def _block(graph: Graph, name: str, down: bool) -> None:
    """A residual basic block as a definition: ``channels`` sets the convolutions' widths; the
    downsampling one halves the size and brings the shortcut along with a strided 1x1 convolution."""
    lib = graph.library
    g = Graph(name, library=lib)
    g.add_node("Input", {"shape": [4, 8, 8]}, (0, 0), "x")
    conv = {"kernel_size": 3, "padding": 1, "bias": False}
    g.add_node("Conv2d", {**conv, "out_channels": 4, "stride": 2 if down else 1}, (1, 0), "conv1")
    g.add_node("BatchNorm2d", {}, (2, 0), "bn1")
    g.add_node("ReLU", {}, (3, 0), "relu1")
    g.add_node("Conv2d", {**conv, "out_channels": 4}, (4, 0), "conv2")
    g.add_node("BatchNorm2d", {}, (5, 0), "bn2")
    chain = ["x", "conv1", "bn1", "relu1", "conv2", "bn2"]
    for a, b in zip(chain, chain[1:]):
        g.connect(a, "out", b, "in")
    targets = [("conv1", "out_channels"), ("conv2", "out_channels")]
    shortcut = "x"
    if down:
        g.add_node("Conv2d", {"out_channels": 4, "kernel_size": 1, "stride": 2, "bias": False}, (1, 1),
                   "downsample_conv")
        g.add_node("BatchNorm2d", {}, (2, 1), "downsample_bn")
        g.connect("x", "out", "downsample_conv", "in")
        g.connect("downsample_conv", "out", "downsample_bn", "in")
        targets.append(("downsample_conv", "out_channels"))
        shortcut = "downsample_bn"
    g.add_node("Add", {}, (6, 0), "add")
    g.add_node("ReLU", {}, (7, 0), "relu2")
    g.connect("bn2", "out", "add", "in1")
    g.connect(shortcut, "out", "add", "in2")
    g.connect("add", "out", "relu2", "in")
    lib.add(Definition(name, g, ["x"], [OutputPort("out", "relu2")],
                       [Exposed("channels", tuple(targets), 4)],
                       description=f"A residual block{' that halves the size' if down else ''}."))


def _stage(graph: Graph) -> None:
    """A definition of definitions: a downsampling block then a plain one, ``channels`` wide."""
    g = Graph("Stage", library=graph.library)
    g.add_node("Input", {"shape": [4, 8, 8]}, (0, 0), "x")
    g.add_node("BasicBlockDown", {"channels": 4}, (1, 0), "down")
    g.add_node("BasicBlock", {"channels": 4}, (2, 0), "block")
    g.connect("x", "out", "down", "x")
    g.connect("down", "out", "block", "x")
    graph.library.add(Definition("Stage", g, ["x"], [OutputPort("out", "block")],
                                 [Exposed("channels", (("down", "channels"), ("block", "channels")), 4)]))


def tiny_resnet(nested: bool = False) -> Graph:
    """A ResNet-18 in miniature (widths 4 to 16, 16x16 images): a stem, six basic-block instances
    of two definitions (or, ``nested``, the last two stages as instances of ``Stage``) and a head."""
    g = Graph("Tiny ResNet")
    _block(g, "BasicBlock", down=False)
    _block(g, "BasicBlockDown", down=True)
    g.add_node("Input", {"shape": [3, 16, 16]}, (0, 0), "image")
    g.add_node("Conv2d", {"out_channels": 4, "kernel_size": 3, "padding": 1, "bias": False}, (1, 0), "conv1")
    g.add_node("BatchNorm2d", {}, (2, 0), "bn1")
    g.add_node("ReLU", {}, (3, 0), "relu")
    chain = ["image", "conv1", "bn1", "relu"]
    blocks_ = [("layer1_0", "BasicBlock", 4), ("layer1_1", "BasicBlock", 4)]
    if nested:
        _stage(g)
        blocks_ += [("layer2", "Stage", 8), ("layer3", "Stage", 16)]
    else:
        blocks_ += [("layer2_0", "BasicBlockDown", 8), ("layer2_1", "BasicBlock", 8),
                    ("layer3_0", "BasicBlockDown", 16), ("layer3_1", "BasicBlock", 16)]
    for k, (node_id, block, channels) in enumerate(blocks_):
        g.add_node(block, {"channels": channels}, (4 + k, 0), node_id)
    g.add_node("AdaptiveAvgPool2d", {"output_size": 1}, (20, 0), "avgpool")
    g.add_node("Flatten", {}, (21, 0), "flatten")
    g.add_node("Linear", {"out_features": 10}, (22, 0), "fc")
    chain += [b[0] for b in blocks_] + ["avgpool", "flatten", "fc"]
    for a, b in zip(chain, chain[1:]):
        g.connect(a, "out", b, "x" if g.node(b).is_group else "in")
    return g


def _exec(source: str) -> dict:
    namespace: dict = {"__name__": "exported"}
    exec(compile(source, "exported.py", "exec"), namespace)
    return namespace


def _weights(net: nn.Module) -> None:
    """Weights and running statistics away from the default init, so a copied value is visible."""
    torch.manual_seed(1)
    for p in net.parameters():
        p.data.normal_(0, 0.3)
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 1.5)


def _same_outputs(source: str, class_name: str, net: nn.Module) -> nn.Module:
    model = _exec(source)[class_name]()
    assert list(model.state_dict()) == list(net.state_dict())
    model.load_state_dict(net.state_dict())
    net.eval(), model.eval()
    x = torch.randn(3, 3, 16, 16, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        expected, got = net(x), model(x)
    assert got.shape == (3, 10)
    assert torch.equal(got, expected), (got - expected).abs().max().item()
    return model


def _classes(source: str) -> list[str]:
    return [n.name for n in ast.parse(source).body if isinstance(n, ast.ClassDef)]


def _init_args(source: str, class_name: str) -> list[str]:
    cls = next(n for n in ast.parse(source).body if isinstance(n, ast.ClassDef) and n.name == class_name)
    init = next(f for f in cls.body if isinstance(f, ast.FunctionDef) and f.name == "__init__")
    return [a.arg for a in init.args.args[1:]]


def test_a_definition_used_four_times_is_one_class_instantiated_four_times():
    graph = tiny_resnet()
    net = compile_graph(graph)
    _weights(net)
    source = export_python(graph)
    assert _classes(source) == ["BasicBlock", "BasicBlockDown", "TinyResNet"]
    assert source.count("= BasicBlock(") == 4 and source.count("= BasicBlockDown(") == 2
    # the values that differ between instances are the arguments, named after the exposed parameter
    # they follow (or the inner node's argument); what all share is written out
    assert _init_args(source, "BasicBlock") == ["channels"]
    assert "        self.conv1 = nn.Conv2d(channels, channels, kernel_size=3, padding=1, bias=False)\n" in source
    assert "        self.bn1 = nn.BatchNorm2d(channels)\n" in source
    assert _init_args(source, "BasicBlockDown") == ["conv1_in_channels", "channels"]
    assert ("        self.downsample_conv = nn.Conv2d(conv1_in_channels, channels, kernel_size=1, stride=2, "
            "bias=False)\n") in source
    # submodules named after the group nodes, with their own values
    assert "        self.layer1_1 = BasicBlock(channels=4)\n" in source
    assert "        self.layer3_0 = BasicBlockDown(conv1_in_channels=8, channels=16)\n" in source
    assert "        layer2_0 = self.layer2_0(layer1_1)\n" in source
    # the inside's forward is the compiled code of the inside
    assert "        add = bn2 + downsample_bn\n" in source
    assert '    """A residual block that halves the size."""\n' in source
    model = _same_outputs(source, "TinyResNet", net)
    assert type(model.layer1_0) is type(model.layer2_1)
    assert sum(p.numel() for p in model.parameters()) == graph.total_params()


def test_nested_definitions_come_dependency_first_and_pass_their_arguments_down():
    graph = tiny_resnet(nested=True)
    net = compile_graph(graph)
    _weights(net)
    source = export_python(graph)
    assert _classes(source) == ["BasicBlock", "BasicBlockDown", "Stage", "TinyResNet"]
    assert _init_args(source, "Stage") == ["down_conv1_in_channels", "channels"]
    assert "        self.down = BasicBlockDown(conv1_in_channels=down_conv1_in_channels, channels=channels)\n" \
        in source
    assert "        self.block = BasicBlock(channels=channels)\n" in source
    assert "        self.layer3 = Stage(down_conv1_in_channels=8, channels=16)\n" in source
    assert "layer3.down.downsample_conv.weight" in net.state_dict()
    _same_outputs(source, "TinyResNet", net)


def test_definition_names_that_clash_or_are_keywords_get_safe_class_names():
    graph = tiny_resnet()
    rename_definition(graph, "BasicBlock", "torch")  # the file's own import
    rename_definition(graph, "BasicBlockDown", "TinyResNet")  # the network's class
    graph.library.definitions["torch"].description = 'ends the docstring """; import os'
    net = compile_graph(graph)
    _weights(net)
    source = export_python(graph)
    assert _classes(source) == ["torch_", "TinyResNet_", "TinyResNet"]
    assert "import os" not in source
    _same_outputs(source, "TinyResNet", net)
    graph = tiny_resnet()
    rename_definition(graph, "BasicBlock", "class")
    source = export_python(graph)
    assert _classes(source)[0] == "class_"
    _same_outputs(source, "TinyResNet", compile_graph(graph))


def test_program_of_a_grouped_network_matches_the_compiled_module(tmp_path):
    graph = tiny_resnet(nested=True)
    net = compile_graph(graph)
    _weights(net)
    path, = export_program(graph, tmp_path / "tiny.pt2", net)
    loaded = torch.export.load(str(path)).module()
    net.eval()
    for batch in (1, 3):
        x = torch.randn(batch, 3, 16, 16, generator=torch.Generator().manual_seed(batch))
        with torch.no_grad():
            assert torch.equal(loaded(x), net(x))


def test_onnx_of_a_grouped_network_matches_onnxruntime(tmp_path):
    graph = tiny_resnet(nested=True)
    net = compile_graph(graph)
    _weights(net)
    result, = export_onnx(graph, tmp_path / "tiny.onnx", {"image": net})
    assert result.max_difference <= 1e-4, result.differences
    session = ort.InferenceSession(str(result.path), providers=["CPUExecutionProvider"])
    inputs = check_inputs(graph, net, 5, torch.Generator().manual_seed(11), uniform=True)
    with torch.no_grad():
        expected = net.eval()(*inputs)
    got, = session.run(None, {"image": inputs[0].numpy()})
    assert np.abs(got - expected.numpy()).max() <= 1e-4
    assert [i.name for i in session.get_inputs()] == ["image"]
    # ONNX nodes named by the path of groups to the node inside
    nodes = [n.name for n in onnx.load(str(result.path), load_external_data=False).graph.node]
    assert {"layer1_0.add", "layer3.down.downsample_conv+layer3.down.downsample_bn", "layer3.block.relu2"} <= set(nodes)


def test_torchrun_script_of_a_grouped_network_trains(tmp_path):
    graph = tiny_resnet()
    graph.set_training({"batch_size": 16, "epochs": 2, "optimizer": {"name": "adam", "lr": 0.01}})
    source = export_torchrun_script(graph, tmp_path / "tiny.json")
    assert "class BasicBlock(nn.Module):" in source and "self.layer2_0 = BasicBlockDown(" in source
    script = tmp_path / "train_tiny.py"
    script.write_text(source)
    gen = np.random.default_rng(0)
    x = gen.normal(size=(64, 3, 16, 16)).astype(np.float32)
    y = (x[:, 0].mean(axis=(1, 2)) > 0).astype(np.int64)
    np.savez(tmp_path / "data.npz", x=x, y=y)
    run = subprocess.run([sys.executable, str(script), "data.npz", "--epochs", "2", "--json", "--out", ""],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120,
                         env=_env())
    assert run.returncode == 0, run.stderr
    rows = [json.loads(line) for line in run.stdout.splitlines()]
    assert len(rows) == 2 and all(np.isfinite(r["loss"]) for r in rows)


def test_the_exported_files_run_on_their_own(tmp_path):
    (tmp_path / "flat.py").write_text(export_python(tiny_resnet()))
    (tmp_path / "nested.py").write_text(export_python(tiny_resnet(nested=True)))
    probe = ("import torch, flat, nested\n"
             "for m in (flat, nested):\n"
             "    print(tuple(m.TinyResNet()(torch.zeros(2, 3, 16, 16)).shape))\n")
    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                         env=_env())
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["(2,", "10)", "(2,", "10)"]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = "1"
    env.pop("PYTHONPATH", None)  # the exported code must not need Studio
    return env


def test_instances_whose_code_differs_get_a_class_each():
    """An exposed parameter the forward's code spells out (a transpose's dimensions): one class
    per way the code reads, ``Swap`` and ``Swap2``."""
    g = Graph("swaps")
    inner = Graph("Swap", library=g.library)
    inner.add_node("Input", {"shape": [3, 4]}, (0, 0), "x")
    inner.add_node("Transpose", {}, (1, 0), "turn")
    inner.add_node("Linear", {"out_features": 4}, (2, 0), "fc")
    inner.connect("x", "out", "turn", "in")
    inner.connect("turn", "out", "fc", "in")
    g.library.add(Definition("Swap", inner, ["x"], [OutputPort("out", "fc")],
                             [Exposed("dim0", (("turn", "dim0"),), 1), Exposed("dim1", (("turn", "dim1"),), 2)]))
    g.add_node("Input", {"shape": [4, 4]}, (0, 0), "x")
    g.add_node("Swap", {}, (1, 0), "a")
    g.add_node("Swap", {"dim0": -1, "dim1": -2}, (2, 0), "b")
    g.add_node("Swap", {}, (3, 0), "c")
    g.connect("x", "out", "a", "x")
    g.connect("a", "out", "b", "x")
    g.connect("b", "out", "c", "x")
    net = compile_graph(g)
    _weights(net)
    source = export_python(g)
    assert _classes(source) == ["Swap", "Swap2", "Swaps"]
    assert "turn = x.transpose(1, 2)" in source and "turn = x.transpose(-1, -2)" in source
    assert "self.a = Swap()" in source and "self.b = Swap2()" in source and "self.c = Swap()" in source
    model = _exec(source)["Swaps"]()
    model.load_state_dict(net.state_dict())
    x = torch.randn(2, 4, 4, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.equal(model(x), net(x))
