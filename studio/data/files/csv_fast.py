"""A CSV table read by pandas' C parser, a block of rows at a time.

This reader takes the clean case only: a header of distinct names on the first
line (quoted or not), every row as wide as the header, no empty cell, quoting
that Python's csv module reads in its strict mode (checked by a pass of that
module's C reader, only when the file holds a quote), numeric columns that hold
finite float32 numbers. Anything else raises ``_NotClean`` and
the careful reader of ``csv_file`` reads the file cell by cell instead, which
either loads it or names the line and column at fault, so messages stay exact
while the clean case costs what pandas costs.

Numbers are parsed straight to float32 (the target to float64, for its class
names); text columns become int32 codes as they are read. When the table would
take more memory than a data set may (``limits.memory_budget``), the blocks go
to a temporary file and the features to a memory-mapped cache entry
(``studio.data.stream``) instead of memory.
"""

from __future__ import annotations

import io
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .. import stream
from ..assemble import assemble
from ..errors import DataError
from ..limits import check_memory
from ..options import place
from ..progress import report
from ..splitting import split_indices
from .csv_file import FLOAT32_MAX, MAX_ONE_HOT_VALUES, _is_number, numeric_target, too_many_values
from .paths import open_regular

# The first bytes, read to find the header and guess which columns hold numbers.
SAMPLE_BYTES = 256 * 1024
CHUNK_ROWS = 100_000
# Rows whose cells tell which columns hold numbers (a later word in a number column is a bad cell).
SAMPLE_ROWS = 200


def _strict_quoting(full: Path, shown: str, delimiter: str) -> bool:
    """Whether csv's strict reader takes the whole file: where it does, pandas reads the same cells."""
    import collections
    import csv

    binary, _ = open_regular(full, shown)
    try:
        with io.TextIOWrapper(binary, encoding="utf-8-sig", newline="") as text:
            collections.deque(csv.reader(text, delimiter=delimiter, strict=True), maxlen=0)  # rows dropped as read
    except (csv.Error, UnicodeDecodeError, ValueError, OSError):
        return False
    return True


class _NotClean(Exception):
    """Not the case this reader takes; the careful reader decides."""


class _Counted:
    """The file as pandas reads it (``read`` only), counting bytes (for the progress bar) and noting quotes."""

    def __init__(self, f, size: int, start: int):
        self.f = f
        self.size = max(size, 1)
        self.done = start
        self.quotes = 0

    def read(self, n: int = -1) -> bytes:
        data = self.f.read(n)
        if data:
            if not self.quotes and data.find(b'"') >= 0:
                self.quotes = 1
            self.done += len(data)
        return data

    def __iter__(self):  # pandas checks that a source is iterable; it reads with read()
        return iter(self.f)


class _Text:
    """One text column as int32 codes, its values numbered as they come."""

    def __init__(self):
        self.index: dict[str, int] = {}
        self.values: list[str] = []
        self.numbers: list[bool] = []

    def codes(self, cells) -> np.ndarray:
        import pandas as pd

        local, uniques = pd.factorize(cells, use_na_sentinel=False)
        lut = np.empty(len(uniques), dtype=np.int32)
        for i, value in enumerate(uniques):
            value = str(value).strip()
            if not value:
                raise _NotClean  # an empty cell
            code = self.index.get(value)
            if code is None:
                code = self.index[value] = len(self.values)
                self.values.append(value)
                self.numbers.append(_is_number(value))
            lut[i] = code
        return lut[local]

    def number_count(self, codes: np.ndarray) -> int:
        """Cells that are numbers: a column mostly of numbers is a numeric column with bad cells."""
        counts = np.bincount(codes, minlength=len(self.values))
        return int(counts[np.array(self.numbers, dtype=bool)].sum()) if self.values else 0

    def sorted_codes(self) -> tuple[list[str], np.ndarray]:
        """The values sorted, and each old code's place among them."""
        order = sorted(range(len(self.values)), key=self.values.__getitem__)
        lut = np.empty(len(order), dtype=np.int32)
        lut[np.array(order, dtype=np.int64)] = np.arange(len(order), dtype=np.int32)
        return [self.values[i] for i in order], lut


