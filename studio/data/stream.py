"""Data sets larger than memory: decoded once into a memory-mapped cache file, read back a batch at a time.

A CSV of millions of rows or a folder of 200,000 images is decoded into a
float32 ``.npy`` file in the user's cache folder (``$STUDIO_CACHE_DIR/data``,
else the platform's cache folder: ``~/.cache/studio/data`` on Linux), never
beside the user's data. The rows are written in split order, training part
first, already scaled, so each ``Split`` tensor is a ``torch.from_numpy`` view
of one contiguous part of the map: the trainer's ``t[idx]`` reads only the
rows a batch needs, and the operating system keeps in memory only the pages
that were read lately.

An entry is named by the source's path, size and modification time and by
the options that change its rows; it is used again while those hold, and
replaced (the older entry removed) when the file changes. Entries are written
under a temporary name and renamed whole, so a load that was stopped leaves
no half entry behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from . import limits
from .errors import DataError
from .limits import size_text
from .progress import report

# Rows are gathered and written in blocks of about this many bytes.
BLOCK_BYTES = 16 * 2**20
# Disk that must stay free beside a new entry.
DISK_MARGIN = 256 * 2**20
VERSION = 1


def release(a: np.ndarray) -> None:
    """Let go of the pages of a read-only map that were read (they stay in the page cache, not in this process)."""
    import mmap

    held = getattr(a, "_mmap", None)
    if held is not None and hasattr(mmap, "MADV_DONTNEED"):
        try:
            held.madvise(mmap.MADV_DONTNEED)
        except (OSError, ValueError):
            pass


def advise_random(a: np.ndarray, rows: int) -> None:
    """Training batches read rows at random: the first ``rows`` of the map get no read-ahead, so a batch
    brings in the pages of its own rows, not the 128 kB around each (validation, read in order, keeps it)."""
    import mmap

    held = getattr(a, "_mmap", None)
    if held is None or not hasattr(mmap, "MADV_RANDOM") or rows <= 0:
        return
    row_bytes = int(np.prod(a.shape[1:], dtype=np.int64)) * a.dtype.itemsize
    start = int(a.offset) - int(a.offset) % mmap.ALLOCATIONGRANULARITY  # where numpy's map begins
    length = int(a.offset) - start + rows * row_bytes
    try:
        held.madvise(mmap.MADV_RANDOM, 0, min(length, len(held)))
    except (OSError, ValueError):
        pass


def gather(source: np.ndarray, at: np.ndarray) -> np.ndarray:
    """``source[at]`` for sorted ``at``; from a map, a span of the file at a time, each span's pages let go
    before the next is read, so the process never holds more of the file than a span."""
    if getattr(source, "_mmap", None) is None:
        return source[at]
    out = np.empty((len(at), *source.shape[1:]), dtype=source.dtype)
    row_bytes = max(1, int(np.prod(source.shape[1:], dtype=np.int64)) * source.dtype.itemsize)
    span = max(1, BLOCK_BYTES // row_bytes)
    cuts = np.searchsorted(at, np.arange(span, int(at[-1]) + span + 1, span)) if len(at) else []
    start = 0
    for stop in cuts:
        if stop > start:
            out[start:stop] = source[at[start:stop]]
            release(source)
            start = stop
    return out


def cache_root() -> Path:
    """The folder data caches live in: ``$STUDIO_CACHE_DIR/data`` or the platform's cache folder."""
    env = os.environ.get("STUDIO_CACHE_DIR")
    if env:
        return Path(env) / "data"
    if sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    elif os.name == "nt":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "studio" / "data"


def ensure_root(shown: str) -> Path:
    """The cache folder, made if need be."""
    root = cache_root()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot make the data cache folder {root} ({exc.strerror or exc}); set "
                        "STUDIO_CACHE_DIR to a folder you can write", shown) from None
    return root


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:16]


def entry_name(source: Path, stamp: Any, options: dict[str, Any]) -> str:
    """``<path>-<size and time>-<options>``: one source keeps one stamp's entries only."""
    return f"{_digest(str(source))}-{_digest(stamp)}-{_digest({'v': VERSION, **options})}"


def file_stamp(path: Path) -> list[int]:
    info = os.stat(path)
    return [info.st_size, info.st_mtime_ns]


def should_stream(nbytes: int) -> bool:
    """Whether a data set of ``nbytes`` (with its training and validation copies) stays on disk."""
    return nbytes > limits.memory_budget()


