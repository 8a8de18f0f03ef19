"""Import with groups: a submodule of the user's own class called once becomes a group; instances
of one class wired alike share a definition named after the class, with what differs exposed."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from studio.cli.main import main
from studio.compile import compile_graph
from studio.export import export_python
from studio.files import load
from studio.importing import import_model


class BasicBlock(nn.Module):
    """Two 3x3 convolutions and a shortcut."""

    def __init__(self, inplanes: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride, bias=False),
                                            nn.BatchNorm2d(planes))

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return F.relu(out)


class Stage(nn.Module):
    """Two blocks, the first downsampling (a user's module holding user's modules)."""

    def __init__(self, inplanes: int, planes: int) -> None:
        super().__init__()
        self.first = BasicBlock(inplanes, planes, 2)
        self.second = BasicBlock(planes, planes)

    def forward(self, x):
        return self.second(self.first(x))


class Gate(nn.Module):
    """No weights; called twice by the forward, so it is no unit."""

    def forward(self, x):
        return torch.sigmoid(x) * x


class ResNet(nn.Module):
    """torchvision's ResNet in miniature: widths 4 to 16 on 16x16 images."""

    def __init__(self, staged: bool = False) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(4)
        self.relu = nn.ReLU()
        self.layer1 = nn.Sequential(BasicBlock(4, 4), BasicBlock(4, 4))
        if staged:
            self.layer2, self.layer3 = Stage(4, 8), Stage(8, 16)
        else:
            self.layer2 = nn.Sequential(BasicBlock(4, 8, 2), BasicBlock(8, 8))
            self.layer3 = nn.Sequential(BasicBlock(8, 16, 2), BasicBlock(16, 16))
        self.gate = Gate()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = self.gate(self.relu(self.bn1(self.conv1(x))))
        x = self.gate(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def _randomised(model: nn.Module) -> nn.Module:
    torch.manual_seed(2)
    for p in model.parameters():
        p.data.normal_(0, 0.3)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 1.5)
    return model.eval()


def _compiled_matches(model: nn.Module, imported) -> nn.Module:
    net = compile_graph(imported.graph)
    state = next(iter(imported.weights.values()))
    net.load_state_dict(state)
    net.eval()
    x = torch.randn(3, 3, 16, 16, generator=torch.Generator().manual_seed(9))
    with torch.no_grad():
        torch.testing.assert_close(net(x), model(x), rtol=0, atol=1e-6)
    return net


def test_each_block_becomes_a_group_and_instances_share_a_definition():
    model = _randomised(ResNet())
    imported = import_model(model, [(3, 16, 16)])
    graph = imported.graph
    # the gate, called twice, stays flat where it is called
    assert list(graph.nodes) == ["x", "conv1", "bn1", "relu", "sigmoid", "mul", "layer1_0", "layer1_1", "layer2_0",
                                 "layer2_1", "layer3_0", "layer3_1", "sigmoid_1", "mul_1", "avgpool", "flatten", "fc"]
    blocks_ = {n: graph.node(n).block for n in graph.nodes if graph.node(n).is_group}
    # the blocks with a projection shortcut are wired otherwise: a definition of their own
    assert blocks_ == {"layer1_0": "BasicBlock", "layer1_1": "BasicBlock", "layer2_0": "BasicBlock2",
                       "layer2_1": "BasicBlock", "layer3_0": "BasicBlock2", "layer3_1": "BasicBlock"}
    plain, down = graph.library.definitions["BasicBlock"], graph.library.definitions["BasicBlock2"]
    assert list(plain.graph.nodes) == ["x", "conv1", "bn1", "relu", "conv2", "bn2", "add", "relu_1"]
    assert "downsample_0" in down.graph and down.graph.node("downsample_0").params["stride"] == 2
    assert plain.description == "Two 3x3 convolutions and a shortcut."
    # what differs between instances is exposed, once for the parameters that always agree
    assert [(e.name, e.targets) for e in plain.exposed] == [
        ("out_channels", (("conv1", "out_channels"), ("conv2", "out_channels")))]
    assert [graph.node(n).params["out_channels"] for n in ("layer1_0", "layer2_1", "layer3_1")] == [4, 8, 16]
    assert [e.name for e in down.exposed] == ["out_channels"]
    assert graph.shapes.output("layer3_0") == (16, 4, 4)
    assert imported.module_of["layer2_0.downsample_0"] == "layer2.0.downsample.0"
    assert imported.difference is not None and imported.difference <= 1e-6
    net = _compiled_matches(model, imported)
    assert type(net.layer1_0).__name__ == "BasicBlock"
    assert torch.equal(net.layer2_0.conv1.weight, model.layer2[0].conv1.weight)


def test_the_flat_import_stays_an_option():
    model = _randomised(ResNet())
    imported = import_model(model, [(3, 16, 16)], groups=False)
    assert not imported.graph.library.definitions
    assert imported.graph.node("layer2_0_downsample_0").params["stride"] == 2
    _compiled_matches(model, imported)


