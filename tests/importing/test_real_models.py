"""Changes in place, as real models make them, import to graphs that compute what the model
computes: ``out += identity`` and ``F.relu(h, inplace=True)`` change the tensor under every name
that holds it, ``h.relu_()`` and ``g.add_(h)`` are their blocks; a change through a view that the
model reads again in another shape is refused naming it; a loop over ``x.size()`` is refused
saying so (not as an ``if``)."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from studio.compile import compile_networks
from studio.importing import ImportRefused, import_model
from studio.training.checkpoint import flatten, load_flat_state


class KeptShortcut(nn.Module):
    """nn.ReLU(inplace=True) on a tensor also kept as the shortcut: the shortcut holds the ReLU's result."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 8)
        self.relu = nn.ReLU(inplace=True)
        self.fc2 = nn.Linear(8, 8)

    def forward(self, x):
        h = self.fc1(x)
        identity = h
        h = self.relu(h)
        h = self.fc2(h)
        h += identity
        return h


class FunctionalInplace(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 8)
        self.fc2 = nn.Linear(8, 8)

    def forward(self, x):
        h = self.fc1(x)
        out = F.relu(h, inplace=True)
        return self.fc2(out) + h


class PositionalInplace(nn.Module):
    """F.leaky_relu(h, 0.2, True): the flag given by position."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 8)
        self.fc2 = nn.Linear(8, 8)

    def forward(self, x):
        h = self.fc1(x)
        a = F.leaky_relu(h, 0.2, True)
        return self.fc2(a) + h


class UnderscoreMethods(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 8)
        self.fc2 = nn.Linear(8, 8)

    def forward(self, x):
        h = self.fc1(x).relu_()
        g = self.fc2(h)
        g.add_(h)
        return torch.sigmoid_(g)


class AddedUnderAnotherName(nn.Module):
    """a += b where a is read again as c: c holds the sum."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 8)
        self.fc2 = nn.Linear(8, 8)
        self.fc3 = nn.Linear(8, 8)

    def forward(self, x):
        a = self.fc1(x)
        b = self.fc2(x)
        c = a
        a += b
        return self.fc3(c)


class BasicBlock(nn.Module):
    """torchvision's, as written there."""

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        out = self.relu(out)
        return out


class TinyResNet(nn.Module):
    """self.layer1 = nn.Sequential(...) from _make_layer, torch.flatten(x, 1), a ReLU shared by
    every call, and the stem's ReLU in place on the tensor the first block keeps as its shortcut."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.inplanes = 8
        self.conv1 = nn.Conv2d(1, 8, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = self._make_layer(8, 2)
        self.layer2 = self._make_layer(16, 1, stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(16, num_classes)

    def _make_layer(self, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes, 1, stride, bias=False),
                                       nn.BatchNorm2d(planes))
        layers = [BasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        layers += [BasicBlock(planes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer2(self.layer1(x))
        x = torch.flatten(self.avgpool(x), 1)
        return self.fc(x)


class PreActivation(nn.Module):
    """The input's ReLU made in place before the shortcut reads it (a pre-activation block)."""

    def __init__(self):
        super().__init__()
        self.bn = nn.BatchNorm2d(4)
        self.conv = nn.Conv2d(4, 4, 3, padding=1)

    def forward(self, x):
        shortcut = x
        x = self.bn(x)
        x = F.relu(x, inplace=True)
        out = self.conv(x)
        out += shortcut
        return x.mean(dim=(2, 3)) + out.mean(dim=(2, 3))


CASES = {
    "kept_shortcut": (KeptShortcut, (8,)),
    "functional_inplace": (FunctionalInplace, (8,)),
    "positional_inplace": (PositionalInplace, (8,)),
    "underscore_methods": (UnderscoreMethods, (8,)),
    "added_under_another_name": (AddedUnderAnotherName, (8,)),
    "torchvision_resnet": (TinyResNet, (1, 8, 8)),
    "pre_activation": (PreActivation, (4, 6, 6)),
}


