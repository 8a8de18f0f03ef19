"""A small graph that uses what a file can hold: labels, a fan-out, a two-input block, a training section."""

from studio.graph import Graph


def small_graph() -> Graph:
    """Input -> fc1 -> relu1 -> add(relu1, input) -> fc2, with a label, a training section and an alias-free set of blocks."""
    g = Graph("residual MLP")
    g.description = "Two linear layers around a skip connection."
    g.add_node("Input", {"shape": [4]}, (0, 0), "input")
    g.add_node("Linear", {"out_features": 4}, (220, 0), "fc1", label="hidden")
    g.add_node("ReLU", {}, (440, 0), "relu1")
    g.add_node("Add", {}, (660, 80.5), "add")
    g.add_node("Linear", {"out_features": 3, "bias": False}, (880, 0), "fc2")
    g.connect("input", "out", "fc1", "in")
    g.connect("fc1", "out", "relu1", "in")
    g.connect("relu1", "out", "add", "in1")
    g.connect("input", "out", "add", "in2")
    g.connect("add", "out", "fc2", "in")
    g.set_training({"epochs": 2, "optimizer": {"name": "adam", "lr": 0.01},
                    "dataset": {"name": "spiral", "classes": 3, "shape": [4]}})
    return g
