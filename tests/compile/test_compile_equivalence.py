"""Compiled graphs equal hand-written torch modules: same weights, same input, same outputs and gradients."""

from __future__ import annotations

import torch
from torch import nn

from compile_nets import (
    MLP_KEYS, LeNet5, LSTMClassifier, TransformerClassifier, add, chain, gan_graph, gan_hand, grads, lenet_graph,
    load_into, lstm_graph, mlp_graph, mlp_hand, param_count, resnet_block_graph, resnet_keys,
    resnet_stage_hand, same_grads, transformer_graph, transformer_keys,
)
from studio.compile import compile_graph, compile_networks
from studio.graph import Graph


def _forward_backward(module: nn.Module, *inputs: torch.Tensor) -> torch.Tensor:
    module.zero_grad()
    out = module(*inputs)
    (out.float() ** 2).mean().backward()
    return out.detach()


def test_mlp_equals_sequential_and_uses_default_init():
    torch.manual_seed(0)
    compiled = compile_graph(mlp_graph())
    torch.manual_seed(0)
    hand = mlp_hand()  # built in the same order, so the default init draws the same numbers
    assert torch.equal(compiled.fc1.weight, hand[0].weight)
    assert torch.equal(compiled.fc3.bias, hand[4].bias)
    x = torch.randn(5, 2)
    assert torch.equal(_forward_backward(compiled, x), _forward_backward(hand, x))
    assert same_grads(grads(compiled, MLP_KEYS), grads(hand))
    assert param_count(compiled) == 2 * 16 + 16 + 16 * 16 + 16 + 16 * 3 + 3


def test_lenet5_has_61706_params_and_equals_hand_written():
    graph = lenet_graph()
    compiled = compile_graph(graph)
    hand = LeNet5()
    assert param_count(compiled) == 61_706 == param_count(hand) == graph.total_params()
    load_into(hand, compiled)  # the node ids are the hand-written attribute names
    x = torch.randn(4, 1, 32, 32)
    out = _forward_backward(compiled, x)
    assert out.shape == (4, 10)
    assert torch.equal(out, _forward_backward(hand, x))
    assert same_grads(grads(compiled), grads(hand))


def test_resnet_block_with_downsample_matches_torchvision_style_block():
    torch.manual_seed(1)
    compiled = compile_graph(resnet_block_graph(channels=8, out_channels=16, size=8, blocks=2))
    hand = resnet_stage_hand(8, 16, blocks=2)
    load_into(hand, compiled, resnet_keys(2))
    x = torch.randn(3, 8, 8, 8)
    out = _forward_backward(compiled, x)
    assert out.shape == (3, 16, 4, 4)
    assert torch.allclose(out, _forward_backward(hand, x), atol=1e-6)
    assert same_grads(grads(compiled, resnet_keys(2)), grads(hand), atol=1e-5)
    # training mode updated the running statistics identically
    assert torch.allclose(compiled.b1_down_bn.running_mean, hand[0].downsample[1].running_mean, atol=1e-7)
    compiled.eval()
    hand.eval()
    with torch.no_grad():
        assert torch.allclose(compiled(x), hand(x), atol=1e-6)


