"""Models written the way people write them, imported, compiled, and compared with the originals:
the same outputs on a random batch (evaluation mode) with the imported weights, the same
parameter count, and every module path a node."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from studio.compile import compile_networks
from studio.importing import import_model
from studio.training.checkpoint import flatten, load_flat_state

import importing_models as models


def _randomise(model: nn.Module) -> nn.Module:
    # running statistics away from 0 and 1, so that a wrong mapping of them shows
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.5, 0.5)
    return model.eval()


CASES = {
    "resnet": (lambda: models.ResNet(), [(3, 16, 16)], ["float"]),
    "vgg": (lambda: models.VGG(), [(3, 32, 32)], ["float"]),
    "mobilenet": (lambda: models.MobileNet(), [(3, 16, 16)], ["float"]),
    "lstm": (lambda: models.LSTMClassifier(), [(11,)], ["long"]),
    "transformer": (lambda: models.TransformerClassifier(), [(9,)], ["long"]),
    "cross_attention": (lambda: models.CrossAttention(), [(7, 8), (5, 6)], ["float"]),
}


def _sample(shape, dtype, vocab=40):
    if dtype == "long":
        return torch.randint(0, vocab, (3, *shape))
    return torch.randn(3, *shape)


def imported(model, shapes, dtypes):
    result = import_model(model, shapes, dtypes)
    nets = compile_networks(result.graph)
    load_flat_state(nets, flatten(result.weights), "imported weights")
    assert len(nets) == 1
    return result, next(iter(nets.values())).eval()


@pytest.mark.parametrize("case", list(CASES))
def test_same_outputs_and_parameters(case):
    torch.manual_seed(0)
    make, shapes, dtypes = CASES[case]
    model = _randomise(make())
    result, net = imported(model, shapes, dtypes)
    xs = [_sample(s, d) for s, d in zip(shapes, dtypes * len(shapes))]
    with torch.no_grad():
        expected, got = model(*xs), net(*xs)
    assert got.shape == expected.shape
    assert torch.allclose(got, expected, atol=1e-5), (got - expected).abs().max()
    count = sum(p.numel() for p in model.parameters())
    assert sum(p.numel() for p in net.parameters()) == count
    assert result.graph.total_params() == count
    # every tensor of the module landed once
    assert sum(len(s) for s in result.weights.values()) == len(model.state_dict())


def test_resnet_nodes_are_named_after_module_paths_and_wired_as_the_forward():
    model = _randomise(models.ResNet())
    graph = import_model(model, [(3, 16, 16)], groups=False).graph  # flat: every block at the top
    assert graph.node("layer2_0_conv1").params["stride"] == 2
    shortcut = graph.node("layer2_0_shortcut_0")
    assert shortcut.block == "Conv2d" and shortcut.params["kernel_size"] == 1 and shortcut.params["stride"] == 2
    assert graph.node("layer1_0_bn1").block == "BatchNorm2d"
    assert graph.node("avgpool").block == "AdaptiveAvgPool2d"
    assert graph.node("flatten").block == "Flatten"
    assert graph.node("x").params["shape"] == (3, 16, 16)
    # the residual add takes the block's main path and its shortcut
    adds = [n for n in graph.nodes.values() if n.block == "Add"]
    assert len(adds) == 6
    sources = {e.src for e in graph.in_edges("add_2")}  # layer2.0: a projection shortcut
    assert sources == {"layer2_0_bn2", "layer2_0_shortcut_1"}
    assert graph.shapes.output("fc") == (10,)
    assert graph.shapes.output("layer3_1_conv2") == (32, 4, 4)


def test_mobilenet_depthwise_and_activations():
    graph = import_model(_randomise(models.MobileNet()), [(3, 16, 16)], groups=False).graph
    depthwise = graph.node("blocks_1_conv_3")
    assert depthwise.block == "Conv2d" and depthwise.params["groups"] == 24
    assert graph.node("stem_2").block == "ReLU6"
    assert graph.node("blocks_1_conv_2").block == "Hardswish"
    assert graph.node("hardswish").block == "Hardswish"  # F.hardswish
    mean = graph.node("mean")
    assert mean.block == "Mean" and tuple(mean.params["dims"]) == (2, 3)


def test_lstm_classifier_takes_the_last_step():
    graph = import_model(models.LSTMClassifier(), [(11,)], ["long"]).graph
    lstm = graph.node("lstm")
    assert lstm.block == "LSTM" and lstm.params["output"] == "last" and lstm.params["num_layers"] == 2
    assert graph.node("tokens").params["dtype"] == "long"
    assert graph.shapes.output("lstm") == (16,)


def test_cross_attention_and_decoder_blocks():
    graph = import_model(models.CrossAttention(), [(7, 8), (5, 6)]).graph
    cross = graph.node("cross")
    assert cross.block == "MultiheadAttention" and cross.params["cross"] and cross.params["num_heads"] == 4
    assert {e.dst_port: e.src for e in graph.in_edges("cross")} == {"in": "decoder", "context": "tanh"}
    decoder = graph.node("decoder")
    assert decoder.block == "TransformerDecoderLayer"
    assert decoder.params["activation"] == "gelu" and decoder.params["norm_first"]
    assert {e.dst_port: e.src for e in graph.in_edges("decoder")} == {"tgt": "tgt_proj", "memory": "tanh"}
    assert list(graph.nodes)[:2] == ["tgt", "memory"]


def test_functional_reshapes_and_reductions():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = nn.Linear(6, 8)

        def forward(self, x):  # x [B, 4, 6]
            h = self.proj(x)  # [B, 4, 8]
            a, b = h.chunk(2, dim=-1)  # [B, 4, 4] each
            g = torch.sigmoid(a) * b
            s = g.transpose(1, 2)  # [B, 4, 4]
            p = g.permute(0, 2, 1).contiguous()
            m = torch.matmul(s, p)  # [B, 4, 4]
            u = m.unsqueeze(1).squeeze(1)
            parts = torch.split(u, [1, 3], dim=2)
            joined = torch.cat([parts[1], parts[0]], dim=2)
            flat = joined.reshape(-1, 16)
            return torch.softmax(flat.view(x.size(0), 4, 4).sum(-1), dim=1)

    torch.manual_seed(1)
    model = Net().eval()
    result, net = imported(model, [(4, 6)], ["float"])
    x = torch.randn(5, 4, 6)
    assert torch.allclose(net(x), model(x), atol=1e-6)
    blocks = {n.id: n.block for n in result.graph.nodes.values()}
    assert blocks["chunk"] == "Chunk" and blocks["transpose"] == "Transpose" and blocks["permute"] == "Permute"
    assert blocks["matmul"] == "MatMul" and blocks["split"] == "Split" and blocks["cat"] == "Concat"
    assert blocks["reshape"] == "Flatten" and blocks["view"] == "Reshape" and blocks["sum_1"] == "Sum"
    assert result.graph.node("view").params["shape"] == (4, 4)


def test_transformer_encoder_stack_becomes_its_layers():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
            self.encoder = nn.TransformerEncoder(layer, 3, norm=nn.LayerNorm(8), enable_nested_tensor=False)

        def forward(self, x):
            return self.encoder(x)

    torch.manual_seed(2)
    model = Net().eval()
    result, net = imported(model, [(5, 8)], ["float"])
    assert [n for n in result.graph.nodes if n != "x"] == [
        "encoder_layers_0", "encoder_layers_1", "encoder_layers_2", "encoder_norm"]
    x = torch.randn(2, 5, 8)
    with torch.no_grad():
        assert torch.allclose(net(x), model(x), atol=1e-5)


def test_several_outputs_come_back_in_the_order_returned():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(3, 2)
            self.b = nn.Linear(3, 4)

        def forward(self, x):
            return self.b(x), self.a(x)

    model = Net().eval()
    result, net = imported(model, [(3,)], ["float"])
    x = torch.randn(2, 3)
    got, want = net(x), model(x)
    assert [t.shape for t in got] == [t.shape for t in want]
    assert all(torch.allclose(g, w) for g, w in zip(got, want))


def test_the_layout_reads_left_to_right_with_branches_in_rows():
    graph = import_model(_randomise(models.ResNet()), [(3, 16, 16)]).graph
    pos = {n.id: n.position for n in graph.nodes.values()}
    assert pos["x"][0] == 0.0  # the input in the first column
    for edge in graph.edges:  # every wire runs forward: right, or on to the next band
        (x0, y0), (x1, y1) = pos[edge.src], pos[edge.dst]
        assert x1 > x0 or y1 > y0
    assert len(set(pos.values())) == len(pos)  # no two blocks on one spot


def test_a_bidirectional_gru_classifier_joins_its_final_states():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = nn.GRU(6, 5, num_layers=2, batch_first=True, bidirectional=True)
            self.fc = nn.Linear(10, 2)

        def forward(self, x):
            _, h = self.gru(x)
            return self.fc(torch.cat((h[-2], h[-1]), dim=1))

    torch.manual_seed(3)
    model = Net().eval()
    result, net = imported(model, [(7, 6)], ["float"])
    gru = result.graph.node("gru")
    assert gru.params["output"] == "last" and gru.params["bidirectional"]
    x = torch.randn(4, 7, 6)
    assert torch.allclose(net(x), model(x), atol=1e-6)


def test_a_sequential_is_a_model_too():
    torch.manual_seed(4)
    model = nn.Sequential(nn.Linear(3, 5), nn.GELU(approximate="tanh"), nn.LayerNorm(5), nn.Linear(5, 2)).eval()
    result, net = imported(model, [(3,)], ["float"])
    assert [n.id for n in result.graph.nodes.values()] == ["input", "_0", "_1", "_2", "_3"]
    x = torch.randn(4, 3)
    assert torch.allclose(net(x), model(x), atol=1e-6)


def test_a_subclass_of_a_layer_that_keeps_its_forward_is_that_layer():
    class NamedConv(nn.Conv2d):
        def __init__(self, *args, tag="", **kwargs):
            super().__init__(*args, **kwargs)
            self.tag = tag

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = NamedConv(2, 3, 3, padding=1, tag="first")

        def forward(self, x):
            return self.conv(x)

    torch.manual_seed(5)
    model = Net().eval()
    result, net = imported(model, [(2, 5, 5)], ["float"])
    assert result.graph.node("conv").block == "Conv2d"
    x = torch.randn(2, 2, 5, 5)
    assert torch.allclose(net(x), model(x), atol=1e-6)


class _Zoo2d(nn.Module):
    """Every 2-D layer and call the six models above leave out."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding="same", dilation=1)
        self.inorm = nn.InstanceNorm2d(8, affine=True)
        self.gnorm = nn.GroupNorm(2, 8)
        self.prelu = nn.PReLU(8)
        self.drop = nn.Dropout2d(0.2)
        self.up = nn.Upsample(scale_factor=2, mode="bilinear")
        self.down = nn.ConvTranspose2d(8, 4, 2, stride=2)
        self.pool = nn.AdaptiveMaxPool2d(2)
        self.avg = nn.AvgPool2d(2, ceil_mode=True, count_include_pad=False)
        self.soft = nn.Softplus(beta=2.0, threshold=10.0)
        self.head = nn.Linear(4 * 2 * 2 * 2, 5)
        self.norm = nn.LayerNorm(5, eps=1e-3)
        self.act = nn.ELU(alpha=0.5)

    def forward(self, x):
        x = self.drop(self.prelu(self.gnorm(self.inorm(self.conv(x)))))
        x = F.leaky_relu(self.down(self.up(x)), 0.2)
        a = self.pool(x)
        b = F.avg_pool2d(self.avg(x), 8)  # [4, 32, 32] -> [4, 16, 16] -> [4, 2, 2]
        x = torch.cat([a, self.soft(b)], 1)
        x = x.reshape(x.shape[0], -1)
        return F.log_softmax(self.act(self.norm(self.head(x))), dim=-1)


