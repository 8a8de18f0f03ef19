"""Building test graphs node by node."""

from __future__ import annotations

from studio.graph import Graph


def chain(graph: Graph, *specs) -> Graph:
    """Add (block, params, id) nodes wired one after another."""
    prev = None
    for block, params, node_id in specs:
        node = graph.add_node(block, params, id=node_id)
        if prev is not None:
            graph.connect(prev, "out", node.id, "in")
        prev = node.id
    return graph


def residual(channels: int = 8, size: int = 16) -> Graph:
    """x -> conv1 -> relu1 -> conv2 -> add (+ x) -> relu2: a residual block by hand, to group."""
    g = Graph("residual")
    g.add_node("Input", {"shape": [channels, size, size]}, (0, 0), id="x")
    g.add_node("Conv2d", {"out_channels": channels, "kernel_size": 3, "padding": 1}, (200, 0), id="conv1")
    g.add_node("ReLU", {}, (400, 0), id="relu1")
    g.add_node("Conv2d", {"out_channels": channels, "kernel_size": 3, "padding": 1}, (600, 0), id="conv2")
    g.add_node("Add", {}, (800, 0), id="add")
    g.add_node("ReLU", {}, (1000, 0), id="relu2")
    for a, b in [("x", "conv1"), ("conv1", "relu1"), ("relu1", "conv2"), ("add", "relu2")]:
        g.connect(a, "out", b, "in")
    g.connect("conv2", "out", "add", "in1")
    g.connect("x", "out", "add", "in2")
    return g


def linear_chain(n: int, skips: bool = False) -> Graph:
    """x -> n units of Linear -> ReLU, each unit ending in an Add with a skip wire when ``skips``."""
    g = Graph("chain")
    g.add_node("Input", {"shape": [8]}, id="x")
    prev = "x"
    for i in range(n):
        g.add_node("Linear", {"out_features": 8}, id=f"fc{i}")
        g.add_node("ReLU", {}, id=f"act{i}")
        g.connect(prev, "out", f"fc{i}", "in")
        g.connect(f"fc{i}", "out", f"act{i}", "in")
        if skips:
            g.add_node("Add", {}, id=f"add{i}")
            g.connect(f"act{i}", "out", f"add{i}", "in1")
            g.connect(prev, "out", f"add{i}", "in2")
        prev = f"add{i}" if skips else f"act{i}"
    return g
