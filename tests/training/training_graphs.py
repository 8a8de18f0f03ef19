"""Small graphs and settings the training tests share: tiny data, one thread.

A module of its own, not the conftest: several test folders have a conftest,
and ``from conftest import`` picks whichever folder pytest put first on the path."""

from __future__ import annotations

from graph_helpers import chain

from studio.graph import Graph

__all__ = ["chain", "mlp", "settings"]


def mlp(in_features: int = 2, hidden: int = 64, classes: int = 3, dropout: float = 0.0) -> Graph:
    specs = [("Input", {"shape": [in_features]}, "points"),
             ("Linear", {"out_features": hidden}, "hidden"), ("ReLU", {}, "relu"),
             ("Linear", {"out_features": hidden}, "hidden2"), ("ReLU", {}, "relu2")]
    if dropout:
        specs.append(("Dropout", {"p": dropout}, "drop"))
    specs.append(("Linear", {"out_features": classes}, "logits"))
    return chain(Graph("mlp"), *specs)


def settings(**changes) -> dict:
    """A quick training dict: spiral, adam, one CPU thread, no probes."""
    base = {
        "dataset": {"name": "spiral", "classes": 3, "points": 100, "noise": 0.2, "val_fraction": 0.2, "seed": 0},
        "optimizer": {"name": "adam", "lr": 0.01},
        "batch_size": 32,
        "epochs": 5,
        "seed": 0,
        "device": "cpu",
        "threads": 1,
        "probes": False,
    }
    base.update(changes)
    return base
