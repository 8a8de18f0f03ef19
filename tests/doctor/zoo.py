"""A zoo of broken graphs: the examples, broken the way learners break them.

Each entry names the example, how it is broken, the finding the doctor must report
(its code and node), which of its fixes to apply, and what the fixed graph must reach
in a short run (``short_run``'s epochs and a floor on accuracy or a ceiling on loss).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from studio.files import load
from studio.graph import Graph

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@dataclass(frozen=True)
class Broken:
    name: str
    example: str
    breaks: Callable[[Graph], None]
    code: str
    node: str | None
    fix: int = 0  # which of the finding's fixes a person would choose
    epochs: int = 12
    min_acc: float | None = None  # validation accuracy, else training accuracy, the fixed graph reaches
    max_loss: float | None = None

    def graph(self) -> Graph:
        graph = load(EXAMPLES / f"{self.example}.json")
        self.breaks(graph)
        return graph


def _replace(graph: Graph, node_id: str, block: str, params=None) -> None:
    node = graph.node(node_id)
    ins, outs = graph.in_edges(node_id), graph.out_edges(node_id)
    position = node.position
    graph.remove_node(node_id)
    graph.add_node(block, params or {}, position, node_id)
    for e in ins + outs:
        graph.connect(e.src, "out" if e.src == node_id else e.src_port, e.dst, "in" if e.dst == node_id else e.dst_port)


def _append(graph: Graph, after: str, block: str, node_id: str, params=None) -> None:
    x, y = graph.node(after).position
    graph.add_node(block, params or {}, (x + 280, y), node_id)
    graph.connect(after, "out", node_id, "in")


def _remove(graph: Graph, node_id: str) -> None:
    feed = graph.in_edges(node_id)[0]
    outs = graph.out_edges(node_id)
    graph.remove_node(node_id)
    for e in outs:
        graph.connect(feed.src, feed.src_port, e.dst, e.dst_port)


def _set(node_id: str, **params):
    return lambda g: g.set_params(node_id, params)


def _training(**changes):
    def breaks(graph: Graph) -> None:
        training = dict(graph.training)
        for key, value in changes.items():
            if key == "lr" or key == "optimizer":
                opt = dict(training.get("optimizer", {}))
                opt.update(value if key == "optimizer" else {"lr": value})
                training["optimizer"] = opt
            else:
                training[key] = value
        graph.set_training(training)
    return breaks


def _ten_sigmoids(graph: Graph) -> None:
    # vanishing_gradients has 8 Linear + Sigmoid pairs; two more before the logits
    last = "sigmoid8"
    graph.disconnect(graph.edge_into("logits", "in"))
    for i in (9, 10):
        _append(graph, last, "Linear", f"fc{i}", {"out_features": 32})
        _append(graph, f"fc{i}", "Sigmoid", f"sigmoid{i}")
        last = f"sigmoid{i}"
    graph.connect(last, "out", "logits", "in")


def _residual_cnn(graph: Graph) -> None:
    # lenet5_digits with a shortcut around conv2 that does not match it: [16, 4, 4] into [32, 4, 4]
    graph.set_params("conv2", {"padding": 1})
    graph.add_node("Add", {}, (1400, 200), "add")
    graph.disconnect(graph.edge_into("pool2", "in"))
    graph.connect("relu2", "out", "add", "in1")
    graph.connect("pool1", "out", "add", "in2")
    graph.connect("add", "out", "pool2", "in")


def _residual_mlp(graph: Graph) -> None:
    # spiral_mlp with a shortcut from the first hidden layer (64) around a narrower second one (32)
    graph.set_params("hidden2", {"out_features": 32})
    graph.add_node("Add", {}, (1100, 200), "add")
    graph.disconnect(graph.edge_into("logits", "in"))
    graph.connect("relu2", "out", "add", "in1")
    graph.connect("relu1", "out", "add", "in2")
    graph.connect("add", "out", "logits", "in")


def _two_branches(graph: Graph) -> None:
    # lenet5_digits with the flat image joined to the feature map as it is, unflattened
    graph.add_node("Flatten", {}, (280, 300), "flat_image")
    graph.add_node("Concat", {}, (1900, 300), "join")
    graph.connect("image", "out", "flat_image", "in")
    graph.disconnect(graph.edge_into("fc1", "in"))
    graph.connect("flat_image", "out", "join", "in1")
    graph.connect("pool2", "out", "join", "in2")
    graph.connect("join", "out", "fc1", "in")
    _remove(graph, "flatten")


def _xor_linear(graph: Graph) -> None:
    _remove(graph, "tanh")


def _bias_before_norm(graph: Graph) -> None:
    graph.disconnect(graph.edge_into("relu1", "in"))
    graph.add_node("BatchNorm1d", {}, (420, 200), "norm1")
    graph.connect("hidden1", "out", "norm1", "in")
    graph.connect("norm1", "out", "relu1", "in")


ZOO = (
    Broken("lenet-missing-flatten", "lenet5_digits", lambda g: _replace(g, "flatten", "Identity"),
           "spatial-linear", "fc1", epochs=2, min_acc=0.8),
    Broken("float-ids-into-embedding", "transformer_sequence", _set("tokens", dtype="float"),
           "dtype-values-to-ids", "embedding", epochs=3, min_acc=0.5),
    Broken("ids-into-linear", "spiral_mlp", _set("points", dtype="long"), "dtype-ids-to-values", "hidden1",
           min_acc=0.8),
    Broken("wrong-class-count", "spiral_mlp", _set("logits", out_features=2), "output-classes", "logits",
           min_acc=0.8),
    Broken("double-softmax", "spiral_mlp", lambda g: _append(g, "logits", "Softmax", "softmax"),
           "softmax-before-loss", "softmax", min_acc=0.8),
    Broken("sigmoid-at-output", "spiral_mlp", lambda g: _append(g, "logits", "Sigmoid", "squash"),
           "sigmoid-before-loss", "squash", min_acc=0.8),
    Broken("relu-at-output", "spiral_mlp", lambda g: _append(g, "logits", "ReLU", "relu_out"),
           "relu-at-output", "relu_out", min_acc=0.8),
    Broken("ten-sigmoids", "vanishing_gradients", _ten_sigmoids, "saturating-depth", "sigmoid1", min_acc=0.9),
    Broken("sgd-lr-10", "spiral_mlp", _training(optimizer={"name": "sgd", "lr": 10.0}), "lr-too-large", None,
           epochs=40, min_acc=0.7),
    Broken("lr-too-small", "spiral_mlp", _training(lr=1e-8), "lr-too-small", None, min_acc=0.8),
    Broken("channel-mismatch-at-add", "lenet5_digits", _residual_cnn, "merge-mismatch", "add", epochs=2,
           min_acc=0.8),
    Broken("feature-mismatch-at-add", "spiral_mlp", _residual_mlp, "merge-mismatch", "add", min_acc=0.8),
    Broken("rank-mismatch-at-concat", "lenet5_digits", _two_branches, "merge-mismatch", "join", epochs=2,
           min_acc=0.8),
    Broken("two-linears-no-activation", "xor_mlp", _xor_linear, "no-activation", "logits", epochs=100,
           min_acc=1.0),
    Broken("input-shape", "spiral_mlp", _set("points", shape=[3]), "input-shape", "points", min_acc=0.8),
    Broken("input-dtype", "lstm_sequence", _set("series", dtype="long"), "dtype-ids-to-values", "lstm",
           epochs=3, max_loss=0.05),
    Broken("bias-before-batchnorm", "spiral_mlp", _bias_before_norm, "bias-before-norm", "hidden1", min_acc=0.8),
)
