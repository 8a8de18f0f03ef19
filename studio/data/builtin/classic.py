"""Classic small sets shipped inside scikit-learn: digits and iris."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..assemble import assemble
from ..catalog import DatasetInfo, register
from ..options import AUGMENT, SPLIT, STANDARDIZE


def _digits(o: dict[str, Any], base) -> Any:
    from sklearn.datasets import load_digits

    d = load_digits()
    x = (d.images / 16.0).astype(np.float32)[:, None, :, :]  # [n, 1, 8, 8] in [0, 1]
    return assemble("digits", "classification", x, d.target, o, class_names=[str(c) for c in d.target_names])


register(DatasetInfo(
    "digits", "classification",
    "1,797 handwritten digits, 8x8 grayscale images [1, 8, 8] scaled to [0, 1], 10 classes.",
    (*SPLIT, STANDARDIZE, *AUGMENT),
    _digits,
    suggested={'optimizer': {'name': 'adam', 'lr': 0.001}, 'batch_size': 32, 'epochs': 15},
))


def _iris(o: dict[str, Any], base) -> Any:
    from sklearn.datasets import load_iris

    d = load_iris()
    return assemble("iris", "classification", d.data, d.target, o, class_names=[str(c) for c in d.target_names],
                    extra={"feature_names": list(d.feature_names)})


register(DatasetInfo(
    "iris", "classification",
    "150 iris flowers: 4 measurements in cm [4] -> 3 species.",
    (*SPLIT, STANDARDIZE),
    _iris,
    suggested={'optimizer': {'name': 'adam', 'lr': 0.01}, 'batch_size': 16, 'epochs': 100},
))
