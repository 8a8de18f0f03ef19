"""The parameter counts the editor shows equal the counts of torch's own modules."""

from __future__ import annotations

from torch import nn

from studio.graph import Graph, validate


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def chain(graph, *nodes):
    prev = None
    for node_id, block, params in nodes:
        graph.add_node(block, params, id=node_id)
        if prev is not None:
            graph.connect(prev, "out", node_id, "in")
        prev = node_id
    return graph


def test_lstm_classifier_counts_like_torch():
    g = chain(Graph(), ("seq", "Input", {"shape": [20, 8]}),
              ("lstm", "LSTM", {"hidden_size": 32, "output": "last"}),
              ("head", "Linear", {"out_features": 3}))
    assert validate(g) == []
    assert g.param_count("lstm") == count(nn.LSTM(8, 32)) == 4 * (8 * 32 + 32 * 32 + 2 * 32)
    assert g.total_params() == count(nn.LSTM(8, 32)) + count(nn.Linear(32, 3))
    assert g.shapes.output("lstm") == (32,)


def test_stacked_bidirectional_gru_counts_like_torch():
    g = chain(Graph(), ("seq", "Input", {"shape": [20, 8]}),
              ("gru", "GRU", {"hidden_size": 16, "num_layers": 2, "bidirectional": True}))
    assert g.param_count("gru") == count(nn.GRU(8, 16, num_layers=2, bidirectional=True))
    assert g.shapes.output("gru") == (20, 32)


def test_text_transformer_counts_like_torch():
    g = chain(Graph(), ("tokens", "Input", {"shape": [16], "dtype": "long"}),
              ("emb", "Embedding", {"num_embeddings": 100, "embedding_dim": 32}),
              ("pos", "PositionalEncoding", {}),
              ("enc", "TransformerEncoderLayer", {"nhead": 4, "dim_feedforward": 64}),
              ("attn", "MultiheadAttention", {"num_heads": 4, "causal": True}))
    assert validate(g) == []
    assert g.param_count("emb") == 3200
    assert g.param_count("pos") == 0
    assert g.param_count("enc") == count(nn.TransformerEncoderLayer(32, 4, 64))
    assert g.param_count("attn") == count(nn.MultiheadAttention(32, 4)) == 4 * 32 * 32 + 4 * 32
    assert g.shapes.output("attn") == (16, 32)


def test_gcn_counts_weights_and_bias_and_checks_node_count():
    g = Graph()
    g.add_node("Input", {"shape": [34, 5]}, id="features")
    g.add_node("Input", {"shape": [34, 34]}, id="edges")
    g.add_node("GCNConv", {"out_channels": 16}, id="gcn")
    g.connect("features", "out", "gcn", "x")
    g.connect("edges", "out", "gcn", "adj")
    assert validate(g) == []
    assert g.param_count("gcn") == 5 * 16 + 16
    assert g.shapes.output("gcn") == (34, 16)
    g.set_params("edges", {"shape": [30, 30]})
    problems = validate(g)
    assert [(p.node, p.port) for p in problems] == [("gcn", "adj")]
    assert "does not match the 34 nodes of x [34, 5]" in problems[0].message


def test_decoder_and_cross_attention_count_like_torch():
    g = Graph()
    g.add_node("Input", {"shape": [10, 16]}, id="source")
    g.add_node("Input", {"shape": [7, 16]}, id="target")
    g.add_node("TransformerEncoderLayer", {"nhead": 4, "dim_feedforward": 32}, id="enc")
    g.add_node("TransformerDecoderLayer", {"nhead": 4, "dim_feedforward": 32, "causal": True}, id="dec")
    g.add_node("MultiheadAttention", {"num_heads": 2, "cross": True}, id="cross")
    g.connect("source", "out", "enc", "in")
    g.connect("target", "out", "dec", "tgt")
    g.connect("enc", "out", "dec", "memory")
    g.connect("dec", "out", "cross", "in")
    g.connect("enc", "out", "cross", "context")
    assert validate(g) == []
    assert g.param_count("dec") == count(nn.TransformerDecoderLayer(16, 4, 32))
    assert g.param_count("cross") == count(nn.MultiheadAttention(16, 2)) == 4 * 16 * 16 + 4 * 16
    assert g.shapes.output("dec") == (7, 16) and g.shapes.output("cross") == (7, 16)


def test_new_activations_and_shape_blocks_have_no_weights():
    g = chain(Graph(), ("x", "Input", {"shape": [3, 8, 8]}),
              ("act", "Hardswish", {}), ("six", "ReLU6", {}), ("gate", "Hardsigmoid", {}),
              ("perm", "Permute", {"dims": [2, 3, 1]}), ("swap", "Transpose", {"dim0": 1, "dim1": -1}),
              ("avg", "Mean", {"dims": [1]}))
    assert validate(g) == []
    assert [g.param_count(n) for n in ("act", "six", "gate", "perm", "swap", "avg")] == [0] * 6
    assert g.shapes.output("perm") == (8, 8, 3)
    assert g.shapes.output("swap") == (3, 8, 8)
    assert g.shapes.output("avg") == (8, 8)


def test_prelu_and_instance_norm_count_like_torch():
    g = chain(Graph(), ("img", "Input", {"shape": [6, 8, 8]}),
              ("slopes", "PReLU", {"num_parameters": 6}), ("one", "PReLU", {}),
              ("norm", "InstanceNorm2d", {"affine": True}), ("plain", "InstanceNorm2d", {}),
              ("drop", "Dropout2d", {}), ("pool", "AdaptiveMaxPool2d", {"output_size": 2}),
              ("soft", "Softplus", {"beta": 2.0}))
    assert validate(g) == []
    assert g.param_count("slopes") == count(nn.PReLU(6)) == 6
    assert g.param_count("one") == count(nn.PReLU()) == 1
    assert g.param_count("norm") == count(nn.InstanceNorm2d(6, affine=True)) == 12
    assert [g.param_count(n) for n in ("plain", "drop", "pool", "soft")] == [0, 0, 0, 0]
    assert g.shapes.output("pool") == (6, 2, 2)
    g.set_params("slopes", {"num_parameters": 5})
    problems = validate(g)
    assert [(p.node, p.port) for p in problems] == [("slopes", "in")]
    assert "num_parameters 5 must be 1 (one slope for all) or the input's channels 6" in problems[0].message