def test_a_users_module_holding_users_modules_becomes_groups_within_a_group():
    model = _randomised(ResNet(staged=True))
    imported = import_model(model, [(3, 16, 16)])
    graph = imported.graph
    assert [graph.node(n).block for n in ("layer1_0", "layer2", "layer3")] == ["BasicBlock", "Stage", "Stage"]
    # definitions come after those they use; a block inside a stage shares the top level's definition
    assert list(graph.library.definitions) == ["BasicBlock", "BasicBlock2", "Stage"]
    stage = graph.library.definitions["Stage"]
    assert list(stage.graph.nodes) == ["x", "first", "second"]
    assert [stage.graph.node(n).block for n in ("first", "second")] == ["BasicBlock2", "BasicBlock"]
    assert [(e.name, e.targets) for e in stage.exposed] == [
        ("out_channels", (("first", "out_channels"), ("second", "out_channels")))]
    assert [graph.node(n).params["out_channels"] for n in ("layer2", "layer3")] == [8, 16]
    assert imported.module_of["layer3.first.downsample_0"] == "layer3.first.downsample.0"
    net = _compiled_matches(model, imported)
    assert torch.equal(net.layer3.first.conv1.weight, model.layer3.first.conv1.weight)


@pytest.mark.parametrize("staged", [False, True])
def test_an_exported_grouped_graph_imports_back_to_the_same_groups(staged):
    model = _randomised(ResNet(staged))
    first = import_model(model, [(3, 16, 16)])
    namespace: dict = {"__name__": "exported"}
    exec(compile(export_python(first.graph), "exported.py", "exec"), namespace)
    exported = namespace["ResNet"]()
    exported.load_state_dict(next(iter(first.weights.values())))
    again = import_model(exported.eval(), [(3, 16, 16)])
    assert [again.graph.node(n).block for n in again.graph.nodes] == \
        [first.graph.node(n).block for n in first.graph.nodes]
    for name, d in first.graph.library.definitions.items():
        other = again.graph.library.definitions[name]
        assert list(other.graph.nodes) == list(d.graph.nodes)
        assert other.exposed == d.exposed
    _compiled_matches(model, again)


MODEL_FILE = '''
import torch
from torch import nn


class Block(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.fc = nn.Linear(n, n)

    def forward(self, x):
        return torch.relu(self.fc(x)) + x


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = Block(6)
        self.b = Block(6)
        self.head = nn.Linear(6, 2)

    def forward(self, x):
        return self.head(self.b(self.a(x)))
'''


def test_cli_imports_groups_and_flat_on_request(tmp_path, monkeypatch, capsys):
    (tmp_path / "nets.py").write_text(MODEL_FILE)
    monkeypatch.chdir(tmp_path)
    assert main(["import", "nets.py:Net", "--input-shape", "6", "-o", "grouped.json"]) == 0
    graph = load(tmp_path / "grouped.json")
    assert [graph.node(n).block for n in graph.nodes] == ["Input", "Block", "Block", "Linear"]
    assert list(graph.library.definitions["Block"].graph.nodes) == ["x", "fc", "relu", "add"]
    assert main(["import", "nets.py:Net", "--input-shape", "6", "-o", "flat.json", "--flat"]) == 0
    flat = load(tmp_path / "flat.json")
    assert not flat.library.definitions and "a_fc" in flat


class Mix(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = nn.Linear(6, 6), nn.Linear(6, 6)

    def forward(self, x, context):
        return self.a(x) + self.b(context)


class Heads(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.p, self.q = nn.Linear(6, 6), nn.Linear(6, 3)

    def forward(self, x):
        return torch.relu(self.p(x)), self.q(x)


class TwoInputs(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.mix, self.heads, self.mix2 = Mix(), Heads(), Mix()

    def forward(self, x, c):
        u, v = self.heads(self.mix(x, c))
        return self.mix2(u, c), v


def test_ports_are_named_after_the_forwards_arguments_and_a_partly_returned_module_stays_flat():
    model = _randomised(TwoInputs())
    imported = import_model(model, [(6,), (6,)])
    graph = imported.graph
    mix = graph.library.definitions["Mix"]
    assert mix.inputs == ["x", "context"] and [o.name for o in mix.outputs] == ["out"]
    assert {(e.src, e.dst_port) for e in graph.in_edges("mix2")} == {("relu", "x"), ("c", "context")}
    # heads returns q while passing relu on: a group of it would not return q, so it stays flat
    assert "Heads" not in graph.library.definitions and "heads_q" in graph
    net = compile_graph(graph)
    net.load_state_dict(next(iter(imported.weights.values())))
    x, c = torch.randn(2, 6), torch.randn(2, 6)
    with torch.no_grad():
        for got, want in zip(net.eval()(x, c), model(x, c)):
            torch.testing.assert_close(got, want, rtol=0, atol=1e-6)
