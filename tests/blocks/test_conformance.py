"""One conformance test over the whole block registry.

For every registered block, a few representative input shapes and parameters
(defaults and the tricky non-default ones) are built into a real module, or
emitted into a tiny torch.fx graph, and run on a batch of 2. The shape torch
produces must be the shape the block's rule declares. A block with no entry in
CASES fails, so a new block cannot land untested.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import blocks

torch.set_num_threads(1)

BATCH = 2


def case(shapes, **params):
    return {k: tuple(v) for k, v in shapes.items()}, params


X = "in"
ACTIVATION_CASES = [case({X: (3, 4)}), case({X: (2, 3, 5)})]

CASES: dict[str, list] = {
    # Input & structure
    "Input": [case({}, shape=[1, 28, 28]), case({}, shape=[7], dtype="long")],
    "Flatten": [case({X: (3, 4, 5)}), case({X: (3, 4, 5)}, start_dim=2),
                case({X: (3, 4, 5)}, start_dim=1, end_dim=-2), case({X: (6,)})],
    "Reshape": [case({X: (12,)}, shape=[3, -1]), case({X: (2, 3, 4)}, shape=[4, 6]),
                case({X: (2, 3, 4)}, shape=[-1])],
    "Identity": [case({X: (3, 4)})],
    "Add": [case({"in1": (4, 5), "in2": (4, 5)}), case({"in1": (4, 5), "in2": (1, 5)}),
            case({"in1": (4, 1), "in2": (1, 5)}),
            case({"in1": (3,), "in2": (3,), "in3": (3,)}, num_inputs=3)],
    "Multiply": [case({"in1": (4, 5), "in2": (4, 5)}), case({"in1": (2, 1, 5), "in2": (2, 3, 1)})],
    "Concat": [case({"in1": (3, 4), "in2": (5, 4)}), case({"in1": (3, 4), "in2": (3, 2)}, dim=-1),
               case({"in1": (2, 6, 6), "in2": (1, 6, 6), "in3": (4, 6, 6)}, num_inputs=3, dim=1)],
    "Permute": [case({X: (3, 4)}), case({X: (2, 3, 4)}, dims=[3, 1, 2]), case({X: (5,)}, dims=[1])],
    "Transpose": [case({X: (3, 4)}), case({X: (2, 3, 4)}, dim0=-1, dim1=1), case({X: (2, 3, 4)}, dim0=2, dim1=-2)],
    "Mean": [case({X: (3, 4)}), case({X: (3, 5, 6)}, dims=[2, 3]), case({X: (3, 5, 6)}, dims=[-2], keepdim=True),
             case({X: (3, 4)}, dims=[1, 2])],
    "Sum": [case({X: (3, 4)}), case({X: (3, 5, 6)}, dims=[1, -1], keepdim=True), case({X: (7,)}, dims=1)],
    "Squeeze": [case({X: (3, 1)}), case({X: (1, 4, 5)}, dim=1), case({X: (3, 4)}, dim=2),
                case({X: (2, 1, 5)}, dim=-2), case({X: (1,)})],
    "Unsqueeze": [case({X: (5,)}), case({X: (3, 4)}, dim=-1), case({X: (3, 4)}, dim=2), case({X: (3, 4)}, dim=-3)],
    "Split": [case({X: (2, 4)}), case({X: (9, 4)}, sizes=[2, 3, 4]), case({X: (3, 10)}, sizes=[4, 6], dim=-1),
              case({X: (6, 2, 5)}, sizes=[1, 1, 3], dim=3), case({X: (5,)}, sizes=[5])],
    "Chunk": [case({X: (4, 3)}), case({X: (7, 3)}, chunks=3), case({X: (3, 9)}, chunks=3, dim=-1),
              case({X: (2, 5, 4)}, chunks=1, dim=2)],
    "MatMul": [case({"a": (4, 5), "b": (5, 3)}), case({"a": (2, 4, 5), "b": (2, 5, 6)}),
               case({"a": (3, 4, 5), "b": (1, 5, 2)}), case({"a": (1, 4, 5), "b": (3, 5, 2)})],
    # Dense
    "Linear": [case({X: (8,)}), case({X: (6, 8)}, out_features=5, bias=False)],
    "Dropout": [case({X: (10,)}), case({X: (3, 4)}, p=0.2)],
    "BatchNorm1d": [case({X: (6,)}), case({X: (6, 10)}, affine=False, momentum=0.5)],
    "LayerNorm": [case({X: (8,)}), case({X: (5, 8)}, elementwise_affine=False)],
    # Activation
    "ReLU": ACTIVATION_CASES, "Sigmoid": ACTIVATION_CASES, "Tanh": ACTIVATION_CASES,
    "SiLU": ACTIVATION_CASES, "Heaviside": ACTIVATION_CASES,
    "ReLU6": ACTIVATION_CASES, "Hardswish": ACTIVATION_CASES, "Hardsigmoid": ACTIVATION_CASES,
    "Softplus": [*ACTIVATION_CASES, case({X: (3,)}, beta=2.0, threshold=5.0)],
    "PReLU": [*ACTIVATION_CASES, case({X: (3, 8, 8)}, num_parameters=3, init=0.1), case({X: (4,)}, num_parameters=4)],
    "LeakyReLU": [*ACTIVATION_CASES, case({X: (3,)}, negative_slope=0.2)],
    "GELU": [*ACTIVATION_CASES, case({X: (3,)}, approximate="tanh")],
    "ELU": [*ACTIVATION_CASES, case({X: (3,)}, alpha=0.5)],
    "Softmax": [*ACTIVATION_CASES, case({X: (3, 4)}, dim=1)],
    "LogSoftmax": [*ACTIVATION_CASES, case({X: (2, 3, 4)}, dim=2)],
    # Convolution
    "Conv1d": [case({X: (3, 20)}), case({X: (3, 20)}, stride=2, padding=1, dilation=2),
               case({X: (3, 20)}, out_channels=6, groups=3, kernel_size=4, bias=False)],
    "Conv2d": [case({X: (3, 16, 16)}), case({X: (3, 16, 16)}, kernel_size=[3, 5], stride=2, padding=[1, 2]),
               case({X: (4, 15, 13)}, out_channels=8, groups=2, dilation=2, stride=[2, 1]),
               case({X: (1, 5, 5)}, kernel_size=1, padding=1)],
    "ConvTranspose2d": [case({X: (4, 7, 7)}),
                        case({X: (4, 7, 7)}, stride=2, padding=1, output_padding=1),
                        case({X: (4, 5, 6)}, kernel_size=[3, 4], out_channels=6, groups=2, dilation=2)],
    "MaxPool1d": [case({X: (3, 11)}), case({X: (3, 11)}, kernel_size=3, stride=2, ceil_mode=True),
                  case({X: (3, 11)}, kernel_size=3, padding=1, dilation=2)],
    "MaxPool2d": [case({X: (3, 11, 11)}), case({X: (3, 11, 11)}, kernel_size=3, stride=2, padding=1, ceil_mode=True),
                  case({X: (2, 12, 9)}, kernel_size=[2, 3], stride=[1, 2], dilation=2),
                  case({X: (1, 5, 5)}, kernel_size=2, stride=2, ceil_mode=True)],
    "AvgPool2d": [case({X: (3, 11, 11)}),
                  case({X: (3, 11, 11)}, kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
                  case({X: (2, 8, 9)}, kernel_size=[2, 3])],
    "AvgPool1d": [case({X: (3, 11)}), case({X: (3, 11)}, kernel_size=3, stride=2, padding=1, ceil_mode=True,
                                        count_include_pad=False),
                  case({X: (2, 10)}, kernel_size=4, stride=3, ceil_mode=True)],
    "AdaptiveAvgPool2d": [case({X: (3, 10, 9)}), case({X: (3, 10, 9)}, output_size=[3, 4])],
    "AdaptiveMaxPool2d": [case({X: (3, 10, 9)}), case({X: (3, 10, 9)}, output_size=[3, 4]),
                          case({X: (2, 3, 3)}, output_size=5)],
    "Dropout2d": [case({X: (3, 4, 4)}), case({X: (3, 4, 4)}, p=0.2)],
    "InstanceNorm2d": [case({X: (3, 5, 5)}), case({X: (3, 1, 4)}, affine=True, track_running_stats=True, momentum=0.3),
                       case({X: (4, 6, 2)}, affine=True, eps=1e-3)],
    "BatchNorm2d": [case({X: (3, 5, 5)}), case({X: (3, 5, 4)}, affine=False)],
    "GroupNorm": [case({X: (4, 5, 5)}), case({X: (6, 7)}, num_groups=3, eps=1e-3),
                  case({X: (8,)}, num_groups=8), case({X: (6, 5, 4)}, num_groups=2, affine=False)],
    "Upsample": [case({X: (3, 4, 5)}), case({X: (3, 4, 5)}, mode="bilinear", scale_factor=1.5),
                 case({X: (3, 7)}, scale_factor=3.0), case({X: (3, 7)}, scale_factor=1.5)],
    # Sequence
    "Embedding": [case({X: (7,)}), case({X: (5,)}, num_embeddings=50, embedding_dim=4, padding_idx=0)],
    "RNN": [case({X: (6, 4)}), case({X: (6, 4)}, nonlinearity="relu", num_layers=2, dropout=0.2),
            case({X: (6, 4)}, hidden_size=5, bidirectional=True, output="last"),
            case({X: (6, 4)}, hidden_size=5, output="last", bias=False)],
    "LSTM": [case({X: (6, 4)}), case({X: (6, 4)}, hidden_size=5, bidirectional=True, output="last"),
             case({X: (6, 4)}, hidden_size=3, num_layers=3, bidirectional=True),
             case({X: (6, 4)}, output="last", num_layers=2)],
    "GRU": [case({X: (6, 4)}), case({X: (6, 4)}, hidden_size=5, bidirectional=True, output="last"),
            case({X: (6, 4)}, num_layers=2, dropout=0.3, output="last")],
    "PositionalEncoding": [case({X: (6, 8)}), case({X: (6, 7)}, max_len=6, dropout=0.0)],
    "MultiheadAttention": [case({X: (6, 8)}), case({X: (6, 8)}, num_heads=4, causal=True, dropout=0.1, bias=False),
                           case({X: (1, 3)}, num_heads=1),
                           case({X: (6, 8), "context": (9, 8)}, cross=True, num_heads=4),
                           case({X: (6, 8), "context": (4, 8)}, cross=True, causal=True, bias=False)],
    "TransformerEncoderLayer": [case({X: (6, 8)}),
                                case({X: (6, 8)}, nhead=4, activation="gelu", norm_first=True, bias=False,
                                     dim_feedforward=16)],
    "TransformerDecoderLayer": [case({"tgt": (6, 8), "memory": (9, 8)}),
                                case({"tgt": (5, 8), "memory": (3, 8)}, nhead=4, causal=True, activation="gelu",
                                     norm_first=True, dim_feedforward=16),
                                case({"tgt": (4, 6), "memory": (4, 6)}, nhead=3, causal=True, bias=False,
                                     dropout=0.0)],
    # Graph
    "GCNConv": [case({"x": (5, 3), "adj": (5, 5)}),
                case({"x": (4, 6), "adj": (4, 4)}, out_channels=2, bias=False, add_self_loops=False, normalize=False)],
    "GATConv": [case({"x": (5, 3), "adj": (5, 5)}), case({"x": (5, 3), "adj": (5, 5)}, heads=3, concat=False),
                case({"x": (4, 6), "adj": (4, 4)}, heads=2, out_channels=3, dropout=0.5, add_self_loops=False)],
}

REGISTRY = [spec.name for spec in blocks.all_blocks()]


def sample_input(spec, port, shape, params):
    """A random batch for one input port: token ids for Embedding, a 0/1 symmetric adjacency for ``adj``."""
    if spec.name == "Embedding":
        return torch.randint(0, params["num_embeddings"], (BATCH, *shape))
    if port == "adj":
        upper = (torch.rand(BATCH, *shape) < 0.4).float().triu(1)
        return upper + upper.transpose(-1, -2)
    return torch.randn(BATCH, *shape)


def run_emit(spec, in_shapes, params, inputs):
    g = torch.fx.Graph()
    args = tuple(g.placeholder(f"arg_{port}") for port in in_shapes)  # "in" is a keyword
    out = spec.emit(g, args, in_shapes, params)
    g.output(out)
    g.lint()
    return torch.fx.GraphModule(torch.nn.Module(), g)(*inputs)


def outputs_as_tuple(out):
    return out if isinstance(out, tuple) else (out,)


@pytest.mark.parametrize("name", REGISTRY)
def test_block_output_shape_matches_torch(name):
    spec = blocks.get(name)
    assert name in CASES, f"block {name} has no entry in CASES of {__file__}: add its representative shapes"
    for in_shapes, given in CASES[name]:
        params = spec.coerce_params(given)
        where = f"{name} with inputs {in_shapes} and params {given}"
        if spec.is_input:
            assert spec.infer({}, params) == {"out": tuple(given["shape"])}, where
            continue
        ports = [p.name for p in spec.input_ports(params)]
        assert list(in_shapes) == ports, f"{where}: the case must give every input port, in order {ports}"
        declared = spec.infer(in_shapes, params)
        assert [p.name for p in spec.output_ports(params)] == list(declared), where
        inputs = [sample_input(spec, port, shape, params) for port, shape in in_shapes.items()]
        if spec.emit is not None:
            runs = [run_emit(spec, in_shapes, params, inputs)]
        else:
            call = spec.constructor(in_shapes, params)
            module = call.make()
            assert isinstance(module, torch.nn.Module), where
            assert type(module) is call.cls, where
            runs = []
            for training in (True, False):  # eval can take other code paths (fused attention)
                module.train(training)
                runs.append(module(*inputs))
            if list(module.parameters()):  # every weight must be wired into the output
                sum(t.sum() for t in outputs_as_tuple(runs[0])).backward()
                unused = [n for n, p in module.named_parameters() if p.grad is None]
                assert unused == [], f"{where}: parameters {unused} get no gradient"
        for out in runs:
            got = outputs_as_tuple(out)
            assert len(got) == len(declared), where
            for (port, shape), tensor in zip(declared.items(), got):
                assert tuple(tensor.shape) == (BATCH, *shape), f"{where}: port {port} declared {shape}"
                assert tensor.is_floating_point(), where
                assert torch.isfinite(tensor).all(), f"{where}: non-finite values on port {port}"


@pytest.mark.parametrize("name", REGISTRY)
def test_block_declaration(name):
    spec = blocks.get(name)
    assert spec.doc.strip() and "\n" not in spec.doc, f"{name}: needs a one-line doc"
    assert blocks.category(spec.category) is not None
    assert (spec.constructor is not None) + (spec.emit is not None) + spec.is_input == 1, \
        f"{name}: needs exactly one of a constructor, an emit, or is_input"
    for p in spec.params:
        assert p.doc.strip(), f"{name}.{p.name}: needs a doc"
        assert p.coerce(p.default) == p.default, f"{name}.{p.name}: default {p.default!r} is not canonical"
    for key in spec.key_params:
        spec.param(key)
    # every value a person can set survives a trip through the graph file
    for _, given in [(None, {}), *CASES.get(name, [])]:
        params = spec.coerce_params(given)
        written = json.loads(json.dumps({k: spec.param(k).to_json(v) for k, v in params.items()}))
        assert spec.coerce_params(written) == params, f"{name}: {given} changes through JSON"


def test_cases_name_only_registered_blocks():
    assert sorted(set(CASES) - set(REGISTRY)) == []


ICONS = Path(__file__).resolve().parents[2] / "assets" / "icons"


def test_every_category_has_its_own_colour_and_an_icon_file():
    entries = blocks.categories()
    assert [c.name for c in entries] == list(dict.fromkeys(s.category for s in blocks.all_blocks()))
    assert len({c.color.lower() for c in entries}) == len(entries)
    for entry in entries:
        assert (ICONS / entry.icon).is_file(), f"{entry.name}: no icon {entry.icon} in {ICONS}"


def test_a_category_is_plain_data_checked_on_declaration():
    with pytest.raises(ValueError, match="#rrggbb"):
        blocks.Category("Odd", color="orange", icon="block.svg")
    with pytest.raises(ValueError, match="already registered"):
        blocks.register_category(blocks.Category("Dense", color="#000000", icon="dense.svg"))


@pytest.mark.parametrize("name", [n for n in REGISTRY if blocks.get(n).constructor is not None])
def test_parameter_count_on_meta_device_matches_real_module(name):
    # The editor counts parameters on the meta device; every builder must work there.
    spec = blocks.get(name)
    in_shapes, given = CASES[name][-1]
    params = spec.coerce_params(given)
    with torch.device("meta"):
        meta = spec.make(in_shapes, params)
    real = spec.make(in_shapes, params)
    assert sum(p.numel() for p in meta.parameters()) == sum(p.numel() for p in real.parameters())
