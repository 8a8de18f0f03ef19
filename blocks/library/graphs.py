"""Graph neural network blocks, in plain torch with a dense adjacency.

One graph is one sample: port ``x`` takes node features [N, F] and port ``adj``
a dense [N, N] adjacency (adj[i, j] = 1 when node i receives from node j;
symmetric for an undirected graph). A batch is then [B, N, F] with [B, N, N],
so graphs in one batch share N (pad smaller graphs with isolated nodes).
"""

from __future__ import annotations

from ..registry import Category, register, register_category
from ..spec import BlockSpec, Constructor, Param, Port, ShapeError
from ._rules import OUT, fmt, library_class, linear_count, need_rank

C = register_category(Category("Graph", color="#c2588a", icon="graph.svg")).name

PORTS = (
    Port("x", "node features [N, F]"),
    Port("adj", "adjacency [N, N], adj[i, j] = 1 when node i receives from node j"),
)


def _check_graph(s):
    x, adj = s["x"], s["adj"]
    need_rank(x, (2,), "[N, F] node features", "x")
    n = x[0]
    if len(adj) != 2 or adj[0] != adj[1]:
        raise ShapeError(f"adj: expected a square [N, N] adjacency, got {fmt(adj)}", "adj")
    if adj[0] != n:
        raise ShapeError(f"adj: {fmt(adj)} does not match the {n} nodes of x {fmt(x)}; expected [{n}, {n}]", "adj")
    return n


def _graph_conv_constructor(name):
    """``<name>(in_channels, out_channels, ...)``; in_channels is the node features' size."""
    def constructor(s, p):
        kw = dict(p)
        return Constructor(library_class(name), (s["x"][-1], kw.pop("out_channels")), kw)
    return constructor


def _gcn_infer(s, p):
    return {"out": (_check_graph(s), p["out_channels"])}


register(BlockSpec(
    name="GCNConv", category=C,
    doc="Graph convolution, H' = D^-1/2 (A+I) D^-1/2 H W + b (D: degrees of A+I); "
        "one graph per sample: x [N, F] and adj [N, N] -> [N, out_channels].",
    inputs=PORTS, outputs=OUT,
    params=(
        Param("out_channels", "int", 16, "features per node in the output", min=1),
        Param("bias", "bool", True, "learn an additive bias b"),
        Param("add_self_loops", "bool", True, "add I so each node keeps its own features (A+I)"),
        Param("normalize", "bool", True, "scale by D^-1/2 on both sides (symmetric normalisation)"),
    ),
    infer=_gcn_infer, constructor=_graph_conv_constructor("GCNConv"), key_params=("out_channels",),
    param_count=lambda s, p: linear_count(s["x"][-1], p["out_channels"], p["bias"]),
))


def _gat_infer(s, p):
    n = _check_graph(s)
    width = p["heads"] * p["out_channels"] if p["concat"] else p["out_channels"]
    return {"out": (n, width)}


def _gat_count(s, p):
    """W [F -> heads*out], the attention vectors a_src and a_dst [heads, out], and the bias of the output."""
    each = p["heads"] * p["out_channels"]
    bias = (each if p["concat"] else p["out_channels"]) if p["bias"] else 0
    return s["x"][-1] * each + 2 * each + bias


register(BlockSpec(
    name="GATConv", category=C,
    doc="Graph attention, h_i' = sum_j alpha_ij W h_j with alpha_ij = softmax_j(LeakyReLU(a^T [W h_i || W h_j])) "
        "over neighbours j; one graph per sample: x [N, F] and adj [N, N] -> [N, heads*out_channels] (concat) "
        "or [N, out_channels].",
    inputs=PORTS, outputs=OUT,
    params=(
        Param("out_channels", "int", 8, "features per node and head", min=1),
        Param("heads", "int", 1, "independent attention heads", min=1),
        Param("concat", "bool", True, "concatenate the heads (else average them)"),
        Param("negative_slope", "float", 0.2, "LeakyReLU slope of the attention scores", min=0.0),
        Param("dropout", "float", 0.0, "dropout on the attention coefficients while training", min=0.0, max=1.0),
        Param("add_self_loops", "bool", True, "let each node attend to itself"),
        Param("bias", "bool", True, "learn an additive bias"),
    ),
    infer=_gat_infer, constructor=_graph_conv_constructor("GATConv"), key_params=("out_channels", "heads"),
    param_count=_gat_count,
))
