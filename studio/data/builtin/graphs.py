"""Node classification on one graph: Zachary's karate club."""

from __future__ import annotations

from typing import Any

import numpy as np
from blocks import Param

from ..catalog import DatasetInfo, register
from ..dataset import DataInput, Dataset, Split


def normalized_adjacency(a: np.ndarray) -> np.ndarray:
    """D^-1/2 (A + I) D^-1/2, the propagation matrix of a graph convolution (Kipf and Welling)."""
    a = a + np.eye(len(a))
    d = 1.0 / np.sqrt(a.sum(axis=1))
    return a * d[:, None] * d[None, :]


def _karate(o: dict[str, Any], base) -> Any:
    import networkx as nx
    import torch

    g = nx.karate_club_graph()
    nodes = sorted(g.nodes)
    clubs = sorted({g.nodes[n]["club"] for n in nodes})  # ["Mr. Hi", "Officer"]
    labels = np.array([clubs.index(g.nodes[n]["club"]) for n in nodes])
    adj = nx.to_numpy_array(g, nodelist=nodes, weight=None)  # 0/1, no self loops
    if o["adjacency"] == "normalized":
        adj = normalized_adjacency(adj)
    n = len(nodes)
    rng = np.random.default_rng(o["seed"])
    train_mask = np.zeros(n, dtype=bool)
    for c in range(len(clubs)):
        members = np.flatnonzero(labels == c)
        train_mask[rng.choice(members, size=o["labels_per_class"], replace=False)] = True
    x = torch.eye(n, dtype=torch.float32)[None]  # [1, N, N]: one-hot identity features
    a = torch.as_tensor(adj, dtype=torch.float32)[None]  # [1, N, N]
    y = torch.as_tensor(labels, dtype=torch.int64)[None]  # [1, N]
    train = Split((x, a), y, torch.as_tensor(train_mask))
    val = Split((x, a), y, torch.as_tensor(~train_mask))
    return Dataset(
        name="karate", task="node_classification",
        inputs=(DataInput("x", (n, n)), DataInput("adj", (n, n))),
        train=train, val=val, output_shape=(n, len(clubs)), class_names=clubs,
        extra={"edges": np.array(list(g.edges), dtype=np.int64)}, spec={"name": "karate", **o},
    )


register(DatasetInfo(
    "karate", "node_classification",
    "Zachary's karate club: 34 members, 78 friendships, split into 2 clubs. One graph is one sample: "
    "features x [34, 34] (one-hot identity) and adjacency adj [34, 34]; a few labelled members train, "
    "the rest validate.",
    (
        Param("labels_per_class", "int", 2, "labelled training members per club", min=1, max=15),
        Param("adjacency", "choice", "raw", "raw 0/1 adjacency, or normalized D^-1/2 (A + I) D^-1/2",
              choices=("raw", "normalized")),
        Param("seed", "int", 0, "seed choosing the labelled members", min=0),
    ),
    _karate,
    suggested={'optimizer': {'name': 'adam', 'lr': 0.01}, 'batch_size': 1, 'epochs': 100, 'weight_decay': 0.0005},
))