def _randomise(model: nn.Module) -> nn.Module:
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):  # running statistics away from 0 and 1, so a wrong wire shows
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.bias.data.uniform_(-0.5, 0.5)
    return model.eval()


@pytest.mark.parametrize("case", list(CASES))
def test_changes_in_place_compute_what_the_model_computes(case):
    torch.manual_seed(0)
    make, shape = CASES[case]
    model = _randomise(make())
    result = import_model(model, [shape])
    nets = compile_networks(result.graph)
    load_flat_state(nets, flatten(result.weights), "imported weights")
    net = next(iter(nets.values())).eval()
    x = torch.randn(3, *shape)
    with torch.no_grad():
        want = model(x.clone())  # the model changes its tensors in place: each call gets its own copy
        got = net(x.clone())
    assert torch.allclose(got, want, atol=1e-5), (got - want).abs().max()
    assert sum(p.numel() for p in net.parameters()) == sum(p.numel() for p in model.parameters())


def test_the_blocks_of_underscore_methods():
    result = import_model(UnderscoreMethods(), [(8,)])
    assert sorted(n.block for n in result.graph.nodes.values()) == ["Add", "Input", "Linear", "Linear", "ReLU", "Sigmoid"]


class ChangedThroughAView(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.out = nn.Linear(8, 8)

    def forward(self, x):
        h = self.fc(x)
        v = h.view(h.size(0), 2, 4)
        v.relu_()
        return self.out(h)


def test_a_change_through_a_view_read_in_another_shape_is_refused():
    with pytest.raises(ImportRefused) as err:
        import_model(ChangedThroughAView(), [(8,)])
    assert str(err.value) == (
        "node 'relu_': Tensor.relu_ changes view in place, and out reads fc, another shape of the same memory, "
        "afterwards; blocks never share memory: make the change out of place (x = x + y, inplace=False)")


class LoopOverSize(nn.Module):
    """The old tutorial's num_flat_features: a loop over x.size()[1:]."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 2)

    def forward(self, x):
        n = 1
        for s in x.size()[1:]:
            n *= s
        return self.fc(x.view(-1, n))


def test_a_loop_over_a_size_is_refused_as_a_loop():
    with pytest.raises(ImportRefused) as err:
        import_model(LoopOverSize(), [(1, 4, 4)])
    text = str(err.value)
    assert "`for s in x.size()[1:]:`: LoopOverSize.forward cannot be traced: a loop (or a * unpacking) runs over " \
           "a tensor or over its x.size()" in text
    assert "Python if" not in text


class CharLSTM(nn.Module):
    def __init__(self, vocab=20):
        super().__init__()
        self.embed = nn.Embedding(vocab, 8)
        self.lstm = nn.LSTM(8, 16, batch_first=True)
        self.head = nn.Linear(16, vocab)

    def forward(self, x):
        out, _ = self.lstm(self.embed(x))
        return self.head(out[:, -1])


class SmallConv(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(self.conv(x).mean(dim=(2, 3)))


def test_a_dtype_its_blocks_do_not_take_is_refused_naming_the_flag():
    from studio.importing import BadArgument

    with pytest.raises(BadArgument) as err:
        import_model(CharLSTM(), [(12,)])  # token ids given as float values
    assert str(err.value) == ("--dtype float: input x goes to Embedding 'embed', which looks up integer token ids: "
                              "give --dtype long")
    with pytest.raises(BadArgument) as err:
        import_model(SmallConv(), [(1, 6, 6)], ["long"])
    assert str(err.value) == ("--dtype long: input x goes to Conv2d 'conv', which takes float values; long is for "
                              "token ids that an Embedding looks up: give --dtype float")
    assert import_model(CharLSTM(), [(12,)], ["long"]).graph.node("x").params["dtype"] == "long"


def test_a_target_in_a_missing_folder_is_named_not_its_temporary_file(tmp_path):
    from studio.importing import write

    imported = import_model(SmallConv(), [(1, 6, 6)])
    for graph_path, weights_path in ((tmp_path / "none" / "g.json", None),
                                     (tmp_path / "g.json", tmp_path / "none" / "w.safetensors")):
        with pytest.raises(FileNotFoundError) as err:
            write(imported, graph_path, weights_path)
        missing = graph_path if weights_path is None else weights_path
        assert err.value.filename == str(missing) and err.value.strerror == f"no folder {tmp_path / 'none'}"
    assert sorted(p.name for p in tmp_path.iterdir()) == []


class TextCNN(nn.Module):
    """Kim's sentence CNN: max over time with F.max_pool1d(h, h.size(2)), and an average beside it."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(20, 8)
        self.conv = nn.Conv1d(8, 16, 3)
        self.fc = nn.Linear(32, 2)

    def forward(self, x):
        h = F.relu(self.conv(self.emb(x).permute(0, 2, 1)))
        top = F.max_pool1d(h, h.size(2)).squeeze(2)
        mean = F.avg_pool1d(h, kernel_size=2, stride=2).mean(dim=2)
        return self.fc(torch.cat([top, mean], dim=1))


def test_a_text_cnn_with_functional_1d_pools():
    torch.manual_seed(0)
    model = TextCNN().eval()
    result = import_model(model, [(12,)], ["long"])
    assert {n.block for n in result.graph.nodes.values()} >= {"MaxPool1d", "AvgPool1d"}
    nets = compile_networks(result.graph)
    load_flat_state(nets, flatten(result.weights), "imported weights")
    x = torch.randint(0, 20, (3, 12))
    with torch.no_grad():
        assert torch.allclose(next(iter(nets.values())).eval()(x), model(x), atol=1e-6)


class LenOfBatch(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 2)

    def forward(self, x):
        return self.fc(x.reshape(len(x), -1))


def test_len_of_a_tensor_is_refused_with_what_to_write_instead():
    with pytest.raises(ImportRefused) as err:
        import_model(LenOfBatch(), [(4, 4)])
    assert str(err.value).endswith("`return self.fc(x.reshape(len(x), -1))`: LenOfBatch.forward cannot be traced: "
                                   "len() of a tensor, which tracing does not know; use x.size(0) for the batch "
                                   "(or the size you know)")


class StandardisedConv(nn.Conv2d):
    """Weight standardisation, written by overriding the helper torch's forward calls: the layer
    looks like a Conv2d to tracing but computes something else."""

    def _conv_forward(self, input, weight, bias):
        mean = weight.mean(dim=(1, 2, 3), keepdim=True)
        std = weight.std(dim=(1, 2, 3), keepdim=True) + 1e-5
        return super()._conv_forward(input, (weight - mean) / std, bias)


class WithStandardisedConv(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = StandardisedConv(1, 4, 3, padding=1)
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(self.conv(x).mean(dim=(2, 3)))


def test_a_graph_that_computes_otherwise_than_its_model_is_refused_by_how_much():
    torch.manual_seed(0)
    with pytest.raises(ImportRefused) as err:
        import_model(WithStandardisedConv(), [(1, 6, 6)])
    text = str(err.value)
    assert text.startswith("the imported graph computes other values than WithStandardisedConv.forward: they "
                           "differ by up to ")
    assert "on a random batch [2, 1, 6, 6]; the model does something its calls do not show" in text
    # a model that imports faithfully says so, with the difference measured
    assert import_model(TinyResNet().eval(), [(1, 8, 8)]).difference == 0.0


class OwnPositions(nn.Module):
    """The position table as tutorials write it: a buffer sliced to the input's length."""

    def __init__(self):
        super().__init__()
        self.register_buffer("pe", torch.randn(1, 50, 8))
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        return self.fc(x + self.pe[:, : x.size(1)])


def test_a_buffer_sliced_by_the_input_length_points_to_the_positional_encoding_block():
    with pytest.raises(ImportRefused) as err:
        import_model(OwnPositions(), [(10, 8)])
    assert str(err.value).endswith(
        "`return self.fc(x + self.pe[:, : x.size(1)])`: OwnPositions.forward cannot be traced: a size read from the "
        "input (x.size(1), x.shape[1]) is used as a number (to slice a buffer, to make a tensor), which tracing does "
        "not know; for a sinusoidal position table use Studio's PositionalEncoding (from blocks.library.modules "
        "import PositionalEncoding), which is a block")


class HalvesInPlace(nn.Module):
    """One half of a chunk changed in place while the other half is read afterwards: other memory."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.out = nn.Linear(4, 2)

    def forward(self, x):
        a, b = self.fc(x).chunk(2, dim=1)
        a = F.relu(a, inplace=True)
        return self.out(a + b)


def test_a_piece_of_a_chunk_changed_in_place_leaves_the_other_piece_alone():
    torch.manual_seed(0)
    model = HalvesInPlace().eval()
    result = import_model(model, [(8,)])
    assert result.difference == 0.0
    assert "ReLU" in {n.block for n in result.graph.nodes.values()}


class ScaledTransformer(nn.Module):
    """The PyTorch tutorial's classifier: embedding times sqrt(d_model), logits divided by a temperature."""

    def __init__(self, vocab=30, d_model=16, classes=4):
        super().__init__()
        self.d_model = d_model
        self.embed = nn.Embedding(vocab, d_model)
        layer = nn.TransformerEncoderLayer(d_model, 2, dim_feedforward=32, dropout=0.1, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=1)
        self.fc = nn.Linear(d_model, classes)

    def forward(self, x):
        h = self.embed(x) * math.sqrt(self.d_model)
        h = self.encoder(h)
        return self.fc(h.mean(dim=1)) / 2.0


def test_a_constant_scale_after_an_embedding_or_linear_goes_into_its_weights():
    torch.manual_seed(0)
    model = ScaledTransformer().eval()
    result = import_model(model, [(9,)], ["long"])
    assert result.difference is not None and result.difference < 1e-5
    assert "Multiply" not in {n.block for n in result.graph.nodes.values()}
    weights = next(iter(result.weights.values()))
    assert torch.allclose(weights["embed.weight"], model.embed.weight * 4.0)
    assert torch.allclose(weights["fc.bias"], model.fc.bias / 2.0)
    assert torch.equal(model.embed.weight, model.embed.weight.clone())  # the model's own are untouched


class ScaledTwice(nn.Module):
    """The scaled output also read unscaled: no weight gives both, so it stays refused."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        h = self.fc(x)
        return h * 0.5 + h


def test_a_scale_of_an_output_read_elsewhere_is_still_refused():
    with pytest.raises(ImportRefused) as err:
        import_model(ScaledTwice(), [(4,)])
    assert "has no block: one operand is the constant 0.5; blocks combine two tensors" in str(err.value)


class ReturnsADict(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        return {"logits": self.fc(x)}


def test_a_forward_that_returns_a_dict_gives_its_values_as_outputs():
    result = import_model(ReturnsADict(), [(4,)])
    assert result.difference == 0.0
    assert [n.block for n in result.graph.nodes.values()] == ["Input", "Linear"]


class NestedOutputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)
        self.aux = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(x), {"aux": self.aux(x)}


def test_a_dict_of_tensors_is_named_as_such_not_by_inner_names():
    with pytest.raises(ImportRefused) as err:
        import_model(NestedOutputs(), [(4,)])
    assert str(err.value) == ("node 'output': 'output' (called in NestedOutputs.forward) takes a dict of tensors, "
                              "which no block gives as a tensor")