def load_fast(o: dict[str, Any], full: Path, shown: str):
    """The data set, or None when the file is not the clean case."""
    entry_name = stream.entry_name(full, stream.file_stamp(full), {k: v for k, v in o.items() if k != "path"})
    entry = stream.open_entry(entry_name)
    if entry is not None:
        return _from_entry(o, entry)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # an overflow in a cast: the value is checked below
            return _load(o, full, shown, entry_name)
    except _NotClean:
        return None


def _header(head: bytes, delimiter: str) -> tuple[list[str], int]:
    end = head.find(b"\n")
    if end < 0:
        raise _NotClean
    try:
        text = head[:end + 1].decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _NotClean from None
    line = text.rstrip("\r\n")
    if "\r" in line or not line.strip():
        raise _NotClean
    if '"' in line:  # names quoted, as R and spreadsheets write them: csv's strict reader takes them
        import csv

        try:
            rows = list(csv.reader([line], delimiter=delimiter, strict=True))
        except csv.Error:
            raise _NotClean from None
        if len(rows) != 1:
            raise _NotClean
        names = [h.strip() for h in rows[0]]
    else:
        names = [h.strip() for h in line.split(delimiter)]
    if not all(names) or len(set(names)) != len(names):
        raise _NotClean
    return names, end + 1