@dataclass
class Entry:
    """A finished cache entry: ``x`` the map ``[n, *sample]`` in split order, ``meta`` what was saved with it."""

    folder: Path
    x: np.ndarray
    meta: dict[str, Any]
    arrays: dict[str, np.ndarray]  # small arrays kept beside it (targets in split order), read whole


def open_entry(name: str) -> Entry | None:
    folder = cache_root() / name
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        # "c": copy on write, so the tensors are writable without ever changing the file.
        x = np.load(folder / "x.npy", mmap_mode="c", allow_pickle=False)
        arrays = {key: np.load(folder / f"{key}.npy", allow_pickle=False) for key in meta.get("arrays", [])}
    except (OSError, ValueError):
        return None
    if list(x.shape) != meta.get("shape"):
        return None
    advise_random(x, int(meta.get("n_train", 0)))
    return Entry(folder, x, meta, arrays)


def _drop_stale(name: str) -> None:
    """Entries of the same source made before it changed."""
    path_part, stamp_part, _ = name.split("-")
    root = cache_root()
    try:
        for old in root.iterdir():
            parts = old.name.split("-")
            if len(parts) >= 3 and parts[0] == path_part and parts[1] != stamp_part:
                shutil.rmtree(old, ignore_errors=True)
    except OSError:
        pass


def _check_disk(folder: Path, nbytes: int, shown: str) -> None:
    free = shutil.disk_usage(folder).free
    if nbytes + DISK_MARGIN > free:
        raise DataError(f"the data set is larger than memory and is read from a cache file of "
                        f"{size_text(nbytes)}, but {folder} has {size_text(free)} free; free some disk or set "
                        "STUDIO_CACHE_DIR to a folder on a larger disk", shown)


def build(name: str, shape: tuple[int, ...], order: np.ndarray, rows: Callable[[np.ndarray], np.ndarray],
          n_train: int, standardize: str, meta: dict[str, Any], shown: str, unit: str,
          block: int | None = None, arrays: dict[str, np.ndarray] | None = None) -> Entry:
    """Write ``rows(order[i:j])`` (float32 ``[j - i, *shape[1:]]``) for every block, scale, and keep it.

    ``order`` lists the source rows in split order (training part first, ``n_train`` rows).
    """
    root = ensure_root(shown)
    _drop_stale(name)
    n = int(shape[0])
    sample = int(np.prod(shape[1:], dtype=np.int64))
    nbytes = n * sample * 4
    _check_disk(root, nbytes, shown)
    temp = root / f".{name}.{uuid.uuid4().hex[:8]}"
    temp.mkdir()
    try:
        # Written and read back with plain file calls, not through a map: the process then holds
        # one block, whatever the size of the file (pages of a written map would count as its own).
        path = temp / "x.npy"
        with open(path, "wb") as f:
            np.lib.format.write_array_header_1_0(
                f, {"descr": np.lib.format.dtype_to_descr(np.dtype(np.float32)), "fortran_order": False,
                    "shape": tuple(int(d) for d in shape)})
            offset = f.tell()
        row_bytes = sample * 4
        step = block or max(1, BLOCK_BYTES // max(1, row_bytes))
        with open(path, "r+b") as f:
            def read(start: int, stop: int) -> np.ndarray:
                f.seek(offset + start * row_bytes)
                return np.fromfile(f, dtype=np.float32, count=(stop - start) * sample).reshape(-1, *shape[1:])

            for start in range(0, n, step):
                part = np.ascontiguousarray(rows(order[start:start + step]), dtype=np.float32)
                f.seek(offset + start * row_bytes)
                f.write(part.tobytes())
                report((start + step) / n, min(start + step, n), unit)
            f.truncate(offset + n * row_bytes)
            report(1.0, n, unit, force=True)
            scaler = None
            if standardize != "none":
                shift, scale = fit_rows(standardize, read, n_train, step)
                scaler = {"shift": shift.tolist(), "scale": scale.tolist(), "shape": list(shift.shape)}
                for start in range(0, n, step):
                    part = read(start, min(start + step, n))
                    part -= shift
                    part /= scale
                    if not np.isfinite(part).all():
                        raise DataError(f"standardize {standardize!r} gives values beyond float32 (about 3.4e38): "
                                        "the features span too wide a range, or barely vary in training and far "
                                        "more in validation; set standardize to none", "training.dataset.standardize")
                    f.seek(offset + start * row_bytes)
                    f.write(part.tobytes())
        for key, value in (arrays or {}).items():
            np.save(temp / f"{key}.npy", value, allow_pickle=False)
        full_meta = {**meta, "arrays": sorted(arrays or {}), "shape": list(shape), "n_train": int(n_train),
                     "scaler": scaler, "standardize": standardize}
        (temp / "meta.json").write_text(json.dumps(full_meta), encoding="utf-8")
        final = root / name
        shutil.rmtree(final, ignore_errors=True)
        os.replace(temp, final)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    entry = open_entry(name)
    if entry is None:
        raise DataError(f"the data cache entry {root / name} could not be read back", shown)
    return entry


def _kept(x: np.ndarray) -> np.ndarray:
    """A block as [values, K]: K statistics, over the same axes as ``scaling.fit_scaler``."""
    if x.ndim == 4:  # [n, C, H, W]: per channel
        return np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])
    return x.reshape(-1, x.shape[-1])


