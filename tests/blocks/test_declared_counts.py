"""Every block that declares its parameter count (so validate counts without torch) declares the
count of the module it really builds, over the settings that change it: bias off, groups, layers,
directions, heads. A block gaining a declared count without a place here fails the first test."""

from __future__ import annotations

import itertools

import pytest
import torch

import blocks
from blocks import ShapeError

# Input shapes for each block (any that its rule accepts), and settings beyond the defaults, each bool
# flipped and each choice taken, which are tried as well.
SHAPES = {
    "Flatten": {"in": (3, 4, 5)}, "Dropout": {"in": (7,)}, "Dropout2d": {"in": (3, 4, 4)},
    "Linear": {"in": (4, 7)}, "BatchNorm1d": {"in": (6, 5)}, "LayerNorm": {"in": (5, 9)},
    "PReLU": {"in": (6, 4, 4)}, "Softmax": {"in": (5,)}, "LogSoftmax": {"in": (5,)},
    "Conv1d": {"in": (4, 20)}, "Conv2d": {"in": (6, 12, 12)}, "ConvTranspose2d": {"in": (6, 5, 5)},
    "MaxPool1d": {"in": (3, 10)}, "MaxPool2d": {"in": (3, 8, 8)}, "AvgPool1d": {"in": (3, 10)},
    "AvgPool2d": {"in": (3, 8, 8)}, "AdaptiveAvgPool2d": {"in": (3, 8, 8)}, "AdaptiveMaxPool2d": {"in": (3, 8, 8)},
    "BatchNorm2d": {"in": (5, 4, 4)}, "InstanceNorm2d": {"in": (5, 4, 4)}, "GroupNorm": {"in": (6, 4, 4)},
    "Upsample": {"in": (2, 4, 4)}, "Embedding": {"in": (9,)},
    "RNN": {"in": (7, 5)}, "LSTM": {"in": (7, 5)}, "GRU": {"in": (7, 5)},
    "PositionalEncoding": {"in": (7, 6)},
    "MultiheadAttention": {"in": (7, 12), "context": (3, 12)},
    "TransformerEncoderLayer": {"in": (7, 12)},
    "TransformerDecoderLayer": {"tgt": (7, 12), "memory": (4, 12)},
    "GCNConv": {"x": (6, 5), "adj": (6, 6)}, "GATConv": {"x": (6, 5), "adj": (6, 6)},
    **{name: {"in": (4, 3)} for name in ("ReLU", "LeakyReLU", "Sigmoid", "Tanh", "GELU", "ELU", "SiLU", "Heaviside",
                                         "ReLU6", "Hardsigmoid", "Hardswish", "Softplus")},
}
EXTRA = {
    "Linear": [{"out_features": 1}],
    "PReLU": [{"num_parameters": 6}],
    "Conv1d": [{"groups": 2, "out_channels": 6, "kernel_size": 5}, {"groups": 4, "out_channels": 4, "bias": False}],
    "Conv2d": [{"groups": 3, "out_channels": 9, "kernel_size": [3, 5]}, {"groups": 6, "out_channels": 6}],
    "ConvTranspose2d": [{"groups": 2, "out_channels": 4, "kernel_size": [2, 3], "stride": 2},
                        {"groups": 3, "out_channels": 9, "bias": False}],
    "GroupNorm": [{"num_groups": 3}, {"num_groups": 2, "affine": False}],
    "Embedding": [{"num_embeddings": 50, "embedding_dim": 3, "padding_idx": 0}],
    **{kind: [{"num_layers": 3}, {"num_layers": 2, "bidirectional": True}, {"num_layers": 3, "bidirectional": True,
              "bias": False, "hidden_size": 7}, {"hidden_size": 4, "output": "last", "bidirectional": True}]
       for kind in ("RNN", "LSTM", "GRU")},
    "MultiheadAttention": [{"num_heads": 4}, {"num_heads": 3, "bias": False, "cross": True}],
    "TransformerEncoderLayer": [{"nhead": 4, "dim_feedforward": 10, "bias": False, "norm_first": True}],
    "TransformerDecoderLayer": [{"nhead": 3, "dim_feedforward": 10, "bias": False}],
    "GATConv": [{"heads": 3, "out_channels": 2}, {"heads": 4, "concat": False}, {"heads": 2, "concat": False,
                                                                                   "bias": False}],
}


def declared():
    return [s for s in blocks.all_blocks() if s.param_count is not None]


def settings(spec):
    """The defaults, each bool flipped, each choice taken, every bool flipped at once, and the extras."""
    out = [{}]
    for p in spec.params:
        if p.kind == "bool":
            out.append({p.name: not p.default})
        elif p.kind == "choice":
            out += [{p.name: c} for c in p.choices if c != p.default]
    out.append({p.name: not p.default for p in spec.params if p.kind == "bool"})
    return out + EXTRA.get(spec.name, [])


def built_count(spec, shapes, params):
    torch.manual_seed(0)
    module = spec.make(shapes, params)
    return sum(p.numel() for p in module.parameters())


def test_every_block_with_a_module_declares_a_count_and_is_checked_here():
    with_module = {s.name for s in blocks.all_blocks() if s.constructor is not None}
    assert {s.name for s in declared()} == with_module
    assert set(SHAPES) == with_module
    assert set(EXTRA) <= with_module


@pytest.mark.parametrize("spec", declared(), ids=lambda s: s.name)
def test_the_declared_count_is_the_built_modules(spec):
    tried = 0
    for changes in settings(spec):
        params = spec.coerce_params(changes)
        shapes = dict(SHAPES[spec.name])
        ports = {p.name for p in spec.input_ports(params)}
        shapes = {k: v for k, v in shapes.items() if k in ports}
        try:
            spec.infer(shapes, params)
        except ShapeError:
            continue  # a setting this input does not take (groups that do not divide it)
        declared_count = spec.param_count(shapes, params)
        assert declared_count == built_count(spec, shapes, params), (spec.name, changes)
        tried += 1
    assert tried >= min(2, len(settings(spec)))


def test_extras_are_all_taken():
    """Every extra setting fits its block's input here, so none is skipped unnoticed."""
    for name, extras in EXTRA.items():
        spec = blocks.get(name)
        for changes in extras:
            params = spec.coerce_params(changes)
            ports = {p.name for p in spec.input_ports(params)}
            spec.infer({k: v for k, v in SHAPES[name].items() if k in ports}, params)


def test_counts_agree_over_a_grid_of_recurrent_and_attention_settings():
    for kind, layers, bidi, bias in itertools.product(("RNN", "LSTM", "GRU"), (1, 2), (False, True), (False, True)):
        spec = blocks.get(kind)
        params = spec.coerce_params({"num_layers": layers, "bidirectional": bidi, "bias": bias, "hidden_size": 3})
        shapes = {"in": (4, 6)}
        assert spec.param_count(shapes, params) == built_count(spec, shapes, params), (kind, layers, bidi, bias)