class _TwoTower(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fa = nn.Linear(4, 8)
        self.fb = nn.Linear(6, 8)
        self.head = nn.Linear(16, 2)

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return self.head(torch.cat([torch.relu(self.fa(a)), self.fb(b)], dim=1))


def _two_input_graph() -> Graph:
    g = Graph("two towers")
    add(g, "b", "Input", shape=[6])  # document order, not name order, sets the argument order
    add(g, "a", "Input", shape=[4])
    add(g, "fa", "Linear", out_features=8)
    add(g, "relu", "ReLU")
    add(g, "fb", "Linear", out_features=8)
    add(g, "cat", "Concat", dim=1)
    add(g, "head", "Linear", out_features=2)
    chain(g, "a", "fa", "relu")
    chain(g, "b", "fb")
    g.connect("relu", "out", "cat", "in1")
    g.connect("fb", "out", "cat", "in2")
    chain(g, "cat", "head")
    return g


def test_two_input_concat_network_takes_inputs_in_document_order():
    compiled = compile_graph(_two_input_graph())
    assert compiled.input_nodes == ["b", "a"]
    assert "def forward(self, b, a):" in compiled.code
    hand = _TwoTower()
    load_into(hand, compiled)
    a, b = torch.randn(5, 4), torch.randn(5, 6)
    out = _forward_backward(compiled, b, a)
    assert torch.equal(out, _forward_backward(hand, a, b))
    assert same_grads(grads(compiled), grads(hand))


def test_several_output_nodes_return_a_tuple_in_document_order():
    g = Graph("two heads")
    add(g, "x", "Input", shape=[8])
    add(g, "trunk", "Linear", out_features=16)
    add(g, "act", "ReLU")
    add(g, "regress", "Linear", out_features=1)
    add(g, "classify", "Linear", out_features=3)
    chain(g, "x", "trunk", "act", "regress")
    chain(g, "act", "classify")
    compiled = compile_graph(g)
    assert compiled.output_nodes == [("regress", "out"), ("classify", "out")]
    x = torch.randn(4, 8)
    reg, cls = compiled(x)
    hidden = torch.relu(compiled.trunk(x))
    assert torch.equal(reg, compiled.regress(hidden))
    assert torch.equal(cls, compiled.classify(hidden))
    assert compiled.code.strip().splitlines()[-1].strip() == "return (regress, classify)"
    (reg.sum() + cls.sum()).backward()
    assert compiled.trunk.weight.grad is not None and compiled.trunk.weight.grad.abs().sum() > 0


def test_lstm_over_embedded_tokens_equals_hand_written():
    torch.manual_seed(2)
    compiled = compile_graph(lstm_graph())
    hand = LSTMClassifier()
    load_into(hand, compiled)
    tokens = torch.randint(0, 50, (3, 7))
    out = _forward_backward(compiled, tokens)
    assert out.shape == (3, 4)
    assert torch.allclose(out, _forward_backward(hand, tokens), atol=1e-6)
    assert same_grads(grads(compiled), grads(hand))


def test_transformer_encoder_equals_hand_written():
    torch.manual_seed(3)
    compiled = compile_graph(transformer_graph())
    hand = TransformerClassifier()
    load_into(hand, compiled, transformer_keys())
    x = torch.randn(2, 6, 16)
    out = _forward_backward(compiled, x)
    assert out.shape == (2, 3)
    assert torch.allclose(out, _forward_backward(hand, x), atol=1e-5)
    assert same_grads(grads(compiled, transformer_keys()), grads(hand), atol=1e-5)
    compiled.eval()
    hand.eval()
    with torch.no_grad():  # the inference fast path as well
        assert torch.allclose(compiled(x), hand(x), atol=1e-5)


def test_gcn_takes_features_and_adjacency_in_port_order():
    g = Graph("gcn")
    add(g, "x", "Input", shape=[5, 3])
    add(g, "adj", "Input", shape=[5, 5])
    add(g, "gcn", "GCNConv", out_channels=4)
    g.connect("x", "out", "gcn", "x")
    g.connect("adj", "out", "gcn", "adj")
    compiled = compile_graph(g)
    assert "gcn = self.gcn(x, adj)" in compiled.code
    x = torch.randn(2, 5, 3)
    adj = (torch.rand(2, 5, 5) > 0.5).float()
    adj = ((adj + adj.transpose(1, 2)) > 0).float() * (1 - torch.eye(5))
    a = adj + torch.eye(5)
    d = a.sum(-1).pow(-0.5)
    expected = (d.unsqueeze(-1) * a * d.unsqueeze(-2)) @ (x @ compiled.gcn.lin.weight.T) + compiled.gcn.bias
    assert torch.allclose(compiled(x, adj), expected, atol=1e-6)


def test_gan_compiles_to_two_networks_that_train_together():
    torch.manual_seed(4)
    nets = compile_networks(gan_graph())
    assert list(nets) == ["noise", "sample"]
    gen, disc = nets["noise"], nets["sample"]
    assert set(gen.node_to_attr) == {"g_fc1", "g_relu", "g_fc2"}
    assert set(disc.node_to_attr) == {"d_fc1", "d_act", "d_fc2"}
    hand_gen, hand_disc = gan_hand()
    load_into(hand_gen, gen, {"g_fc1": "0", "g_fc2": "2"})
    load_into(hand_disc, disc, {"d_fc1": "0", "d_fc2": "2"})
    z = torch.randn(6, 8)
    score = disc(gen(z))
    hand_score = hand_disc(hand_gen(z))
    assert score.shape == (6, 1)
    assert torch.allclose(score, hand_score, atol=1e-6)
    score.mean().backward()
    hand_score.mean().backward()
    assert same_grads(grads(gen, {"g_fc1": "0", "g_fc2": "2"}), grads(hand_gen))
