"""A GAN target: eight Gaussians on a ring, where mode collapse is easy to see and count."""

from __future__ import annotations

from typing import Any

import numpy as np

from blocks import Param

from ..assemble import assemble
from ..catalog import DatasetInfo, register


def ring_centres(modes: int, radius: float) -> np.ndarray:
    angles = 2 * np.pi * np.arange(modes) / modes
    return (radius * np.c_[np.cos(angles), np.sin(angles)]).astype(np.float32)


def _ring(o: dict[str, Any], base) -> Any:
    rng = np.random.default_rng(o["seed"])
    centres = ring_centres(o["modes"], o["radius"])
    which = rng.integers(0, o["modes"], o["points"])
    x = centres[which] + rng.normal(0.0, o["std"], (o["points"], 2))
    return assemble("ring", "gan", x, None, {**o, "val_fraction": 0.0}, output_shape=(2,),
                    extra={"centres": centres, "std": o["std"]})


register(DatasetInfo(
    "ring", "gan",
    "Points from Gaussians on a ring (by default 8 of std 0.02 on a circle of radius 2): "
    "the generator should cover every mode.",
    (
        Param("points", "int", 2000, "number of real samples", min=1, max=10000000),
        Param("modes", "int", 8, "number of Gaussians on the ring", min=1, max=100),
        Param("radius", "float", 2.0, "radius of the ring", min=0.01, max=1000.0),
        Param("std", "float", 0.02, "standard deviation of each Gaussian", min=0.0001, max=100.0),
        Param("seed", "int", 0, "seed of the sampling", min=0),
    ),
    _ring,
    suggested={'optimizer': {'name': 'adam', 'lr': 0.001, 'betas': [0.5, 0.999]}, 'batch_size': 128, 'epochs': 60},
))
