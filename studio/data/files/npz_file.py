"""NumPy arrays saved with ``numpy.savez``: features and targets by key."""

from __future__ import annotations

import hashlib
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from blocks import Param

from ..assemble import assemble
from ..catalog import DatasetInfo, register
from ..errors import DataError
from ..options import AUGMENT, SPLIT, STANDARDIZE, place
from .. import stream
from ..limits import check_memory
from ..splitting import split_indices
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
    except (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile, zlib.error, SyntaxError,
            NotImplementedError) as exc:  # zipfile: a compression method or zip version it cannot read
        raise DataError(f"array {key!r} is not a readable NumPy array ({exc})", shown) from None
    return tuple(int(d) for d in shape), dtype


def _what(dtype: np.dtype) -> str:
    if dtype.hasobject:
        return "Python objects"
    if dtype.names:
        return "records with fields"
    kind = {"c": "complex numbers", "U": "text", "S": "bytes", "M": "dates", "m": "time spans", "V": "raw bytes"}
    return kind.get(dtype.kind, "values")


# Checks read an array a block of this many bytes at a time.
BLOCK_BYTES = 4 * 2**20


@dataclass
class Mapped:
    """An array stored raw at ``offset`` of ``path`` (a .npy file, an uncompressed .npz member): mapped, not read."""

    path: Path
    offset: int
    shape: tuple[int, ...]
    dtype: np.dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __len__(self) -> int:
        return self.shape[0]

    def array(self) -> np.ndarray:
        """The map; "c" (copy on write): its tensors are writable, and a write never reaches the file."""
        if 0 in self.shape:
            return np.empty(self.shape, self.dtype)
        return np.memmap(self.path, dtype=self.dtype, mode="c", offset=self.offset, shape=self.shape)

    def blocks(self, nbytes: int = BLOCK_BYTES):
        """(first row, rows) a block at a time, read with plain reads: checking the values keeps no page mapped."""
        row = int(np.prod(self.shape[1:], dtype=np.int64)) if self.ndim > 1 else 1
        step = max(1, nbytes // max(1, row * self.dtype.itemsize))
        with open(self.path, "rb") as f:
            for start in range(0, self.shape[0], step):
                count = min(step, self.shape[0] - start)
                f.seek(self.offset + start * row * self.dtype.itemsize)
                block = np.fromfile(f, dtype=self.dtype, count=count * row)
                if block.size != count * row:
                    raise OSError("the file ends before the array does")
                yield start, block.reshape((count, *self.shape[1:]))


def blocks_of(a, nbytes: int = BLOCK_BYTES):
    """(first row, rows) of an array in memory or mapped, a block at a time."""
    if isinstance(a, Mapped):
        yield from a.blocks(nbytes)
        return
    row = max(1, a[:1].nbytes)
    step = max(1, nbytes // row)
    for start in range(0, max(len(a), 1), step):
        yield start, a[start:start + step]


def _read_npy_header(f, key: str, shown: str) -> tuple[tuple[int, ...], np.dtype, bool]:
    fmt = np.lib.format
    try:
        version = fmt.read_magic(f)
        read = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
        shape, fortran, dtype = read(f)
    except (ValueError, OSError, EOFError, SyntaxError) as exc:
        raise DataError(f"array {key!r} is not a readable NumPy array ({exc})", shown) from None
    return tuple(int(d) for d in shape), dtype, bool(fortran)


def _stored_at(archive, f, member: str) -> int | None:
    """Where an uncompressed member's bytes start in the .npz, or None when it is compressed."""
    info = archive.zip.getinfo(member)
    if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 0x1:
        return None
    f.seek(info.header_offset)
    local = f.read(30)
    if len(local) != 30 or local[:4] != b"PK\x03\x04":
        return None
    name_len, extra_len = struct.unpack("<HH", local[26:30])
    return info.header_offset + 30 + name_len + extra_len


def _mapped_member(archive, f, path: Path, key: str, shape, dtype, shown: str) -> Mapped | None:
    member = _member(archive, key)
    start = _stored_at(archive, f, member)
    if start is None:
        return None
    f.seek(start)
    shape2, dtype2, fortran = _read_npy_header(f, key, shown)
    nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
    stored = archive.zip.getinfo(member).file_size
    if fortran or shape2 != shape or dtype2 != dtype or f.tell() + nbytes > start + stored:
        return None
    return Mapped(path, f.tell(), shape, dtype)


def _check_dtype(key: str, dtype: np.dtype, shown: str, allow_text: bool) -> None:
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


def _array(archive, key: str, option: str, shown: str, allow_text: bool = False, f=None, path: Path | None = None):
    """One array, refused by its header (pickle, complex, text, too large) before its data is read.

    Numbers stored uncompressed come back as a ``Mapped`` array: nothing is read until it is used."""
    if key not in archive.files:
        raise DataError(f"{shown} holds no array {key!r} (it holds: {', '.join(archive.files)})", place(option))
    shape, dtype = _header(archive, key, shown)
    _check_dtype(key, dtype, shown, allow_text)
    if f is not None and dtype.kind in "biuf" and not dtype.names and len(shape) > 0:
        mapped = _mapped_member(archive, f, path, key, shape, dtype, shown)
        if mapped is not None:
            return mapped
    nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
    # Twice: the array as stored and its float32 / int64 copy for training.
    check_memory(2 * nbytes, f"array {key!r} {_shape(shape)} of {dtype} (twice: as stored and for training)",
                 shown)
    try:
        return archive[key]
    except ValueError as exc:
        raise DataError(f"array {key!r} is damaged ({exc})", shown) from None
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error, NotImplementedError) as exc:
        raise DataError(f"array {key!r} is damaged ({exc})", shown) from None


def _first_bad(a: np.ndarray, bad: np.ndarray, key: str, first_row: int = 0) -> str:
    at = np.argwhere(bad)[0]
    index = [int(at[0]) + first_row, *at[1:].tolist()]
    row = f"row {index[0]}" + (f" (index {index})" if a.ndim > 1 else "")
    return f"array {key!r} holds {a[tuple(at)].item()!r} at {row}"


FLOAT32_MAX = float(np.finfo(np.float32).max)


def _check_floats(a, key: str, shown: str) -> None:
    """NaN, infinity or a number float32 cannot hold (it would become infinity), named by row."""
    if a.dtype.kind != "f":
        return
    for first, block in blocks_of(a):
        finite = np.isfinite(block)
        if not finite.all():
            raise DataError(f"{_first_bad(block, ~finite, key, first)}; every value must be a finite number", shown)
        if a.dtype.itemsize > 4:
            big = np.abs(block) > FLOAT32_MAX
            if big.any():
                raise DataError(f"{_first_bad(block, big, key, first)}, beyond what float32 holds (about 3.4e38)",
                                shown)


def _first_where(a, test) -> tuple[np.ndarray, np.ndarray, int] | None:
    for first, block in blocks_of(a):
        bad = test(block)
        if bad.any():
            return block, bad, first
    return None


def _whole(a) -> np.ndarray:
    """An array in memory (a mapped one read whole)."""
    return np.array(a.array()) if isinstance(a, Mapped) else a


def _open_npy(full: Path, f, size: int, shown: str, key: str, allow_text: bool) -> Mapped | np.ndarray:
    """A .npy file's array: mapped when it is stored in C order, else read (after the same checks)."""
    shape, dtype, fortran = _read_npy_header(f, key, shown)
    _check_dtype(key, dtype, shown, allow_text)
    nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if f.tell() + nbytes > size:
        raise DataError(f"array {key!r} is damaged (the file ends before its {_shape(shape)} values do)", shown)
    if not fortran and dtype.kind in "biuf" and len(shape) > 0:
        return Mapped(Path(full), f.tell(), shape, dtype)
    check_memory(2 * nbytes, f"array {key!r} {_shape(shape)} of {dtype} (twice: as stored and for training)", shown)
    f.seek(0)
    try:
        return np.load(f, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise DataError(f"array {key!r} is damaged ({exc})", shown) from None


def _read_npy(o: dict[str, Any], base, full: Path, f, size: int, shown: str):
    """x from the .npy ``path`` names, y from the .npy the ``y`` option names."""
    x = _open_npy(full, f, size, shown, o["x"], allow_text=False)
    if not o["y"].lower().endswith(".npy"):
        raise DataError(f"{shown} holds one array, the features; name the targets' .npy file in y "
                        "(e.g. labels.npy), or save x and y together with numpy.savez", place("y"))
    y_full, y_shown = resolve(o["y"], base)
    yf, y_size = open_regular(y_full, y_shown)
    with yf:
        if y_size == 0:
            raise DataError("the file is empty (0 bytes)", y_shown)
        y = _open_npy(y_full, yf, y_size, y_shown, o["y"], allow_text=True)
    return x, y, None


def _load(o: dict[str, Any], base) -> Any:
    full, shown = resolve(o["path"], base)
    f, size = open_regular(full, shown)
    with f:
        if size == 0:
            raise DataError("the file is empty (0 bytes); save the arrays with numpy.savez(path, x=..., y=...)",
                            shown)
        if f.read(6) == b"\x93NUMPY":
            f.seek(0)
            x, y, names = _read_npy(o, base, full, f, size, shown)
        else:
            f.seek(0)
            try:
                archive = np.load(f, allow_pickle=False)
            except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error, NotImplementedError) as exc:
                raise DataError(f"not a NumPy .npz file ({exc})", shown) from None
            if not isinstance(archive, np.lib.npyio.NpzFile):
                raise DataError("holds one array (.npy); save x and y together with numpy.savez", shown)
            with archive:
                if not archive.files:
                    raise DataError("the file holds no arrays; save features and targets with "
                                    "numpy.savez(path, x=..., y=...)", shown)
                x = _array(archive, o["x"], "x", shown, f=f, path=Path(full))
                y = _whole(_array(archive, o["y"], "y", shown, allow_text=True))
                names = _array(archive, "class_names", "x", shown, allow_text=True) \
                    if "class_names" in archive.files else None
    try:
        return _dataset(o, base, full, shown, x, _whole(y), names)
    except (OSError, EOFError) as exc:  # a mapped file cut short since its header was read
        raise DataError(f"array {o['x']!r} is damaged ({exc})", shown) from None


def _dataset(o, base, full, shown, x, y, names) -> Any:
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
        if x.dtype.kind == "i":
            found = _first_where(x, lambda b: b < 0)
            if found is not None:
                raise DataError(f"{_first_bad(*found[:2], xk, found[2])}; token ids are 0 or more", shown)
        if x.dtype.kind == "u" and x.dtype.itemsize == 8:
            found = _first_where(x, lambda b: b > np.iinfo(np.int64).max)
            if found is not None:
                raise DataError(f"{_first_bad(*found[:2], xk, found[2])}, beyond the largest token id "
                                f"({np.iinfo(np.int64).max})", shown)
    else:
        _check_floats(x, xk, shown)

    task = o["task"]
    if task == "auto":
        task = "classification" if y.dtype.kind in "iubUS" else "regression"
    if task == "classification":
        task, y, class_names = _classes(o, y, names, shown)
    else:
        if y.dtype.kind in "US":
            raise DataError(f"regression needs numbers, but {yk!r} holds text (dtype {y.dtype})", place("task"))
        _check_floats(y, yk, shown)
        y = y.astype(np.float32)
        if y.ndim == 1:
            y = y[:, None]
        class_names = None
    if isinstance(x, Mapped):
        return _from_map(o, full, shown, x, y, task, x_dtype, class_names)
    return assemble("npz", task, x, y, o, x_dtype=x_dtype, class_names=class_names)


def _from_map(o, full, shown, x: Mapped, y, task: str, x_dtype: str, class_names) -> Any:
    """A mapped x: used in place, or through the cache when it must be split or converted, or read if small."""
    sample = tuple(int(d) for d in x.shape[1:])
    n = x.shape[0]
    as_is = np.float32 if x_dtype == "float" else np.int64
    if o["val_fraction"] == 0 and o["standardize"] == "none" and x.dtype == as_is:
        # Nothing to hold out or scale: the tensors are the file's own pages, read as batches need them.
        mapped = x.array()
        stream.advise_random(mapped, n)
        entry = stream.Entry(Path(full), mapped, {"n_train": n, "scaler": None}, {})
        return stream.streamed("npz", task, entry, y, o, class_names=class_names, x_dtype=x_dtype,
                               note=f"memory-mapped from {shown}: a batch reads its rows from the file")
    nbytes = 2 * n * int(np.prod(sample, dtype=np.int64)) * 4
    if x_dtype == "float" and stream.should_stream(nbytes):
        labels = y if task == "classification" else None
        tr, va = split_indices(n, o["val_fraction"], o["seed"], labels)
        if len(tr) == 0:
            raise DataError(f"no training samples left: {n} samples with val_fraction {o['val_fraction']}",
                            place("val_fraction"))
        # The targets choose a stratified split: they are part of the name, as the options are.
        labels_digest = hashlib.sha256(np.ascontiguousarray(y).tobytes()).hexdigest()
        name = stream.entry_name(Path(full), stream.file_stamp(Path(full)),
                                 {**{k: v for k, v in o.items() if k != "path"}, "targets": labels_digest})
        entry = stream.open_entry(name)
        if entry is None:
            source = x.array()

            def rows(idx: np.ndarray) -> np.ndarray:
                back = np.argsort(idx, kind="stable")
                out = np.empty((len(idx), *sample), dtype=np.float32)
                out[back] = stream.gather(source, idx[back])  # read in file order
                return out

            order = np.concatenate([tr, va])
            entry = stream.build(name, (n, *sample), order, rows, len(tr), o["standardize"], {}, shown, "rows cached")
        return stream.streamed("npz", task, entry, y[np.concatenate([tr, va])], o, class_names=class_names)
    check_memory(2 * n * int(np.prod(sample, dtype=np.int64)) * x.dtype.itemsize,
                 f"array {o['x']!r} {_shape(x.shape)} of {x.dtype} (twice: as stored and for training)", shown)
    return assemble("npz", task, np.array(x.array()), y, o, x_dtype=x_dtype, class_names=class_names)


def _name(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _classes(o, y, names, shown: str) -> tuple[str, np.ndarray, list[str]]:
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
    return "classification", labels, class_names


register(DatasetInfo(
    "npz", "auto",
    "Arrays from numpy.savez: features x [samples, ...] and targets y [samples] (whole numbers: classes; "
    "otherwise regression). An optional array class_names names the classes. Or a .npy file of features "
    "with y naming the .npy file of targets. Arrays stored uncompressed are memory-mapped, not read whole.",
    (
        Param("path", "str", "", "the .npz file, relative to the graph file's folder"),
        Param("x", "str", "x", "the key of the feature array"),
        Param("y", "str", "y", "the key of the target array (for a .npy path: the targets' .npy file)"),
        Param("task", "choice", "auto", "auto: classification for whole-number targets, else regression",
              choices=("auto", "classification", "regression")),
        Param("tokens", "bool", False, "the features are integer token ids (for an Embedding), not values"),
        *SPLIT, STANDARDIZE, *AUGMENT,
    ),
    _load, source="file",
))
