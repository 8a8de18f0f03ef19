"""The blocks real models need compile to the calls a person would write: plain tensor
methods for the weightless ones (``x.permute(0, 2, 1)``), torch.nn modules for the rest,
and the exported Python file computes what the compiled module computes."""

from __future__ import annotations

import torch
from torch import nn

from studio.compile import compile_graph
from studio.export import export_python
from studio.graph import Graph, validate

torch.set_num_threads(1)


def _exec(source: str) -> dict:
    namespace: dict = {"__name__": "exported"}
    exec(compile(source, "exported.py", "exec"), namespace)
    return namespace


def _same_as_export(graph: Graph, *inputs):
    model = compile_graph(graph).eval()
    source = export_python(graph)
    exported = _exec(source)["Network"]().eval()
    exported.load_state_dict(model.state_dict())  # the same keys
    with torch.no_grad():
        ours, theirs = model(*inputs), exported(*inputs)
    ours = ours if isinstance(ours, tuple) else (ours,)
    theirs = theirs if isinstance(theirs, tuple) else (theirs,)
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, b)
    return model, source, ours


def test_shape_blocks_compile_to_plain_tensor_methods():
    g = Graph()
    g.add_node("Input", {"shape": [4, 6]}, id="seq")
    g.add_node("Permute", {"dims": [2, 1]}, id="perm")
    g.add_node("Transpose", {"dim0": -1, "dim1": 1}, id="back")
    g.add_node("Mean", {"dims": [1], "keepdim": True}, id="avg")
    g.add_node("Sum", {"dims": [-1]}, id="total")
    g.add_node("MatMul", {}, id="gram")
    for src, dst, port in (("seq", "perm", "in"), ("perm", "back", "in"), ("seq", "gram", "a"),
                           ("perm", "gram", "b"), ("gram", "avg", "in"), ("avg", "total", "in")):
        g.connect(src, "out", dst, port)
    assert validate(g) == []
    assert g.shapes.output("gram") == (4, 4) and g.shapes.output("avg") == (1, 4)
    assert g.shapes.output("total") == (1,) and g.shapes.output("back") == (4, 6)
    x = torch.randn(3, 4, 6)
    model, source, (back, total) = _same_as_export(g, x)
    assert dict(model.named_children()) == {}  # no submodules: plain calls
    for code in (model.code, source):
        assert "seq.permute(0, 2, 1)" in code
        assert "perm.transpose(-1, 1)" in code
        assert "torch.matmul(seq, perm)" in code
        assert "gram.mean(1, keepdim = True)" in code
        assert "avg.sum(-1)" in code
    torch.testing.assert_close(back, x)
    torch.testing.assert_close(total, (x @ x.transpose(1, 2)).mean(1, keepdim=True).sum(-1))


def test_encoder_decoder_with_cross_attention_exports_and_keeps_torch_keys():
    g = Graph()
    g.add_node("Input", {"shape": [9, 8]}, id="source")
    g.add_node("Input", {"shape": [5, 8]}, id="target")
    g.add_node("TransformerEncoderLayer", {"nhead": 2, "dim_feedforward": 16}, id="enc")
    g.add_node("TransformerDecoderLayer", {"nhead": 2, "dim_feedforward": 16, "causal": True}, id="dec")
    g.add_node("MultiheadAttention", {"num_heads": 4, "cross": True}, id="look")
    g.add_node("Hardswish", {}, id="act")
    g.connect("source", "out", "enc", "in")
    g.connect("target", "out", "dec", "tgt")
    g.connect("enc", "out", "dec", "memory")
    g.connect("dec", "out", "look", "in")
    g.connect("enc", "out", "look", "context")
    g.connect("look", "out", "act", "in")
    assert validate(g) == []
    torch.manual_seed(0)
    model, source, (out,) = _same_as_export(g, torch.randn(2, 9, 8), torch.randn(2, 5, 8))
    assert out.shape == (2, 5, 8)
    assert "self.look(dec, enc)" in source and "self.dec(target, enc)" in source
    assert "self.act = nn.Hardswish()" in source
    assert "DecoderLayer(8, 2, dim_feedforward=16, causal=True)" in source
    assert "SelfAttention(8, 4, cross=True)" in source
    plain = nn.TransformerDecoderLayer(8, 2, dim_feedforward=16, batch_first=True)
    assert [k[len("dec."):] for k in model.state_dict() if k.startswith("dec.")] == list(plain.state_dict())
    attention = nn.MultiheadAttention(8, 4, batch_first=True)
    assert [k[len("look."):] for k in model.state_dict() if k.startswith("look.")] == list(attention.state_dict())


def test_attention_without_cross_reads_as_before():
    g = Graph()
    g.add_node("Input", {"shape": [5, 8]}, id="x")
    g.add_node("MultiheadAttention", {"num_heads": 2, "causal": True}, id="attn")
    g.connect("x", "out", "attn", "in")
    source = export_python(g)
    assert "self.attn = SelfAttention(8, 2, causal=True)" in source
    assert "self.attn(x)" in source


def test_module_blocks_use_torch_classes_and_keys():
    g = Graph()
    nodes = [("img", "Input", {"shape": [3, 8, 8]}), ("conv", "Conv2d", {"out_channels": 6, "padding": 1}),
             ("norm", "InstanceNorm2d", {"affine": True, "track_running_stats": True}),
             ("slopes", "PReLU", {"num_parameters": 6}), ("drop", "Dropout2d", {"p": 0.2}),
             ("pool", "AdaptiveMaxPool2d", {"output_size": 1}), ("flat", "Squeeze", {"dim": -1}),
             ("flatter", "Squeeze", {"dim": 2}), ("row", "Unsqueeze", {"dim": 1}),
             ("avg", "AvgPool1d", {"kernel_size": 2}), ("soft", "Softplus", {"beta": 2.0}),
             ("six", "ReLU6", {}), ("gate", "Hardsigmoid", {})]
    for node_id, block, params in nodes:
        g.add_node(block, params, id=node_id)
    for (a, *_), (b, *_) in zip(nodes, nodes[1:]):
        g.connect(a, "out", b, "in")
    assert validate(g) == []
    assert g.shapes.output("flatter") == (6,) and g.shapes.output("row") == (1, 6)
    assert g.shapes.output("gate") == (1, 3)
    torch.manual_seed(0)
    model, source, (out,) = _same_as_export(g, torch.randn(2, 3, 8, 8))
    assert out.shape == (2, 1, 3)
    norm = nn.InstanceNorm2d(6, affine=True, track_running_stats=True)
    assert [k for k in model.state_dict() if k.startswith(("norm.", "slopes."))] == \
        [f"norm.{k}" for k in norm.state_dict()] + ["slopes.weight"]
    for line in ("self.norm = nn.InstanceNorm2d(6, affine=True, track_running_stats=True)",
                 "self.slopes = nn.PReLU(num_parameters=6)", "self.drop = nn.Dropout2d(0.2)",
                 "self.pool = nn.AdaptiveMaxPool2d(1)", "self.avg = nn.AvgPool1d(2)",
                 "self.soft = nn.Softplus(beta=2.0)", "self.six = nn.ReLU6()", "self.gate = nn.Hardsigmoid()",
                 "pool.squeeze(-1)", "flat.squeeze(2)", "flatter.unsqueeze(1)"):
        assert line in source, line
