"""Inputs a person brings, read into raw samples for a ``Predictor``.

- CSV: one sample per row, the data set's feature columns; a header line is
  optional (with one, a CSV data set's columns are matched by name, so the
  training file itself, target column and all, can be given).
- ``.npy``: ``[n, *shape]`` or one sample ``[*shape]``; never a pickle.
- Images (.png, .jpg, .bmp...): converted to the Input's channels, resized to its
  H, W by area averaging, mapped onto the training inputs' raw range. A one-channel
  image whose background is the opposite of the training images' (black ink on
  white paper for digits learned white on black) is inverted first.
- Text: one sample per line. Token models: tokens through the data set's
  vocabulary (characters, or words separated by spaces); float models: numbers
  separated by spaces or commas.

Each sample is named (``x.csv:3`` for line 3, ``x.npy[2]``, ``digit.png``), and each
refusal names the file, line or row, and what was expected.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .loading import EXIT_UNREADABLE
from .predict import Predictor, PredictError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
MAX_FILE_BYTES = 256 * 2**20
_LEAST_SIDE = 4  # pixels: a side of 1 is a window or a table, not a picture  # an input file is read whole: at most this many bytes


@dataclass(frozen=True)
class Sample:
    name: str  # the file, file:line or file[index]
    x: np.ndarray  # one raw sample [*input_shape]
    image: bool = False  # read from an image file (saliency maps are drawn for these)


def _fmt(shape) -> str:
    return "[" + ", ".join(str(int(d)) for d in shape) + "]"


# ---- images ---------------------------------------------------------------------------------

def image_layout(predictor: Predictor, where: str = "image") -> tuple[int, int, int]:
    """(C, H, W) an image must become for this network: an Input [C, H, W] with 1 or 3
    channels, [H, W], or [F] with F a square number of at least 8 x 8 pixels. A forecast's
    window ([length, 1]) and a handful of features (iris's [4]) are no image."""
    shape = predictor.input_shape
    if predictor.input_dtype == "float" and predictor.task != "sequence":
        if len(shape) == 3 and shape[0] in (1, 3):
            return shape
        if len(shape) == 2 and min(shape) >= _LEAST_SIDE:
            return (1, *shape)
        if len(shape) == 1 and math.isqrt(shape[0]) ** 2 == shape[0] and shape[0] >= 64 and (
                predictor.task == "classification"):  # as the Try it tab offers a drawing pad
            side = math.isqrt(shape[0])
            return (1, side, side)
    raise PredictError(f"{where}: an image, but the network takes {_fmt(shape)} "
                       f"{predictor.input_dtype} samples{' (windows of a series)' if predictor.task == 'sequence' else ''}"
                       ", not an image")


def resize_area(a: np.ndarray, height: int, width: int) -> np.ndarray:
    """[C, H, W] resized to [C, height, width], each output pixel the mean of the area it covers."""
    import torch
    import torch.nn.functional as F

    if a.shape[1:] == (height, width):
        return a.astype(np.float32)
    t = torch.as_tensor(np.ascontiguousarray(a, dtype=np.float32))[None]
    return F.interpolate(t, size=(height, width), mode="area")[0].numpy()


def image_to_input(gray: np.ndarray, predictor: Predictor) -> np.ndarray:
    """``gray`` [H, W], floats 0..1 where 1 is ink -> one raw sample [*input_shape]: resized to the
    Input's H, W by area averaging, 0..1 mapped onto ``predictor.raw_range()``."""
    gray = np.asarray(gray, dtype=np.float32)
    if gray.ndim != 2:
        raise PredictError(f"image: expected a grey image [H, W], got {_fmt(gray.shape)}")
    c, h, w = image_layout(predictor)
    small = resize_area(np.clip(gray, 0.0, 1.0)[None], h, w)
    lo, hi = predictor.raw_range()
    raw = lo + small * (hi - lo)
    return np.repeat(raw, c, axis=0).reshape(predictor.input_shape).astype(np.float32)


def _border_mean(a: np.ndarray) -> float:
    """Mean of the outermost pixels of [..., H, W] images."""
    edges = [a[..., 0, :], a[..., -1, :], a[..., 1:-1, 0], a[..., 1:-1, -1]]
    return float(np.mean(np.concatenate([e.reshape(-1) for e in edges])))


def _training_border_bright(predictor: Predictor) -> bool:
    """Whether the training images' background (their border) is the bright end of the range."""
    c, h, w = image_layout(predictor)
    x = predictor.dataset.train.x[:512]
    if predictor.dataset.scaler is not None:
        x = predictor.dataset.scaler.invert(x)
    lo, hi = predictor.raw_range()
    border = _border_mean(x.reshape(-1, c, h, w).numpy())
    return hi > lo and (border - lo) / (hi - lo) > 0.5


def read_image(path: Path, predictor: Predictor, shown: str | None = None) -> np.ndarray:
    """An image file as one raw sample."""
    from .images import decode

    shown = shown or str(path)
    c, h, w = image_layout(predictor, shown)
    small, border = decode(path, shown, c, h, w)  # [C, H, W] in [0, 1]
    if c == 1 and (border > 0.5) != _training_border_bright(predictor):
        small = 1.0 - small  # ink and paper the other way round from the training images
    lo, hi = predictor.raw_range()
    return (lo + small * (hi - lo)).reshape(predictor.input_shape).astype(np.float32)


# ---- files of numbers -------------------------------------------------------------------------

def _read_bytes(path: Path, shown: str) -> bytes:
    from studio.data import DataError
    from studio.data.files.paths import open_regular

    try:
        f, size = open_regular(path, shown)
    except DataError as exc:
        raise PredictError(str(exc), EXIT_UNREADABLE) from None
    with f:
        if size > MAX_FILE_BYTES:
            raise PredictError(f"{shown}: the file is {size:,} bytes; an input file may have at most "
                               f"{MAX_FILE_BYTES:,}")
        return f.read(MAX_FILE_BYTES + 1)


def _read_text(path: Path, shown: str) -> str:
    data = _read_bytes(path, shown)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PredictError(f"{shown}: not UTF-8 text ({exc.reason} at byte {exc.start})", EXIT_UNREADABLE) from None


def read_npy(path: Path, predictor: Predictor, shown: str | None = None) -> list[Sample]:
    shown = shown or str(path)
    data = _read_bytes(path, shown)
    try:
        a = np.load(io.BytesIO(data), allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise PredictError(f"{shown}: holds Python objects (a pickle), which are never loaded; "
                               "save plain numbers") from None
        raise PredictError(f"{shown}: not a NumPy .npy file ({exc})", EXIT_UNREADABLE) from None
    except (OSError, EOFError) as exc:
        raise PredictError(f"{shown}: not a NumPy .npy file ({exc})", EXIT_UNREADABLE) from None
    if not isinstance(a, np.ndarray):  # an .npz archive loads as a mapping of arrays
        raise PredictError(f"{shown}: an .npz archive; give one .npy array")
    batch = predictor.check(a, shown).numpy()
    if len(batch) == 0:
        raise PredictError(f"{shown}: holds no samples (an array {_fmt(a.shape)})")
    if a.shape == predictor.input_shape:
        return [Sample(shown, batch[0])]
    return [Sample(f"{shown}[{i}]", s) for i, s in enumerate(batch)]


def _number(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None


def _columns(dataset) -> list[tuple[str, str | None]]:
    """Per feature, (the training file's column, the category it is one-hot for, or None)."""
    categorical = set(dataset.extra.get("categorical") or [])
    out = []
    for name in dataset.extra.get("feature_names") or []:
        column, _, value = name.partition("=")
        out.append((column, value) if value and column in categorical else (name, None))
    return out


def _delimiter(dataset, text: str, want: int) -> str:
    """The data set's own delimiter for a CSV data set; else ',', or ';' or a tab when the first
    line holds one of those and no comma (a table saved with another separator)."""
    if dataset.name == "csv":
        return str(dataset.spec.get("delimiter") or ",")
    first = next((line for line in text.splitlines() if line.strip()), "")
    if want > 1 and "," not in first:
        for other in (";", "\t"):
            if other in first:
                return other
    return ","


def read_csv(path: Path, predictor: Predictor, shown: str | None = None) -> list[Sample]:
    """One sample per row; a first row that is not all numbers is a header."""
    shown = shown or str(path)
    text = _read_text(path, shown)
    want = int(np.prod(predictor.input_shape))
    columns = _columns(predictor.dataset)
    delimiter = _delimiter(predictor.dataset, text, want)
    try:
        rows = [(i + 1, row) for i, row in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter))
                if any(c.strip() for c in row)]
    except csv.Error as exc:
        raise PredictError(f"{shown}: not a readable CSV file ({exc})") from None
    order = None  # per feature (the header's column, the category) when the header names them
    if rows and any(_number(c) is None for c in rows[0][1]):
        line, header = rows.pop(0)
        header = [h.strip() for h in header]
        if columns and all(c in header for c, _ in columns):
            # by name: extra columns (the target) are left out, a text column is one-hot again
            order = [(header.index(c), value) for c, value in columns]
        elif len(header) != want:
            names = list(dict.fromkeys(c for c, _ in columns))
            named = f" ({', '.join(names[:8])}{', ...' if len(names) > 8 else ''})" if names else ""
            missing = [c for c in names if c not in header]
            hint = f"; missing {', '.join(missing[:5])}" if names and missing else ""
            plural = "column" if len(header) == 1 else "columns"
            raise PredictError(f"{shown} line {line}: the header names {len(header)} {plural}, the network takes "
                               f"{want} features{named}{hint}")
    if not rows:
        raise PredictError(f"{shown}: no rows of numbers")
    categories: dict[str, list[str]] = {}
    for c, value in columns:
        if value is not None:
            categories.setdefault(c, []).append(value)
    samples = []
    for line, row in rows:
        if order is None and len(row) != want:
            raise PredictError(f"{shown} line {line}: {len(row)} values, the network takes {want} "
                               f"(one sample {_fmt(predictor.input_shape)} per row)")
        values = []
        for k in range(want):
            index, value = order[k] if order is not None else (k, None)
            cell = (row[index] if index < len(row) else "").strip()
            name = columns[k][0] if order is not None else str(k + 1)
            if value is not None:
                known = categories[name]
                if cell not in known:
                    raise PredictError(f"{shown} line {line}, column {name}: {cell[:40]!r} is not one of the "
                                       f"training file's values ({', '.join(known[:8])}"
                                       f"{', ...' if len(known) > 8 else ''})")
                values.append(1.0 if cell == value else 0.0)
                continue
            v = _number(cell)
            if v is None:
                raise PredictError(f"{shown} line {line}, column {name}: {cell[:40]!r} is not a number")
            values.append(v)
        x = np.asarray(values).reshape(predictor.input_shape)
        samples.append(Sample(f"{shown}:{line}", predictor.check(x, f"{shown} line {line}").numpy()[0]))
    return samples


def tokenize(line: str, vocab: list[str]) -> list[str]:
    """A line's tokens: words when any token is longer than one character, else characters
    (spaces dropped unless a space is itself a token)."""
    if any(len(t) != 1 for t in vocab):
        return line.split()
    if " " in vocab:
        return list(line)
    return [ch for ch in line if not ch.isspace()]


def read_text(path: Path, predictor: Predictor, shown: str | None = None) -> list[Sample]:
    """One sample per non-empty line: tokens (token models) or numbers (float models)."""
    shown = shown or str(path)
    text = _read_text(path, shown)
    shape = predictor.input_shape
    want = int(np.prod(shape))
    samples = []
    vocab = predictor.vocab
    index = {t: i for i, t in enumerate(vocab)} if vocab else {}
    for number, raw_line in enumerate(text.splitlines(), start=1):
        line = raw_line.rstrip("\r\n")
        if not line.strip():
            continue
        where = f"{shown} line {number}"
        if predictor.input_dtype == "long":
            if not vocab:
                raise PredictError(f"{shown}: the data set has no vocabulary to read tokens with")
            tokens = tokenize(line, vocab)
            for t in tokens:
                if t not in index:
                    shown_vocab = ", ".join(repr(v) for v in vocab[:12]) + (", ..." if len(vocab) > 12 else "")
                    raise PredictError(f"{where}: token {t!r} is not in the data set's vocabulary "
                                       f"({len(vocab)} tokens: {shown_vocab})")
            if len(tokens) != want:
                raise PredictError(f"{where}: {len(tokens)} tokens, the network takes {want}")
            x = np.asarray([index[t] for t in tokens], dtype=np.int64).reshape(shape)
        else:
            cells = line.replace(",", " ").split()
            values = []
            for cell in cells:
                v = _number(cell)
                if v is None:
                    raise PredictError(f"{where}: {cell[:40]!r} is not a number")
                values.append(v)
            if len(values) != want:
                raise PredictError(f"{where}: {len(values)} values, the network takes {want} "
                                   f"(one sample {_fmt(shape)} per line)")
            x = np.asarray(values).reshape(shape)
        samples.append(Sample(f"{shown}:{number}", predictor.check(x, where).numpy()[0]))
    if not samples:
        raise PredictError(f"{shown}: no lines to predict on (the file is empty)")
    return samples


def read_inputs(paths, predictor: Predictor) -> list[Sample]:
    """Every sample of every file, in order; the first bad one is refused naming its place."""
    samples: list[Sample] = []
    for p in paths:
        path = Path(p)
        shown = str(p)
        if not path.exists():
            raise PredictError(f"{shown}: no such file", EXIT_UNREADABLE)
        if path.is_dir():
            raise PredictError(f"{shown}: a folder, not a file of samples; give the files in it "
                               f"({Path(shown) / '*.png'}, ...)", EXIT_UNREADABLE)
        if path.is_file() and path.stat().st_size == 0:
            raise PredictError(f"{shown}: the file is empty (0 bytes): it holds no samples")
        suffix = path.suffix.lower()
        if suffix in IMAGE_SUFFIXES:
            samples.append(Sample(shown, read_image(path, predictor, shown), image=True))
        elif suffix == ".npy":
            samples.extend(read_npy(path, predictor, shown))
        elif suffix == ".csv":
            samples.extend(read_csv(path, predictor, shown))
        elif suffix == ".npz":
            raise PredictError(f"{shown}: an .npz archive; give one .npy array")
        else:
            samples.extend(read_text(path, predictor, shown))
    return samples


def range_note(samples: list[Sample], predictor: Predictor) -> str | None:
    """A warning when samples read from numbers lie far outside the training inputs' raw range
    (digits saved 0..16 for a data set that holds them 0..1), or None."""
    if predictor.input_dtype != "float":
        return None
    lo, hi = predictor.raw_range()
    span = hi - lo
    if not span > 0:
        return None
    far = [s for s in samples if not s.image and (s.x.min() < lo - span or s.x.max() > hi + span)]
    if not far:
        return None
    least = min(float(s.x.min()) for s in far)
    most = max(float(s.x.max()) for s in far)
    more = f" and {len(far) - 1} more hold" if len(far) > 1 else " holds"
    return (f"note: {far[0].name}{more} values from {least:.4g} to {most:.4g}, far outside the training "
            f"inputs' {lo:.4g} to {hi:.4g}: give samples as the data set holds them before its scaling, or the "
            "predictions may mean little")