def _stat_shape(x: np.ndarray) -> tuple[int, ...]:
    if x.ndim == 4:
        return (x.shape[1], 1, 1)
    if x.ndim == 3:
        return (1, x.shape[2])
    return (x.shape[1],)


def fit_rows(method: str, read: Callable[[int, int], np.ndarray], n: int, step: int) -> tuple[np.ndarray, np.ndarray]:
    """(shift, scale) of rows ``[0, n)`` as float32, the same as ``scaling.fit_scaler`` gives, a block at a time."""
    import torch

    from .scaling import finish_scale

    first = read(0, 1)
    k = _kept(first).shape[1]
    spans = [(start, min(start + step, n)) for start in range(0, n, step)]
    if method == "zscore":
        total = np.zeros(k)
        for a, b in spans:
            total += _kept(read(a, b)).astype(np.float64).sum(axis=0)
        count = n * (_kept(first).shape[0])
        mean = total / max(count, 1)
        squares = np.zeros(k)
        for a, b in spans:
            squares += ((_kept(read(a, b)).astype(np.float64) - mean) ** 2).sum(axis=0)
        shift, scale = mean, np.sqrt(squares / max(count, 1))
    else:
        low = np.full(k, np.inf)
        high = np.full(k, -np.inf)
        for a, b in spans:
            block = _kept(read(a, b))
            low = np.minimum(low, block.min(axis=0))
            high = np.maximum(high, block.max(axis=0))
        shift, scale = low, high - low
    shape = _stat_shape(first)
    shift_t, scale_t = finish_scale(torch.from_numpy(shift.reshape(shape)), torch.from_numpy(scale.reshape(shape)),
                                    torch.float32)
    return shift_t.numpy(), scale_t.numpy()


def description(entry: Entry) -> str:
    return (f"read from disk a batch at a time: {size_text(entry.x.nbytes)} is more than the "
            f"{size_text(limits.memory_budget())} a data set may hold in memory (cache {entry.folder})")


def streamed(name: str, task: str, entry: Entry, targets: np.ndarray | None, opts: dict[str, Any], *,
             class_names: list[str] | None = None, output_shape: tuple[int, ...] | None = None,
             extra: dict[str, Any] | None = None, x_dtype: str = "float", note: str | None = None):
    """The ``Dataset`` whose split tensors are views of the map; ``targets`` are in split order.

    ``extra["streamed"]`` says so, for ``Dataset.describe``; ``note`` in place of the cache's own words."""
    import torch

    from .assemble import make_augmentation, target_tensor
    from .dataset import DataInput, Dataset, Split
    from .scaling import Scaler

    x = torch.from_numpy(entry.x)  # shares the map: no copy
    n_train = entry.meta["n_train"]
    y = target_tensor(targets, task)
    train = Split((x[:n_train],), None if y is None else y[:n_train])
    val = Split((x[n_train:],), None if y is None else y[n_train:]) if n_train < len(x) else None
    scaler = None
    saved = entry.meta.get("scaler")
    if saved is not None:
        shape = tuple(saved["shape"])
        scaler = Scaler(entry.meta["standardize"], torch.tensor(saved["shift"], dtype=torch.float32).reshape(shape),
                        torch.tensor(saved["scale"], dtype=torch.float32).reshape(shape))
    sample = tuple(int(d) for d in entry.x.shape[1:])
    if output_shape is None:
        output_shape = (len(class_names or []),) if task == "classification" else tuple(targets.shape[1:])
    info = dict(extra or {})
    info["streamed"] = note or description(entry)
    return Dataset(
        name=name, task=task, inputs=(DataInput("x", sample, x_dtype),), train=train, val=val,
        output_shape=tuple(int(d) for d in output_shape), class_names=list(class_names or []), scaler=scaler,
        augmentation=make_augmentation(name, opts, sample), extra=info, spec={"name": name, **opts},
    )
