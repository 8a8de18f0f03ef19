"""What the compiler generates: readable code, safe names, refused graphs, separate networks, multi-output blocks."""

from __future__ import annotations

import copy
import operator
import traceback

import pytest
import torch
from torch import nn

import blocks
from blocks import BlockSpec, Constructor, Port
from blocks import registry
from compile_nets import add, chain, gan_graph, lenet_graph, statements
from studio.compile import Network, Networks, compile_graph, compile_networks
from studio.graph import Graph, InvalidGraphError


def test_lenet_code_reads_like_hand_written_forward():
    compiled = compile_graph(lenet_graph())
    assert statements(compiled.code) == [
        "def forward(self, image):",
        "conv1 = self.conv1(image)",
        "tanh1 = self.tanh1(conv1)",
        "pool1 = self.pool1(tanh1)",
        "conv2 = self.conv2(pool1)",
        "tanh2 = self.tanh2(conv2)",
        "pool2 = self.pool2(tanh2)",
        "flatten = self.flatten(pool2)",
        "fc1 = self.fc1(flatten)",
        "tanh3 = self.tanh3(fc1)",
        "fc2 = self.fc2(tanh3)",
        "tanh4 = self.tanh4(fc2)",
        "fc3 = self.fc3(tanh4)",
        "return fc3",
    ]
    assert isinstance(compiled, Network) and isinstance(compiled, torch.fx.GraphModule)
    compiled.graph.lint()
    # submodules and checkpoints speak the node ids
    assert [name for name, _ in compiled.named_children()][:3] == ["conv1", "tanh1", "pool1"]
    assert list(compiled.state_dict())[:2] == ["conv1.weight", "conv1.bias"]
    assert {n.meta["node_id"] for n in compiled.graph.nodes if n.op != "output"} == set(lenet_graph().nodes)


def test_blocks_without_weights_compile_to_plain_expressions():
    g = Graph()
    add(g, "x", "Input", shape=[12])
    add(g, "y", "Input", shape=[3, 4])
    add(g, "r", "Reshape", shape=[3, 4])
    add(g, "s", "Add")
    add(g, "c", "Concat", dim=1)
    add(g, "sum3", "Add", num_inputs=3)
    add(g, "same", "Identity")
    chain(g, "x", "r")
    g.connect("r", "out", "s", "in1")
    g.connect("y", "out", "s", "in2")
    g.connect("r", "out", "c", "in1")
    g.connect("s", "out", "c", "in2")
    g.connect("r", "out", "sum3", "in1")
    g.connect("y", "out", "sum3", "in2")
    g.connect("s", "out", "sum3", "in3")
    chain(g, "sum3", "same")
    compiled = compile_graph(g)
    assert statements(compiled.code) == [
        "def forward(self, x, y):",
        "r = x.reshape(-1, 3, 4)",
        "s = r + y",
        "c = torch.cat([r, s], dim = 1)",
        "sum3_add = r + y",
        "sum3 = sum3_add + s",
        "return (c, sum3)",
    ]
    assert compiled.node_to_attr == {}
    assert compiled.node_to_value["same"] == "sum3"  # Identity passes its input's value through
    x, y = torch.randn(2, 12), torch.randn(2, 3, 4)
    c, total = compiled(x, y)
    r = x.reshape(2, 3, 4)
    assert torch.equal(c, torch.cat([r, r + y], 1))
    assert torch.equal(total, r + y + (r + y))


def _clash_graph() -> Graph:
    g = Graph()
    add(g, "self", "Input", shape=[4])
    add(g, "training", "Linear", out_features=4)
    add(g, "forward", "ReLU")
    add(g, "class", "Linear", out_features=4)
    add(g, "state_dict", "Tanh")
    add(g, "_modules", "Linear", out_features=4)
    add(g, "training_1", "Sigmoid")  # owns the name a renamed clash would take first
    add(g, "torch", "Concat", dim=1)
    add(g, "input", "Linear", out_features=3)
    add(g, "output", "ReLU")
    chain(g, "self", "training", "forward", "class", "state_dict", "_modules", "training_1")
    g.connect("training_1", "out", "torch", "in1")
    g.connect("self", "out", "torch", "in2")
    chain(g, "torch", "input", "output")
    return g


