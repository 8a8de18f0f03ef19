"""Graph blocks: GCN and GAT over dense adjacency, checked against their formulas node by node."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import blocks

torch.set_num_threads(1)

# A path 0 - 1 - 2 plus an isolated node 3.
PATH = torch.tensor([[0, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 0]], dtype=torch.float32)


def build(name, n, f, **given):
    spec = blocks.get(name)
    return spec.make({"x": (n, f), "adj": (n, n)}, spec.coerce_params(given))


def test_gcn_follows_symmetric_normalisation_by_hand():
    gcn = build("GCNConv", 4, 2, out_channels=1, bias=False)
    with torch.no_grad():
        gcn.lin.weight.copy_(torch.tensor([[1.0, 0.0]]))  # output = first feature, aggregated
    x = torch.tensor([[[1.0, 9.0], [2.0, 9.0], [4.0, 9.0], [8.0, 9.0]]])
    out = gcn(x, PATH.unsqueeze(0))[0, :, 0]
    # degrees of A+I: 2, 3, 2, 1; out_i = sum_j x_j / sqrt(d_i d_j) over j in N(i) and i itself
    expected = [
        1 / 2 + 2 / 6 ** 0.5,
        1 / 6 ** 0.5 + 2 / 3 + 4 / 6 ** 0.5,
        2 / 6 ** 0.5 + 4 / 2,
        8.0,
    ]
    torch.testing.assert_close(out, torch.tensor(expected))


def test_gcn_without_normalisation_or_loops_sums_neighbours():
    gcn = build("GCNConv", 4, 1, out_channels=1, bias=False, normalize=False, add_self_loops=False)
    with torch.no_grad():
        gcn.lin.weight.fill_(1.0)
    x = torch.tensor([[[1.0], [2.0], [4.0], [8.0]]])
    out = gcn(x, PATH.unsqueeze(0))[0, :, 0]
    assert out.tolist() == [2.0, 5.0, 2.0, 0.0]  # the isolated node gets zero, not NaN


def test_gcn_keeps_existing_self_loops():
    looped = PATH.clone()
    looped[0, 0] = 1.0
    gcn = build("GCNConv", 4, 3, out_channels=2)
    x = torch.randn(1, 4, 3)
    torch.testing.assert_close(gcn(x, looped.unsqueeze(0)), gcn(x, PATH.unsqueeze(0)))


def reference_gat(gat, x, adj):
    """GAT for one graph, one node and one head at a time, as the paper writes it."""
    n = x.shape[0]
    h = gat.lin(x).view(n, gat.heads, gat.out_channels)
    a = adj.clone()
    if gat.add_self_loops:
        a.fill_diagonal_(1.0)
    heads = []
    for k in range(gat.heads):
        rows = []
        for i in range(n):
            neighbours = [j for j in range(n) if a[i, j] != 0]
            if not neighbours:
                rows.append(torch.zeros(gat.out_channels))
                continue
            scores = torch.stack([
                F.leaky_relu((gat.att_dst[k] * h[i, k]).sum() + (gat.att_src[k] * h[j, k]).sum(),
                             gat.negative_slope)
                for j in neighbours
            ])
            alpha = torch.softmax(scores, 0)
            rows.append(sum(alpha[m] * h[j, k] for m, j in enumerate(neighbours)))
        heads.append(torch.stack(rows))
    out = torch.cat(heads, -1) if gat.concat else torch.stack(heads).mean(0)
    return out + gat.bias


@pytest.mark.parametrize("given", [
    {"heads": 1},
    {"heads": 3, "out_channels": 2},
    {"heads": 2, "concat": False, "negative_slope": 0.1},
    {"heads": 2, "add_self_loops": False},
])
def test_gat_matches_per_node_attention(given):
    torch.manual_seed(0)
    gat = build("GATConv", 4, 3, **given).eval()
    with torch.no_grad():
        gat.bias.uniform_(-1, 1)
    x = torch.randn(4, 3)
    out = gat(x.unsqueeze(0), PATH.unsqueeze(0))[0]
    torch.testing.assert_close(out, reference_gat(gat, x, PATH))
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("name", ["GCNConv", "GATConv"])
def test_batch_of_graphs_equals_graphs_one_by_one(name):
    torch.manual_seed(0)
    layer = build(name, 5, 3, out_channels=4).eval()
    x = torch.randn(3, 5, 3)
    adj = (torch.rand(3, 5, 5) < 0.5).float()
    adj = ((adj + adj.transpose(1, 2)) > 0).float()
    together = layer(x, adj)
    for b in range(3):
        torch.testing.assert_close(together[b], layer(x[b:b + 1], adj[b:b + 1])[0])


@pytest.mark.parametrize("name", ["GCNConv", "GATConv"])
def test_renumbering_nodes_renumbers_the_output(name):
    torch.manual_seed(0)
    layer = build(name, 5, 3, out_channels=4, **({"heads": 2} if name == "GATConv" else {})).eval()
    x = torch.randn(1, 5, 3)
    adj = torch.tensor([[0, 1, 1, 0, 0], [1, 0, 0, 1, 0], [1, 0, 0, 1, 1],
                        [0, 1, 1, 0, 0], [0, 0, 1, 0, 0]], dtype=torch.float32).unsqueeze(0)
    perm = torch.tensor([3, 0, 4, 1, 2])
    moved = layer(x[:, perm], adj[:, perm][:, :, perm])
    torch.testing.assert_close(moved, layer(x, adj)[:, perm])


def test_gat_parameter_count_matches_its_formula():
    gat = build("GATConv", 6, 5, out_channels=4, heads=3)
    # W: F x heads*C, attention vectors a_src and a_dst: heads*C each, bias: heads*C
    assert sum(p.numel() for p in gat.parameters()) == 5 * 12 + 12 + 12 + 12
    averaged = build("GATConv", 6, 5, out_channels=4, heads=3, concat=False)
    assert sum(p.numel() for p in averaged.parameters()) == 5 * 12 + 12 + 12 + 4