def _numeric_in_sample(head: bytes, start: int, delimiter: str, k: int) -> tuple[list[bool], int]:
    """Which columns hold only numbers in the first rows, and how many bytes a row takes."""
    import pandas as pd

    body = head[start:head.rfind(b"\n") + 1]
    lines = body.count(b"\n")
    try:
        sample = pd.read_csv(io.BytesIO(body), nrows=SAMPLE_ROWS, sep=delimiter, header=None, names=list(range(k)),
                             index_col=False, dtype=str, na_filter=False, engine="c", encoding="utf-8")
    except Exception:  # any parse problem: the careful reader names it
        raise _NotClean from None
    if len(sample) == 0:
        raise _NotClean
    numeric = [all(_is_number(v) for v in pd.unique(sample[i])) for i in range(k)]
    return numeric, max(1, len(body) // max(lines, 1))


def _load(o: dict[str, Any], full: Path, shown: str, entry_name: str):
    import pandas as pd

    delimiter = o["delimiter"]
    binary, size = open_regular(full, shown)
    with binary:
        head = binary.read(SAMPLE_BYTES)
        names, start = _header(head, delimiter)
        k = len(names)
        numeric, row_bytes = _numeric_in_sample(head, start, delimiter, k)
        target_name = o["target"] or names[-1]
        ignored = {s.strip() for s in o["ignore"].split(",") if s.strip()}
        target = names.index(target_name) if target_name in names else -1
        features = [i for i in range(k) if i != target and names[i] not in ignored]
        num_cols = [i for i in features if numeric[i]]
        text_cols = [i for i in features if not numeric[i]]
        skipped = [i for i in range(k) if i != target and names[i] in ignored]
        dtypes: dict[int, Any] = {i: (np.float32 if numeric[i] else str) for i in range(k)}
        for i in skipped:
            dtypes[i] = str
        if target >= 0:
            dtypes[target] = np.float64 if numeric[target] else str
        # Too large for memory by the first rows' measure: the blocks go to disk as they are read.
        rows_guess = (size - start) // row_bytes
        on_disk = stream.should_stream(2 * rows_guess * max(len(features), 1) * 4)
        binary.seek(start)
        counted = _Counted(binary, size, start)
        texts = {i: _Text() for i in text_cols}
        target_text = _Text() if target >= 0 and not numeric[target] else None
        sink = _Sink(len(num_cols), len(text_cols), on_disk, rows_guess, shown)
        try:
            reader = pd.read_csv(counted, sep=delimiter, header=None,
                                 names=list(range(k)), index_col=False, dtype=dtypes, na_filter=False, engine="c",
                                 encoding="utf-8", chunksize=CHUNK_ROWS)
            with reader:
                for frame in reader:
                    _take(frame, sink, num_cols, text_cols, texts, target, target_text, skipped)
                    # pandas reads ahead a buffer at a time: the rows parsed tell more than the bytes read.
                    report(min(counted.done / counted.size, sink.rows / max(rows_guess, 1)), sink.rows, "rows")
        except _NotClean:
            sink.close()
            raise
        except (DataError, MemoryError):
            sink.close()
            raise
        except Exception:  # a row too wide, a cell that is no number, text that is not UTF-8...
            sink.close()
            raise _NotClean from None
        if counted.quotes and not _strict_quoting(full, shown, delimiter):
            sink.close()
            raise _NotClean  # pandas reads "a"b as ab; csv refuses it, and the careful reader says where
    report(1.0, sink.rows, "rows", force=True)
    try:
        return _finish(o, full, shown, entry_name, names, target_name, ignored, num_cols, text_cols, texts,
                       target, target_text, sink)
    finally:
        sink.close()


class _Sink:
    """The blocks read so far: in lists, or appended to temporary files when the table is large."""

    def __init__(self, n_num: int, n_text: int, on_disk: bool, rows_guess: int = 0, shown: str = ""):
        self.n_num, self.n_text, self.rows = n_num, n_text, 0
        self.folder = None
        # Numbers go straight into one array, grown when the guess was short: no copy to join blocks.
        self.num = np.empty((rows_guess + rows_guess // 8 + CHUNK_ROWS if not on_disk else 0, n_num), np.float32)
        self.codes: list[np.ndarray] = []
        self.target: list[np.ndarray] = []
        if on_disk:
            root = stream.ensure_root(shown)
            self.folder = tempfile.TemporaryDirectory(prefix=".csv-", dir=root)
            self.files = [open(Path(self.folder.name) / f, "wb") for f in ("num", "codes")]

    def numbers(self, m: int) -> np.ndarray:
        """Where the next ``m`` rows' numbers go: straight into the table in memory, else a block for the file."""
        if self.folder is not None:
            return np.empty((m, self.n_num), np.float32)
        end = self.rows + m
        if end > len(self.num):
            grown = np.empty((max(end, len(self.num) * 3 // 2), self.n_num), np.float32)
            grown[:self.rows] = self.num[:self.rows]
            self.num = grown
        return self.num[self.rows:end]

    def add(self, num: np.ndarray, codes: np.ndarray, target: np.ndarray) -> None:
        """The rows whose numbers were written into ``numbers(len(target))``."""
        self.rows += len(target)
        self.target.append(target)
        if self.folder is None:
            self.codes.append(codes)
        else:
            self.files[0].write(np.ascontiguousarray(num).tobytes())
            self.files[1].write(np.ascontiguousarray(codes).tobytes())

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        target = np.concatenate(self.target)
        self.target.clear()
        if self.folder is None:
            num = self.num[:self.rows]
            if len(self.num) - self.rows > self.rows // 2:
                num = num.copy()  # the guess was far too long: give the rest back
            self.num = np.empty((0, self.n_num), np.float32)
            codes = np.concatenate(self.codes) if self.codes else np.empty((0, self.n_text), np.int32)
            self.codes.clear()
            return num, codes, target
        for f in self.files:
            f.close()
        maps = []
        for name, dtype, width in (("num", np.float32, self.n_num), ("codes", np.int32, self.n_text)):
            if width == 0 or self.rows == 0:
                maps.append(np.zeros((self.rows, width), dtype))
            else:
                maps.append(np.memmap(Path(self.folder.name) / name, dtype=dtype, mode="r", shape=(self.rows, width)))
        return maps[0], maps[1], target

    def close(self) -> None:
        if self.folder is not None:
            for f in self.files:
                f.close()
            self.folder.cleanup()
            self.folder = None


def _take(frame, sink: _Sink, num_cols, text_cols, texts, target: int, target_text, skipped) -> None:
    m = len(frame)
    num = sink.numbers(m)
    for j, i in enumerate(num_cols):  # column by column: no frame-wide copy in between
        num[:, j] = frame[i].to_numpy()
    if num_cols and not np.isfinite(num).all():
        raise _NotClean
    codes = np.empty((m, len(text_cols)), dtype=np.int32)
    for j, i in enumerate(text_cols):
        codes[:, j] = texts[i].codes(frame[i].to_numpy())
    for i in skipped:  # left out, but an empty cell there is still an empty cell
        if (frame[i].str.strip() == "").any():
            raise _NotClean
    if target < 0:
        t = np.zeros(m, dtype=np.float64)
    elif target_text is not None:
        t = target_text.codes(frame[target].to_numpy())
    else:
        t = frame[target].to_numpy(dtype=np.float64)
        if not np.isfinite(t).all() or (np.abs(t) > FLOAT32_MAX).any():
            raise _NotClean
    sink.add(num, codes, t)


def _finish(o, full, shown, entry_name, names, target_name, ignored, num_cols, text_cols, texts, target,
            target_text, sink):
    rows = sink.rows
    if rows == 0:
        raise _NotClean
    # The careful reader's checks, in its order.
    if target < 0:
        raise DataError(f"{shown} has no column {target_name!r} (it has: {', '.join(names)})", place("target"))
    for name in [s.strip() for s in o["ignore"].split(",") if s.strip()]:
        if name not in names:
            raise DataError(f"{shown} has no column {name!r} (it has: {', '.join(names)})", place("ignore"))
    if not num_cols and not text_cols:
        raise DataError(f"no feature columns left besides the target {target_name!r}", shown)
    num, codes, target_values = sink.arrays()
    for j, i in enumerate(text_cols):
        if texts[i].number_count(codes[:, j]) * 2 > rows:
            raise _NotClean  # mostly numbers: a numeric column with a bad cell, to be named by line
    features = sorted(num_cols + text_cols)
    layout: list[tuple[str, int, Any]] = []  # ("num", column in num, None) or ("text", column in codes, lut)
    feature_names, categorical = [], []
    width = 0
    for i in features:
        if i in num_cols:
            layout.append(("num", num_cols.index(i), None))
            feature_names.append(names[i])
            width += 1
        else:
            values, lut = texts[i].sorted_codes()
            if len(values) > MAX_ONE_HOT_VALUES:
                raise too_many_values(names[i], len(values), rows, shown)
            layout.append(("text", text_cols.index(i), lut))
            feature_names += [f"{names[i]}={v}" for v in values]
            categorical.append(names[i])
            width += len(values)
    if target_text is not None:
        if target_text.number_count(target_values) * 2 > rows or o["task"] == "regression":
            raise _NotClean  # a bad cell or a text target for regression: named by line
        class_names, lut = target_text.sorted_codes()
        task, y = "classification", lut[target_values].astype(np.int64)
    else:
        task, y, class_names = numeric_target(target_values, o["task"])
    extra = {"feature_names": feature_names, "categorical": categorical, "target": target_name}

    def make_rows(idx: np.ndarray) -> np.ndarray:
        """Feature rows ``idx`` of the table: numbers as they are, one column per category."""
        full_range = len(idx) == rows and idx[0] == 0 and bool((np.diff(idx) == 1).all())
        if full_range and not text_cols and num_cols == features:
            return num  # every feature a number, in file order: the table as read
        if full_range:
            at, back = slice(None), None
        else:  # gathered in file order, so a map on disk is read front to back
            back = np.argsort(idx, kind="stable")
            at = idx[back]
        if full_range:
            block_num, block_codes = num[at], codes[at]
        else:  # the table on disk: read a span at a time, its pages let go
            block_num, block_codes = stream.gather(num, at), stream.gather(codes, at)
        out = np.zeros((len(idx), width), dtype=np.float32)
        rows_at = np.arange(len(idx))
        col = 0
        for kind, j, lut in layout:
            if kind == "num":
                out[:, col] = block_num[:, j]
                col += 1
            else:
                out[rows_at, col + lut[block_codes[:, j]]] = 1.0
                col += len(lut)
        if back is None:
            return out
        result = np.empty_like(out)
        result[back] = out
        return result

    nbytes = 2 * rows * width * 4
    if not stream.should_stream(nbytes):
        check_memory(nbytes, f"{rows:,} rows x {width:,} features x 4 bytes (twice: the table "
                     "and its training and validation parts)", shown, "leave columns out with ignore")
        x = make_rows(np.arange(rows))
        del num, codes
        return assemble("csv", task, x, y, o, class_names=class_names, extra=extra)
    labels = y if task == "classification" else None
    tr, va = split_indices(rows, o["val_fraction"], o["seed"], labels)
    if len(tr) == 0:
        raise DataError(f"no training samples left: {rows} samples with val_fraction {o['val_fraction']}",
                        place("val_fraction"))
    order = np.concatenate([tr, va])
    meta = {"task": task, "class_names": class_names, "extra": extra}
    entry = stream.build(entry_name, (rows, width), order, make_rows, len(tr), o["standardize"], meta, shown,
                         "rows cached", arrays={"y": y[order]})
    return _from_entry(o, entry)


def _from_entry(o, entry):
    meta = entry.meta
    return stream.streamed("csv", meta["task"], entry, entry.arrays["y"], o, class_names=meta["class_names"],
                           extra=meta["extra"])
