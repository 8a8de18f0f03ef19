"""Seeded train/validation splits."""

from __future__ import annotations

import numpy as np


def split_indices(n: int, val_fraction: float, seed: int, labels: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Shuffled train and validation indices.

    With 1-D class ``labels`` the split is stratified: each class gives the same
    share to validation, so small sets keep every class on both sides, and no
    class gives all its samples to validation.
    """
    rng = np.random.default_rng(seed)
    if labels is None or labels.ndim != 1:
        order = rng.permutation(n)
        n_val = int(round(n * val_fraction))
        return order[n_val:], order[:n_val]
    classes, counts = np.unique(labels, return_counts=True)
    # Largest remainder: per-class shares that add up to exactly round(n * val_fraction).
    quota = counts * val_fraction
    take = np.floor(quota).astype(int)
    extra = int(round(n * val_fraction)) - int(take.sum())
    if extra > 0:
        take[np.argsort(-(quota - take), kind="stable")[:extra]] += 1
    # Every class keeps a sample for training: a class seen only in validation cannot be learnt.
    take = np.minimum(take, np.maximum(counts - 1, 0))
    train, val = [], []
    for c, k in zip(classes, take):
        idx = rng.permutation(np.flatnonzero(labels == c))
        val.append(idx[:k])
        train.append(idx[k:])
    # Shuffled so a batch never holds one class only.
    tr = rng.permutation(np.concatenate(train))
    va = rng.permutation(np.concatenate(val))
    return tr, va


def chronological(n: int, val_fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """The last ``val_fraction`` of the windows validate: overlapping windows would leak otherwise."""
    n_val = int(round(n * val_fraction))
    return np.arange(n - n_val), np.arange(n - n_val, n)