def test_ids_that_clash_with_python_or_module_attributes_are_made_safe():
    compiled = compile_graph(_clash_graph())
    assert compiled.node_to_attr == {
        "training": "training_2", "forward": "forward_1", "class": "class_1", "state_dict": "state_dict_1",
        "_modules": "_modules_1", "training_1": "training_1", "input": "input", "output": "output",
    }
    for node_id, attr in compiled.node_to_attr.items():
        assert compiled.get_submodule(attr) is compiled.submodule_of(node_id)
    assert isinstance(compiled.submodule_of("training"), nn.Linear)
    assert isinstance(compiled.submodule_of("forward"), nn.ReLU)
    with pytest.raises(KeyError, match="torch"):
        compiled.submodule_of("torch")  # a Concat compiles to torch.cat
    # the module's own attributes still work
    assert compiled.training is True
    compiled.eval()
    assert compiled.training is False and compiled.submodule_of("class").training is False
    assert callable(compiled.state_dict) and "class_1.weight" in compiled.state_dict()
    code = compiled.code
    assert "def forward(self, self_1):" in code
    assert "torch_1 = torch.cat([training_1, self_1], dim = 1)" in code
    assert "input_1 = self.input(torch_1)" in code
    x = torch.randn(3, 4)
    h = torch.relu(compiled.training_2(x))
    h = torch.tanh(compiled.class_1(h))
    h = torch.sigmoid(compiled._modules_1(h))
    expected = torch.relu(compiled.input(torch.cat([h, x], 1)))
    assert torch.equal(compiled(x), expected)


def test_network_keys_that_clash_with_module_dict_attributes_are_made_safe():
    g = Graph()
    add(g, "training", "Input", shape=[2])
    add(g, "a", "Linear", out_features=2)
    add(g, "keys", "Input", shape=[2])
    add(g, "b", "Linear", out_features=2)
    chain(g, "training", "a")
    chain(g, "keys", "b")
    nets = compile_graph(g)
    assert isinstance(nets, Networks)
    assert list(nets.keys()) == ["training_1", "keys_1"]
    assert nets.training is True
    assert nets.node_to_attr == {"a": "training_1.a", "b": "keys_1.b"}
    assert nets.submodule_of("b") is nets["keys_1"].b
    assert nets.network_of == {"training": "training_1", "a": "training_1", "keys": "keys_1", "b": "keys_1"}


def test_gan_compiles_to_a_module_dict_with_one_network_each():
    model = compile_graph(gan_graph())
    assert isinstance(model, Networks) and isinstance(model, nn.ModuleDict)
    assert list(model) == ["noise", "sample"]
    assert "noise.g_fc1.weight" in model.state_dict()
    assert model.get_submodule(model.node_to_attr["d_fc2"]) is model["sample"].d_fc2
    assert model["noise"].input_nodes == ["noise"] and model["sample"].output_nodes == [("d_fc2", "out")]
    separate = compile_networks(gan_graph())
    assert list(separate) == ["noise", "sample"]
    assert all(isinstance(n, Network) for n in separate.values())


def test_invalid_graph_is_refused_with_every_problem_listed():
    g = Graph()
    add(g, "x", "Input", shape=[3, 8, 8])
    add(g, "conv", "Conv2d", out_channels=4, kernel_size=3)
    add(g, "dense", "Linear", out_features=2)  # nothing wired in
    add(g, "seq", "Conv1d", out_channels=4, kernel_size=3)  # wants [C, L], gets [C, H, W]
    add(g, "sum", "Add")
    chain(g, "x", "conv")
    chain(g, "x", "seq")
    g.connect("conv", "out", "sum", "in1")
    with pytest.raises(InvalidGraphError) as caught:
        compile_graph(g)
    places = {(p.node, p.port) for p in caught.value.problems}
    assert places == {("dense", "in"), ("seq", "in"), ("sum", "in2")}
    message = str(caught.value)
    assert "3 problem(s)" in message
    assert "dense.in: not connected" in message and "sum.in2: not connected" in message
    assert "seq.in: " in message and "expected [C, L], got [3, 8, 8]" in message
    with pytest.raises(InvalidGraphError, match="the graph is empty"):
        compile_networks(Graph())
    lone = Graph()
    add(lone, "fc", "Linear")
    with pytest.raises(InvalidGraphError, match="no Input block") as caught:
        compile_graph(lone)
    assert len(caught.value.problems) == 2


def test_deepcopy_keeps_the_bookkeeping_and_the_weights():
    compiled = compile_graph(_clash_graph())
    twin = copy.deepcopy(compiled)
    assert twin.node_to_attr == compiled.node_to_attr
    assert twin.input_nodes == ["self"]
    x = torch.randn(2, 4)
    assert torch.equal(twin(x), compiled(x))
    assert twin.training_2.weight is not compiled.training_2.weight


# ---- blocks with several output ports ------------------------------------------------

