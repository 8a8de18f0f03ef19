"""Bad inputs get a ShapeError that names the port and says what was expected."""

from __future__ import annotations

import pytest

import blocks
from blocks import ShapeError


def infer(name, in_shapes, **given):
    spec = blocks.get(name)
    return spec.infer(in_shapes, spec.coerce_params(given))


@pytest.mark.parametrize(
    "name, in_shapes, given, port, message",
    [
        ("Linear", {"in": ()}, {}, "in", "in: expected [..., in_features], got a scalar"),
        ("Conv2d", {"in": (400,)}, {}, "in", "in: expected [C, H, W], got [400]"),
        ("Conv1d", {"in": (3, 4, 4)}, {}, "in", "in: expected [C, L], got [3, 4, 4]"),
        ("Conv2d", {"in": (3, 4, 4)}, {"kernel_size": 5}, "in", "smaller than kernel_size [5, 5]"),
        ("Conv2d", {"in": (3, 8, 8)}, {"groups": 2}, "in", "groups 2 must divide in_channels 3"),
        ("MultiheadAttention", {"in": (10, 30)}, {"num_heads": 4}, "in",
         "in: embed_dim 30 (the input's last size) must be divisible by num_heads 4"),
        ("TransformerEncoderLayer", {"in": (10, 30)}, {"nhead": 4}, "in",
         "in: d_model 30 (the input's last size) must be divisible by nhead 4"),
        ("MultiheadAttention", {"in": (30,)}, {}, "in", "in: expected [L, E], got [30]"),
        ("LSTM", {"in": (400,)}, {}, "in", "in: expected [L, F], got [400]"),
        ("GRU", {"in": (2, 3, 4)}, {}, "in", "in: expected [L, F], got [2, 3, 4]"),
        ("Embedding", {"in": (5, 8)}, {}, "in", "in: expected [L] of integer token ids, got [5, 8]"),
        ("Embedding", {"in": (5,)}, {"num_embeddings": 10, "padding_idx": 10}, None,
         "padding_idx 10 must be a token id below num_embeddings 10"),
        ("PositionalEncoding", {"in": (600, 8)}, {"max_len": 512}, "in",
         "in: sequence length 600 exceeds max_len 512"),
        ("Concat", {"in1": (3, 4), "in2": (3, 5)}, {}, "in2", "in2: [3, 5] differs from in1 [3, 4] outside dim 1"),
        ("Concat", {"in1": (3, 4), "in2": (3, 4, 1)}, {}, "in2", "in2: rank of [3, 4, 1] differs from in1 [3, 4]"),
        ("Add", {"in1": (4, 5), "in2": (4, 6)}, {}, "in2", "in2: cannot add [4, 6] to in1 [4, 5]"),
        ("Add", {"in1": (4, 5), "in2": (5,)}, {}, "in2", "in2: cannot add [5] to in1 [4, 5]: ranks differ"),
        ("Reshape", {"in": (2, 3, 4)}, {"shape": [5, 5]}, "in",
         "in: cannot reshape [2, 3, 4] (24 values) into [5, 5] (25 values)"),
        ("Reshape", {"in": (2, 3, 4)}, {"shape": [5, -1]}, "in", "in: cannot reshape [2, 3, 4] (24 values) into [5, -1]"),
        ("Flatten", {"in": (3, 4)}, {"start_dim": 0}, "in", "dim 0 is the batch dimension"),
        ("GCNConv", {"x": (5, 3), "adj": (4, 4)}, {}, "adj",
         "adj: [4, 4] does not match the 5 nodes of x [5, 3]; expected [5, 5]"),
        ("GCNConv", {"x": (5, 3), "adj": (5, 4)}, {}, "adj", "adj: expected a square [N, N] adjacency, got [5, 4]"),
        ("GATConv", {"x": (5,), "adj": (5, 5)}, {}, "x", "x: expected [N, F] node features, got [5]"),
        ("GATConv", {"x": (6, 3), "adj": (5, 5)}, {"heads": 2}, "adj", "does not match the 6 nodes of x"),
        ("Permute", {"in": (3, 4, 5)}, {"dims": [2, 1]}, "in",
         "in: dims [2, 1] must be a permutation of 1..3, each dimension of [3, 4, 5] once"),
        ("Permute", {"in": (3, 4)}, {"dims": [1, 1]}, "in", "must be a permutation of 1..2"),
        ("Permute", {"in": (3, 4)}, {"dims": [2, 3]}, "in", "e.g. [2, 1]"),
        ("Transpose", {"in": (3, 4)}, {"dim0": 0, "dim1": 1}, "in", "dim 0 is the batch dimension"),
        ("Transpose", {"in": (3, 4)}, {"dim0": -3, "dim1": 1}, "in", "dim 0 is the batch dimension"),
        ("Transpose", {"in": (3, 4)}, {"dim0": 1, "dim1": 3}, "in", "dim 3 is out of range for a tensor of rank 3"),
        ("Mean", {"in": (3, 4)}, {"dims": [0]}, "in", "dim 0 is the batch dimension"),
        ("Mean", {"in": (3, 4)}, {"dims": [2, -1]}, "in", "dims [2, -1] name dimension 2 twice (2 and -1)"),
        ("Sum", {"in": (3, 4)}, {"dims": [4]}, "in", "dim 4 is out of range"),
        ("MatMul", {"a": (4, 5), "b": (6, 3)}, {}, "b",
         "b: a [4, 5] @ b [6, 3]: a's last size 5 must equal b's second-to-last 6"),
        ("MatMul", {"a": (5,), "b": (5, 3)}, {}, "a", "a: expected a matrix [..., rows, columns], got [5]; Unsqueeze"),
        ("MatMul", {"a": (2, 4, 5), "b": (5, 3)}, {}, "b", "b: a [2, 4, 5] @ b [5, 3]: ranks differ"),
        ("MatMul", {"a": (2, 4, 5), "b": (3, 5, 3)}, {}, "b", "leading sizes 2 and 3 differ"),
        ("MultiheadAttention", {"in": (6, 8), "context": (9, 6)}, {"cross": True}, "context",
         "context: expected [S, 8] (any length S, embed_dim 8 as in [6, 8]), got [9, 6]"),
        ("TransformerDecoderLayer", {"tgt": (6, 8), "memory": (9, 4)}, {}, "memory",
         "memory: expected [S, 8] (any length S, d_model 8 as tgt [6, 8]), got [9, 4]"),
        ("TransformerDecoderLayer", {"tgt": (6, 9), "memory": (9, 9)}, {}, "tgt",
         "tgt: d_model 9 (the last size of tgt) must be divisible by nhead 2"),
        ("TransformerDecoderLayer", {"tgt": (9,), "memory": (9, 9)}, {}, "tgt", "tgt: expected [L, d_model], got [9]"),
        ("Split", {"in": (6, 4)}, {"sizes": [2, 3]}, "in",
         "in: sizes [2, 3] add up to 5, but dim 1 of [6, 4] has size 6; make them add up to 6"),
        ("Split", {"in": (6, 4)}, {"sizes": [2, 4], "dim": 0}, "in", "dim 0 is the batch dimension"),
        ("Chunk", {"in": (6, 4)}, {"chunks": 4}, "in",
         "in: torch.chunk cuts dim 1 of [6, 4] (size 6) into 3 pieces [2, 2, 2], not 4; choose chunks that divides 6"),
        ("Chunk", {"in": (2, 4)}, {"chunks": 3}, "in", "into 2 pieces [1, 1], not 3"),
        ("PReLU", {"in": (3, 8, 8)}, {"num_parameters": 8}, "in",
         "in: num_parameters 8 must be 1 (one slope for all) or the input's channels 3 (the first size of [3, 8, 8])"),
        ("InstanceNorm2d", {"in": (3, 1, 1)}, {}, "in", "in: [3, 1, 1] has one value per channel"),
        ("InstanceNorm2d", {"in": (3, 8)}, {}, "in", "in: expected [C, H, W], got [3, 8]"),
        ("Dropout2d", {"in": (3, 8)}, {}, "in", "in: expected [C, H, W], got [3, 8]"),
        ("AvgPool1d", {"in": (3, 8, 8)}, {}, "in", "in: expected [C, L], got [3, 8, 8]"),
        ("AdaptiveMaxPool2d", {"in": (3, 8)}, {}, "in", "in: expected [C, H, W], got [3, 8]"),
        ("Unsqueeze", {"in": (3, 4)}, {"dim": 0}, "in",
         "in: dim 0 would put the new dimension before the batch (dim 0); choose 1 to 3 (or -3 to -1)"),
        ("Unsqueeze", {"in": (3, 4)}, {"dim": -4}, "in", "dim -4 would put the new dimension before the batch"),
        ("Unsqueeze", {"in": (3, 4)}, {"dim": 4}, "in",
         "in: dim 4 is out of range for [3, 4]: the result has rank 4 with the batch, so dim runs from 1 to 3"),
        ("Unsqueeze", {"in": (3, 4)}, {"dim": -5}, "in", "dim -5 is out of range"),
        ("Squeeze", {"in": (3, 4)}, {"dim": 0}, "in", "dim 0 is the batch dimension"),
    ],
)
def test_bad_input_names_port_and_expectation(name, in_shapes, given, port, message):
    with pytest.raises(ShapeError) as caught:
        infer(name, in_shapes, **given)
    assert message in str(caught.value)  # the port leads the text, once
    assert not caught.value.message.startswith(f"{port}: {port}: ")
    assert caught.value.port == port


def test_recurrent_output_sizes_follow_direction_and_mode():
    assert infer("LSTM", {"in": (12, 8)}, hidden_size=32) == {"out": (12, 32)}
    assert infer("LSTM", {"in": (12, 8)}, hidden_size=32, bidirectional=True) == {"out": (12, 64)}
    assert infer("GRU", {"in": (12, 8)}, hidden_size=32, output="last") == {"out": (32,)}
    assert infer("RNN", {"in": (12, 8)}, hidden_size=7, bidirectional=True, output="last") == {"out": (14,)}


def test_graph_layer_output_sizes():
    graph = {"x": (34, 5), "adj": (34, 34)}
    assert infer("GCNConv", graph, out_channels=4) == {"out": (34, 4)}
    assert infer("GATConv", graph, out_channels=4, heads=3) == {"out": (34, 12)}
    assert infer("GATConv", graph, out_channels=4, heads=3, concat=False) == {"out": (34, 4)}
