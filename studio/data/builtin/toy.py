"""Two-dimensional toy sets for classification: xor, spiral, moons, circles, blobs."""

from __future__ import annotations

from typing import Any

import numpy as np
from blocks import Param

from ..assemble import assemble
from ..catalog import DatasetInfo, register
from ..limits import check_memory
from ..options import SPLIT, STANDARDIZE, place, with_defaults

NOISE_DOC = "standard deviation of the Gaussian noise added to each point"


def _names(k: int) -> list[str]:
    return [str(i) for i in range(k)]


def four_corners(labels: tuple[int, int, int, int], o: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """The unit square's corners (0,0), (0,1), (1,0), (1,1) with ``labels``, or ``o["replicas"]``
    noisy copies of each."""
    corners = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    if o["replicas"] == 0:
        return corners, np.array(labels)
    rng = np.random.default_rng(o["seed"])
    x = np.tile(corners, (o["replicas"], 1)) + rng.normal(0, o["noise"], (4 * o["replicas"], 2))
    return x, np.tile(np.array(labels), o["replicas"])


def _xor(o: dict[str, Any], base) -> Any:
    x, y = four_corners((0, 1, 1, 0), o)
    return assemble("xor", "classification", x, y, o, class_names=_names(2))


register(DatasetInfo(
    "xor", "classification",
    "The four corners of the unit square, labelled x1 XOR x2: what one perceptron cannot learn.",
    (
        Param("replicas", "int", 0, "0: the four points exactly; n: n noisy copies of each corner", min=0, max=10000),
        Param("noise", "float", 0.1, NOISE_DOC + " (with replicas)", min=0.0, max=5.0),
        *with_defaults(SPLIT, val_fraction=0.0), STANDARDIZE,
    ),
    _xor,
    suggested={'optimizer': {'name': 'adam', 'lr': 0.05}, 'batch_size': 4, 'epochs': 100},
))


def _spiral(o: dict[str, Any], base) -> Any:
    # The CS231n spiral: arms of radius 0..1 winding through 4 radians each.
    rng = np.random.default_rng(o["seed"])
    k, n = o["classes"], o["points"]
    xs, ys = [], []
    for j in range(k):
        r = np.linspace(0.0, 1.0, n)
        t = np.linspace(j * 4.0, (j + 1) * 4.0, n) + rng.normal(0.0, 1.0, n) * o["noise"]
        xs.append(np.c_[r * np.sin(t), r * np.cos(t)])
        ys.append(np.full(n, j))
    return assemble("spiral", "classification", np.concatenate(xs), np.concatenate(ys), o, class_names=_names(k))


register(DatasetInfo(
    "spiral", "classification",
    "Interleaved spiral arms, one per class (the CS231n spiral): no straight line separates them.",
    (
        Param("classes", "int", 3, "number of arms, one class each", min=2, max=20),
        Param("points", "int", 100, "points per class", min=2, max=100000),
        Param("noise", "float", 0.2, "noise on each point's angle, in radians", min=0.0, max=5.0),
        *SPLIT, STANDARDIZE,
    ),
    _spiral,
    suggested={'optimizer': {'name': 'adam', 'lr': 0.01}, 'batch_size': 32, 'epochs': 80},
))


def _moons(o: dict[str, Any], base) -> Any:
    from sklearn.datasets import make_moons

    x, y = make_moons(n_samples=o["points"], noise=o["noise"], random_state=o["seed"])
    return assemble("moons", "classification", x, y, o, class_names=_names(2))


register(DatasetInfo(
    "moons", "classification", "Two interleaving half circles.",
    (
        Param("points", "int", 300, "number of points in all", min=4, max=1000000),
        Param("noise", "float", 0.1, NOISE_DOC, min=0.0, max=5.0),
        *SPLIT, STANDARDIZE,
    ),
    _moons,
    suggested={'optimizer': {'name': 'adam', 'lr': 0.01}, 'batch_size': 32, 'epochs': 40},
))


def _circles(o: dict[str, Any], base) -> Any:
    from sklearn.datasets import make_circles

    x, y = make_circles(n_samples=o["points"], noise=o["noise"], factor=o["factor"], random_state=o["seed"])
    return assemble("circles", "classification", x, y, o, class_names=["outer", "inner"])


register(DatasetInfo(
    "circles", "classification", "A small circle inside a large one: separable only by a curved boundary.",
    (
        Param("points", "int", 300, "number of points in all", min=4, max=1000000),
        Param("noise", "float", 0.05, NOISE_DOC, min=0.0, max=5.0),
        Param("factor", "float", 0.5, "radius of the inner circle relative to the outer one", min=0.01, max=0.99),
        *SPLIT, STANDARDIZE,
    ),
    _circles,
    suggested={'optimizer': {'name': 'adam', 'lr': 0.01}, 'batch_size': 32, 'epochs': 60},
))


def _blobs(o: dict[str, Any], base) -> Any:
    # Generated as float64, then a float32 copy.
    check_memory(12 * o["points"] * o["features"], f"{o['points']:,} points x {o['features']:,} features x 12 bytes "
                 "(float64 as generated, float32 for training)", place("points"), "use fewer points or features")
    from sklearn.datasets import make_blobs

    x, y = make_blobs(n_samples=o["points"], n_features=o["features"], centers=o["classes"],
                      cluster_std=o["spread"], random_state=o["seed"])
    return assemble("blobs", "classification", x, y, o, class_names=_names(o["classes"]))


register(DatasetInfo(
    "blobs", "classification", "Gaussian clusters, one per class: linearly separable when the spread is small.",
    (
        Param("points", "int", 300, "number of points in all", min=2, max=1000000),
        Param("classes", "int", 3, "number of clusters, one class each", min=2, max=100),
        Param("features", "int", 2, "dimensions of each point", min=1, max=10000),
        Param("spread", "float", 1.0, "standard deviation of each cluster", min=0.0, max=100.0),
        *SPLIT, STANDARDIZE,
    ),
    _blobs,
    suggested={'optimizer': {'name': 'adam', 'lr': 0.01}, 'batch_size': 32, 'epochs': 30},
))