class _MinMax(nn.Module):
    def forward(self, x):
        return x.min(-1, keepdim=True).values, x.max(-1, keepdim=True).values


def _min_max_spec() -> BlockSpec:
    return BlockSpec(
        name="TestMinMax", category="Dense", doc="(min, max) over the last dimension.",
        inputs=(Port("in"),), outputs=(Port("low"), Port("high")), params=(),
        infer=lambda s, p: {"low": (*s["in"][:-1], 1), "high": (*s["in"][:-1], 1)},
        constructor=lambda s, p: Constructor(_MinMax),
    )


def _halves_emit(g, args, in_shapes, p):
    parts = g.call_method("chunk", (args[0], 2, -1))
    return tuple(g.call_function(operator.getitem, (parts, i)) for i in range(2))


def _halves_spec() -> BlockSpec:
    return BlockSpec(
        name="TestHalves", category="Dense", doc="The two halves of the last dimension.",
        inputs=(Port("in"),), outputs=(Port("first"), Port("second")), params=(),
        infer=lambda s, p: {k: (*s["in"][:-1], s["in"][-1] // 2) for k in ("first", "second")},
        emit=_halves_emit,
    )


@pytest.fixture
def multi_output_blocks(monkeypatch):
    blocks.get("Input")  # load the library before adding to it
    monkeypatch.setitem(registry._BLOCKS, "TestMinMax", _min_max_spec())
    monkeypatch.setitem(registry._BLOCKS, "TestHalves", _halves_spec())


def test_a_module_with_two_outputs_is_read_through_getitem(multi_output_blocks):
    g = Graph()
    add(g, "x", "Input", shape=[6])
    add(g, "mm", "TestMinMax")
    add(g, "fc", "Linear", out_features=2)
    chain(g, "x", "mm")
    g.connect("mm", "high", "fc", "in")
    compiled = compile_graph(g)
    assert statements(compiled.code) == [
        "def forward(self, x):",
        "mm = self.mm(x)",
        "mm_high = mm[1]",
        "fc = self.fc(mm_high)",
        "return fc",
    ]
    x = torch.randn(3, 6)
    assert torch.equal(compiled(x), compiled.fc(x.max(-1, keepdim=True).values))
    # unwired, both ports are outputs, flat and in port order
    g.remove_node("fc")
    compiled = compile_graph(g)
    assert compiled.output_nodes == [("mm", "low"), ("mm", "high")]
    low, high = compiled(x)
    assert torch.equal(low, x.min(-1, keepdim=True).values) and torch.equal(high, x.max(-1, keepdim=True).values)


def test_an_emitted_block_with_two_outputs_names_each_port(multi_output_blocks):
    g = Graph()
    add(g, "x", "Input", shape=[8])
    add(g, "halves", "TestHalves")
    add(g, "a", "Linear", out_features=3)
    add(g, "b", "Linear", out_features=3)
    add(g, "sum", "Add")
    chain(g, "x", "halves")
    g.connect("halves", "first", "a", "in")
    g.connect("halves", "second", "b", "in")
    g.connect("a", "out", "sum", "in1")
    g.connect("b", "out", "sum", "in2")
    compiled = compile_graph(g)
    assert statements(compiled.code) == [
        "def forward(self, x):",
        "halves_chunk = x.chunk(2, -1)",
        "halves = halves_chunk[0]",
        "halves_second = halves_chunk[1]",
        "a = self.a(halves)",
        "b = self.b(halves_second)",
        "sum_1 = a + b",
        "return sum_1",
    ]
    x = torch.randn(2, 8)
    assert torch.equal(compiled(x), compiled.a(x[:, :4]) + compiled.b(x[:, 4:]))


def test_calls_go_straight_to_the_generated_forward_and_errors_show_its_line():
    compiled = compile_graph(lenet_graph())
    seen = []
    compiled.register_forward_hook(lambda m, args, out: seen.append(("net", tuple(out.shape))))
    compiled.submodule_of("pool2").register_forward_hook(lambda m, args, out: seen.append(("pool2", tuple(out.shape))))
    compiled(torch.randn(2, 1, 32, 32))
    assert seen == [("pool2", (2, 16, 5, 5)), ("net", (2, 10))]
    with pytest.raises(RuntimeError) as caught:
        compiled(torch.randn(2, 3, 32, 32))  # three channels into a one-channel conv1
    frames = traceback.extract_tb(caught.value.__traceback__)
    assert any(f.line.startswith("conv1 = self.conv1(image)") for f in frames if f.name == "forward")
