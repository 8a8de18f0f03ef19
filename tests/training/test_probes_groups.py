"""Probes through groups: a group is one row (its output; the gradient norm over all its
parameters) and its inner nodes come as "group.inner" rows, nested groups likewise."""

import math

import torch

from studio.graph.groups import group_nodes
from studio.training import ProbeEvent, Trainer
from studio.training.probes import grad_norms, record_outputs

from training_graphs import mlp, settings

EVERY_STEP = {"enabled": True, "every": 1, "budget": 1.0}


def grouped_mlp():
    """points -> block (hidden -> relu -> inner group: hidden2 -> relu2) -> logits."""
    g = mlp()
    _, inner = group_nodes(g, ["hidden2", "relu2"], "Pair", group_id="pair")
    _, outer = group_nodes(g, ["hidden", "relu", inner], "Block", group_id="block")
    assert list(g.nodes) == ["points", "block", "logits"]
    return g


def test_a_grouped_network_trains_with_group_rows_and_their_inner_rows():
    events = []
    trainer = Trainer(grouped_mlp(), config=settings(epochs=1, probes=EVERY_STEP), callback=events.append)
    assert trainer.run().status == "finished"
    probes = [e for e in events if isinstance(e, ProbeEvent) and e.activations]
    assert probes
    probe = probes[-1]
    assert set(probe.activations) == {"points", "block", "block.hidden", "block.relu", "block.pair",
                                      "block.pair.hidden2", "block.pair.relu2", "logits"}
    assert set(probe.grad_norms) == {"block", "block.hidden", "block.pair", "block.pair.hidden2", "logits"}
    # a group's output is its last inner node's; its norm is over everything inside it
    acts = probe.activations
    assert acts["block"].mean == acts["block.pair.relu2"].mean and acts["block.pair"].std == acts["block"].std
    norms = probe.grad_norms
    assert math.isclose(norms["block"], math.hypot(norms["block.hidden"], norms["block.pair.hidden2"]), rel_tol=1e-5)
    assert math.isclose(norms["block.pair"], norms["block.pair.hidden2"], rel_tol=1e-6)
    light = [e for e in events if isinstance(e, ProbeEvent) and not e.activations and e.grad_norms]
    assert all("block" in e.grad_norms and "block.pair.hidden2" in e.grad_norms for e in light)


def test_grouped_norms_and_outputs_equal_the_flat_network_s():
    flat, grouped = mlp(), grouped_mlp()
    from studio.compile import compile_graph

    a, b = compile_graph(flat), compile_graph(grouped)
    b.load_state_dict(dict(zip(b.state_dict(), a.state_dict().values())))
    x = torch.randn(16, 2)
    for net in (a, b):
        net(x).pow(2).sum().backward()
    fa, fb = grad_norms({"m": a}), grad_norms({"m": b})
    for node in ("hidden", "logits"):
        assert math.isclose(fa[node], fb["block." + node if node == "hidden" else node], rel_tol=1e-5)
    assert math.isclose(fa["hidden2"], fb["block.pair.hidden2"], rel_tol=1e-5)
    oa, ob = record_outputs(a, (x,)), record_outputs(b, (x,))
    assert torch.equal(oa["relu2"], ob["block.pair.relu2"]) and torch.equal(oa["relu2"], ob["block"])
    assert torch.equal(oa["logits"], ob["logits"])


def test_attention_and_embeddings_inside_a_group_are_found_by_their_inner_names():
    from studio.compile import compile_graph
    from studio.graph import Graph
    from studio.training.probes import attention_maps, embedding_points

    g = Graph("tokens")
    g.add_node("Input", {"shape": [6], "dtype": "long"}, id="ids")
    g.add_node("Embedding", {"num_embeddings": 20, "embedding_dim": 8}, id="embed")
    g.add_node("TransformerEncoderLayer", {"nhead": 2, "dim_feedforward": 16}, id="enc")
    g.add_node("Linear", {"out_features": 3}, id="head")
    for a, b in (("ids", "embed"), ("embed", "enc"), ("enc", "head")):
        g.connect(a, "out", b, "in")
    _, inner = group_nodes(g, ["enc"], "Layer", group_id="layer")
    group_nodes(g, ["embed", inner], "Body", group_id="body")
    net = compile_graph(g)
    x = torch.randint(0, 20, (5, 6))
    maps = attention_maps(net, (x,))
    assert list(maps) == ["body.layer.enc"] and maps["body.layer.enc"].weights.shape == (4, 2, 6, 6)
    assert list(embedding_points(net)) == ["body.embed"]
