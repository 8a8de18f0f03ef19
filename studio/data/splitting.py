"""Seeded train/validation splits."""

from __future__ import annotations

import numpy as np


def split_indices(n: int, val_fraction: float, seed: int, labels: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Shuffled train and validation indices.

    With 1-D class ``labels`` the split is stratified: each class gives the same
    share to validation, so small sets keep every class on both sides.
    """
    rng = np.random.default_rng(seed)
    if labels is None or labels.ndim != 1:
        order = rng.permutation(n)
        n_val = int(round(n * val_fraction))
        return order[n_val:], order[:n_val]
    train, val = [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        k = int(round(len(idx) * val_fraction))
        if val_fraction > 0 and k == 0 and len(idx) > 1:
            k = 1
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
