"""Counting the modes a GAN covers: the ring's measure of mode collapse."""

from __future__ import annotations

import numpy as np


def modes_covered(samples: np.ndarray, centres: np.ndarray, std: float, within: float = 3.0, min_share: float = 0.01) -> int:
    """Modes that receive at least ``min_share`` of the samples within ``within`` std of their centre."""
    d = np.linalg.norm(samples[:, None, :] - centres[None, :, :], axis=-1)  # [n, modes]
    nearest = d.argmin(axis=1)
    close = d[np.arange(len(samples)), nearest] <= within * std
    counts = np.bincount(nearest[close], minlength=len(centres))
    return int((counts >= max(1, min_share * len(samples))).sum())
