"""NumPy arrays saved with ``numpy.savez``: features and targets by key."""

from __future__ import annotations

import zipfile
import zlib
from typing import Any

import numpy as np
from blocks import Param

from ..assemble import assemble
from ..catalog import DatasetInfo, register
from ..errors import DataError
from ..options import AUGMENT, SPLIT, STANDARDIZE, place
from .paths import resolve


def _array(archive, key: str, option: str, shown: str) -> np.ndarray:
    if key not in archive.files:
        raise DataError(f"{shown} holds no array {key!r} (it holds: {', '.join(archive.files) or 'nothing'})",
                        place(option))
    try:
        return archive[key]
    except ValueError as exc:
        if "pickle" in str(exc):  # object arrays need pickle, which is never loaded
            raise DataError(f"array {key!r} cannot be read without pickle ({exc}); save plain numbers",
                            shown) from None
        raise DataError(f"array {key!r} is damaged ({exc})", shown) from None
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise DataError(f"array {key!r} is damaged ({exc})", shown) from None


def _load(o: dict[str, Any], base) -> Any:
    full, shown = resolve(o["path"], base)
    try:
        archive = np.load(full, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError(f"not a NumPy .npz file ({exc})", shown) from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise DataError("holds one array (.npy); save x and y together with numpy.savez", shown)
    with archive:
        x = _array(archive, o["x"], "x", shown)
        y = _array(archive, o["y"], "y", shown)
        names = archive["class_names"] if "class_names" in archive.files else None
    if x.ndim < 2:
        raise DataError(f"array {o['x']!r} has shape {list(x.shape)}; it needs [samples, ...features]", shown)
    if len(x) != len(y):
        raise DataError(f"array {o['x']!r} has {len(x)} samples but {o['y']!r} has {len(y)}", shown)
    if not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
        raise DataError(f"array {o['x']!r} holds {x.dtype}, not numbers", shown)
    x_dtype = "long" if o["tokens"] else "float"
    if o["tokens"] and not np.issubdtype(x.dtype, np.integer):
        raise DataError(f"tokens needs whole numbers, but {o['x']!r} holds {x.dtype}", place("tokens"))
    if x_dtype == "float" and not np.all(np.isfinite(x)):
        bad = np.argwhere(~np.isfinite(x))[0]
        raise DataError(f"array {o['x']!r} holds {x[tuple(bad)]} at index {bad.tolist()}", shown)

    task = o["task"]
    if task == "auto":
        task = "classification" if np.issubdtype(y.dtype, np.integer) or y.dtype == bool else "regression"
    if task == "classification":
        if y.ndim != 1:
            raise DataError(f"class labels {o['y']!r} must be one per sample, got shape {list(y.shape)}", shown)
        if not (np.issubdtype(y.dtype, np.integer) or y.dtype == bool):
            raise DataError(f"class labels {o['y']!r} must be whole numbers, got {y.dtype}", shown)
        values = np.unique(y)
        labels = np.searchsorted(values, y)
        if names is not None and len(names) == len(values):
            class_names = [str(n) for n in names]
        else:
            class_names = [str(v) for v in values]
        return assemble("npz", task, x, labels, o, x_dtype=x_dtype, class_names=class_names)
    y = y.astype(np.float32)
    if y.ndim == 1:
        y = y[:, None]
    return assemble("npz", task, x, y, o, x_dtype=x_dtype)


register(DatasetInfo(
    "npz", "auto",
    "Arrays from numpy.savez: features x [samples, ...] and targets y [samples] (whole numbers: classes; "
    "otherwise regression). An optional array class_names names the classes.",
    (
        Param("path", "str", "", "the .npz file, relative to the graph file's folder"),
        Param("x", "str", "x", "the key of the feature array"),
        Param("y", "str", "y", "the key of the target array"),
        Param("task", "choice", "auto", "auto: classification for whole-number targets, else regression",
              choices=("auto", "classification", "regression")),
        Param("tokens", "bool", False, "the features are integer token ids (for an Embedding), not values"),
        *SPLIT, STANDARDIZE, *AUGMENT,
    ),
    _load, source="file",
))
