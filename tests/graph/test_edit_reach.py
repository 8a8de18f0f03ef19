"""An edit re-infers the nodes whose inputs changed and no more, whatever the size of the graph
(counted, not timed); the ranks that order that walk stay valid through every kind of edit."""

from __future__ import annotations

import random

import networkx as nx

from studio.graph import Graph
from studio.graph.errors import CycleError


def linear_chain(units: int) -> Graph:
    """x -> (Linear 16, ReLU) * units: an edit's effect stops at the next Linear."""
    g = Graph("chain")
    g.add_node("Input", {"shape": [16]}, id="x")
    prev = "x"
    for k in range(units):
        for node_id, block, params in ((f"fc{k}", "Linear", {"out_features": 16}), (f"act{k}", "ReLU", {})):
            g.add_node(block, params, id=node_id)
            g.connect(prev, "out", node_id, "in")
            prev = node_id
    return g


def test_a_one_node_edit_visits_as_many_nodes_at_any_size():
    visited = []
    for units in (50, 1500):
        g = linear_chain(units)
        middle = f"fc{units // 2}"
        g.set_params(middle, {"out_features": 9})  # its ReLU and the next Linear follow; the next output stays
        visited.append(g.shapes.visited)
        assert g.shapes.output(f"act{units // 2}") == (9,) and g.shapes.output(f"fc{units // 2 + 1}") == (16,)
        assert g.param_count(f"fc{units // 2 + 1}") == 9 * 16 + 16
    assert visited == [3, 3]


def test_an_edit_whose_effect_runs_on_visits_everything_below_once():
    g = linear_chain(400)
    g.set_params("fc399", {"out_features": 4})
    assert g.shapes.visited == 2
    g.set_params("x", {"shape": [16, 2]})  # the input itself: all 800 nodes below change, each once
    assert g.shapes.visited == 801 and g.shapes.output("act399") == (16, 4)


def test_ranks_stay_valid_and_cycles_are_refused_exactly_through_random_edits():
    rng = random.Random(7)
    g = Graph()
    ids = []
    for step in range(400):
        roll = rng.random()
        if roll < 0.35 or len(ids) < 2:
            node = g.add_node("Add", {"num_inputs": 4})
            ids.append(node.id)
        elif roll < 0.85:
            src, dst = rng.sample(ids, 2)
            free = [p.name for p in g.node(dst).input_ports() if g.edge_into(dst, p.name) is None]
            if not free:
                continue
            would_cycle = nx.has_path(g.networkx(), dst, src)
            try:
                g.connect(src, "out", dst, free[0])
            except CycleError:
                assert would_cycle, step
            else:
                assert not would_cycle, step
        elif roll < 0.95 and g.edges:
            g.disconnect(rng.choice(g.edges))
        else:
            victim = rng.choice(ids)
            g.remove_node(victim)
            ids.remove(victim)
        rank = g.ranks()
        assert set(rank) == set(g.nodes)
        assert all(rank[e.src] < rank[e.dst] for e in g.edges), step


def test_wiring_a_new_node_above_old_ones_reorders_only_what_it_must():
    g = linear_chain(300)
    g.add_node("Input", {"shape": [16]}, id="late")
    g.add_node("Add", {}, id="join")  # the newest rank, wired in above the chain's second Linear
    g.disconnect(g.edge_into("fc1", "in"))
    g.connect("late", "out", "join", "in1")
    g.connect("act0", "out", "join", "in2")
    g.connect("join", "out", "fc1", "in")
    rank = g.ranks()
    assert rank["act0"] < rank["join"] < rank["fc1"] and rank["late"] < rank["join"]
    assert g.shapes.output("act299") == (16,)
    assert g.topological_order().index("join") < g.topological_order().index("fc1")


def test_inserting_into_one_wire_again_and_again_keeps_the_ranks_valid():
    # each new node goes between the last one and the same node below: the gap halves every time,
    # past what a float can split, and the ranks are numbered afresh
    g = linear_chain(3)
    above = "fc0"
    for k in range(120):
        node = g.add_node("ReLU", {}, id=f"r{k}")
        g.disconnect(g.edge_into("act0", "in"))
        g.connect(above, "out", node.id, "in")
        g.connect(node.id, "out", "act0", "in")
        above = node.id
        rank = g.ranks()
        assert all(rank[e.src] < rank[e.dst] for e in g.edges), k
    assert g.shapes.output("act2") == (16,)


def _state(g: Graph) -> tuple:
    s = g.shapes
    return (dict(s.outputs), {n: (p.port, p.message) for n, p in s.errors.items()}, dict(s.dtypes),
            dict(s.dtype_faults))


def test_incremental_results_equal_a_full_inference_through_random_edits():
    """Shapes, errors and dtypes after each edit equal those of the same graph inferred from scratch."""
    rng = random.Random(11)
    g = Graph()
    kinds = [("Input", lambda: {"shape": [rng.choice([4, 6])], "dtype": rng.choice(["float", "long"])}),
             ("Linear", lambda: {"out_features": rng.choice([4, 6])}), ("Embedding", lambda: {"embedding_dim": 4}),
             ("Flatten", dict), ("Identity", dict), ("Add", dict), ("Concat", lambda: {"dim": -1}),
             ("ReLU", dict)]
    for step in range(250):
        ids = list(g.nodes)
        roll = rng.random()
        if roll < 0.3 or len(ids) < 3:
            block, params = rng.choice(kinds)
            g.add_node(block, params())
        elif roll < 0.65:
            src, dst = rng.sample(ids, 2)
            free = [p.name for p in g.node(dst).input_ports() if g.edge_into(dst, p.name) is None]
            if free and g.check_connect(src, "out", dst, free[0]) is None:
                g.connect(src, "out", dst, free[0])
        elif roll < 0.8:
            node = g.node(rng.choice(ids))
            if node.block == "Input":
                g.set_params(node.id, {"dtype": rng.choice(["float", "long"]), "shape": [rng.choice([4, 6])]})
            elif node.block == "Linear":
                g.set_params(node.id, {"out_features": rng.choice([4, 6])})
        elif roll < 0.93 and g.edges:
            g.disconnect(rng.choice(g.edges))
        else:
            g.remove_node(rng.choice(ids))
        assert _state(g) == _state(g.copy()), step
