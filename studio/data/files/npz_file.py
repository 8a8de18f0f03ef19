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
from ..limits import check_memory
from .paths import open_regular, resolve


def _shape(shape) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"


def _member(archive, key: str) -> str:
    name = key + ".npy"
    return name if name in archive.zip.namelist() else key


def _header(archive, key: str, shown: str) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype of one array, read from its header before any data is."""
    fmt = np.lib.format
    try:
        with archive.zip.open(_member(archive, key)) as f:
            version = fmt.read_magic(f)
            read = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
            shape, _, dtype = read(f)
    except (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile, zlib.error, SyntaxError) as exc:
        raise DataError(f"array {key!r} is not a readable NumPy array ({exc})", shown) from None
    return tuple(int(d) for d in shape), dtype


def _what(dtype: np.dtype) -> str:
    if dtype.hasobject:
        return "Python objects"
    if dtype.names:
        return "records with fields"
    kind = {"c": "complex numbers", "U": "text", "S": "bytes", "M": "dates", "m": "time spans", "V": "raw bytes"}
    return kind.get(dtype.kind, "values")


def _array(archive, key: str, option: str, shown: str, allow_text: bool = False) -> np.ndarray:
    """One array, refused by its header (pickle, complex, text, too large) before its data is read."""
    if key not in archive.files:
        raise DataError(f"{shown} holds no array {key!r} (it holds: {', '.join(archive.files)})", place(option))
    shape, dtype = _header(archive, key, shown)
    if dtype.hasobject:
        raise DataError(f"array {key!r} holds Python objects (dtype {dtype}), which only pickle can read, and "
                        "data files are never unpickled; save numbers (e.g. x.astype(np.float32))", shown)
    if dtype.kind == "c":
        raise DataError(f"array {key!r} holds complex numbers (dtype {dtype}); a network takes real numbers: "
                        "save the real and imaginary parts as features of their own "
                        "(np.stack([a.real, a.imag], axis=-1))", shown)
    numeric = dtype.kind in "biuf" and not dtype.names
    if not numeric and not (allow_text and dtype.kind in "US"):
        raise DataError(f"array {key!r} holds {_what(dtype)} (dtype {dtype}), not numbers", shown)
    nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
    # Twice: the array as stored and its float32 / int64 copy for training.
    check_memory(2 * nbytes, f"array {key!r} {_shape(shape)} of {dtype} (twice: as stored and for training)",
                 shown)
    try:
        return archive[key]
    except ValueError as exc:
        raise DataError(f"array {key!r} is damaged ({exc})", shown) from None
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise DataError(f"array {key!r} is damaged ({exc})", shown) from None


def _first_bad(a: np.ndarray, bad: np.ndarray, key: str) -> str:
    at = np.argwhere(bad)[0]
    row = f"row {int(at[0])}" + (f" (index {at.tolist()})" if a.ndim > 1 else "")
    return f"array {key!r} holds {a[tuple(at)].item()!r} at {row}"


FLOAT32_MAX = float(np.finfo(np.float32).max)


def _check_floats(a: np.ndarray, key: str, shown: str) -> None:
    """NaN, infinity or a number float32 cannot hold (it would become infinity), named by row."""
    if a.dtype.kind != "f":
        return
    finite = np.isfinite(a)
    if not finite.all():
        raise DataError(f"{_first_bad(a, ~finite, key)}; every value must be a finite number", shown)
    if a.dtype.itemsize > 4:
        big = np.abs(a) > FLOAT32_MAX
        if big.any():
            raise DataError(f"{_first_bad(a, big, key)}, beyond what float32 holds (about 3.4e38)", shown)


def _load(o: dict[str, Any], base) -> Any:
    full, shown = resolve(o["path"], base)
    f, size = open_regular(full, shown)
    with f:
        if size == 0:
            raise DataError("the file is empty (0 bytes); save the arrays with numpy.savez(path, x=..., y=...)",
                            shown)
        try:
            archive = np.load(f, allow_pickle=False)
        except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
            raise DataError(f"not a NumPy .npz file ({exc})", shown) from None
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise DataError("holds one array (.npy); save x and y together with numpy.savez", shown)
        with archive:
            if not archive.files:
                raise DataError("the file holds no arrays; save features and targets with "
                                "numpy.savez(path, x=..., y=...)", shown)
            x = _array(archive, o["x"], "x", shown)
            y = _array(archive, o["y"], "y", shown, allow_text=True)
            names = _array(archive, "class_names", "x", shown, allow_text=True) \
                if "class_names" in archive.files else None
    xk, yk = o["x"], o["y"]
    if x.ndim < 2 or 0 in x.shape:
        raise DataError(f"array {xk!r} has shape {_shape(x.shape)}; it needs [samples, ...features] "
                        "with at least one sample and one feature", shown)
    if y.ndim < 1:
        raise DataError(f"array {yk!r} is a single value; it needs one target per sample", shown)
    if 0 in y.shape[1:]:
        raise DataError(f"array {yk!r} has shape {_shape(y.shape)}: its samples hold no values", shown)
    if len(x) != len(y):
        raise DataError(f"array {xk!r} has {len(x)} samples but {yk!r} has {len(y)}", shown)
    x_dtype = "long" if o["tokens"] else "float"
    if o["tokens"]:
        if x.dtype.kind not in "iub":
            raise DataError(f"tokens needs whole numbers, but {xk!r} holds {x.dtype}", place("tokens"))
        if x.dtype.kind == "i" and (x < 0).any():
            raise DataError(f"{_first_bad(x, x < 0, xk)}; token ids are 0 or more", shown)
        if x.dtype.kind == "u" and x.dtype.itemsize == 8 and (x > np.iinfo(np.int64).max).any():
            raise DataError(f"{_first_bad(x, x > np.iinfo(np.int64).max, xk)}, beyond the largest token id "
                            f"({np.iinfo(np.int64).max})", shown)
    else:
        _check_floats(x, xk, shown)

    task = o["task"]
    if task == "auto":
        task = "classification" if y.dtype.kind in "iubUS" else "regression"
    if task == "classification":
        return _classes(o, x, y, names, x_dtype, shown)
    if y.dtype.kind in "US":
        raise DataError(f"regression needs numbers, but {yk!r} holds text (dtype {y.dtype})", place("task"))
    _check_floats(y, yk, shown)
    y = y.astype(np.float32)
    if y.ndim == 1:
        y = y[:, None]
    return assemble("npz", task, x, y, o, x_dtype=x_dtype)


def _name(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _classes(o, x, y, names, x_dtype: str, shown: str) -> Any:
    yk = o["y"]
    if y.ndim != 1:
        raise DataError(f"class labels {yk!r} must be one per sample, got shape {_shape(y.shape)}", shown)
    if y.dtype.kind == "f":
        # Whole numbers saved as floats are classes; 0.5 is not.
        bad = ~np.isfinite(y) | (y != np.round(y))
        if bad.any():
            raise DataError(f"{_first_bad(y, bad, yk)}; class labels must be whole numbers "
                            "(or set task to regression)", shown)
    values, labels = np.unique(y, return_inverse=True)
    labels = labels.reshape(-1)
    if names is not None:
        if names.ndim != 1 or len(names) != len(values):
            raise DataError(f"array 'class_names' names {names.size} classes but {yk!r} holds {len(values)} "
                            f"distinct labels; give one name per label, in sorted label order", shown)
        class_names = [_name(n) for n in names.tolist()]
    else:
        class_names = [str(int(v)) if y.dtype.kind == "f" else _name(v) for v in values.tolist()]
    return assemble("npz", "classification", x, labels, o, x_dtype=x_dtype, class_names=class_names)


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