class _Zoo1d(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(4, 6, 3, padding=1)
        self.bn = nn.BatchNorm1d(6)
        self.pool = nn.MaxPool1d(2)
        self.avg = nn.AvgPool1d(2)
        self.rnn = nn.RNN(6, 5, nonlinearity="relu", batch_first=True)
        self.gate = nn.Linear(5, 5)

    def forward(self, x):  # x [B, 4, 16]
        x = self.avg(self.pool(F.silu(self.bn(self.conv(x)))))  # [B, 6, 4]
        seq, _ = self.rnn(x.transpose(1, 2))  # [B, 4, 5]
        gated = seq * torch.sigmoid(self.gate(seq))
        return F.gelu(gated, approximate="tanh").sum(dim=1, keepdim=True).squeeze(1)


@pytest.mark.parametrize("make, shape", [(_Zoo2d, (3, 8, 8)), (_Zoo1d, (4, 16))], ids=["2d", "1d"])
def test_the_other_layers_and_calls_import_the_same(make, shape):
    torch.manual_seed(6)
    model = _randomise(make())
    result, net = imported(model, [shape], ["float"])
    x = torch.randn(4, *shape)
    with torch.no_grad():
        assert torch.allclose(net(x), model(x), atol=1e-5)
    assert sum(p.numel() for p in net.parameters()) == sum(p.numel() for p in model.parameters())
