"""A CSV table: one target column, numeric and categorical feature columns.

Numeric columns are used as they are; text columns are one-hot encoded
(``colour=red``, ``colour=blue``...). The first line names the columns.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from typing import Any

import numpy as np
from blocks import Param

from ..assemble import assemble
from ..catalog import DatasetInfo, register
from ..errors import DataError
from ..options import SPLIT, STANDARDIZE, place
from .paths import resolve

# A numeric target with at most this many distinct whole numbers is taken as classes.
MAX_INT_CLASSES = 20


@dataclass
class Column:
    name: str
    cells: list[str]
    lines: list[int]  # the file line of each cell, for messages

    def numbers(self) -> int:
        return sum(_is_number(c) for c in self.cells)

    def is_numeric(self) -> bool:
        # Mostly numbers: a stray word is a bad cell to report, not a category.
        return self.numbers() * 2 > len(self.cells)

    def floats(self, where: str) -> np.ndarray:
        out = np.empty(len(self.cells), dtype=np.float64)
        for i, (cell, line) in enumerate(zip(self.cells, self.lines)):
            try:
                out[i] = float(cell)
            except ValueError:
                raise DataError(f"{cell!r} is not a number (the column holds numbers)",
                                f"{where} line {line}, column {self.name!r}") from None
            if not np.isfinite(out[i]):
                raise DataError(f"{cell!r} is not a finite number", f"{where} line {line}, column {self.name!r}")
        return out


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def read_columns(full, shown: str, delimiter: str) -> list[Column]:
    try:
        with open(full, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f, delimiter=delimiter)
            header = next((row for row in reader if any(c.strip() for c in row)), None)
            if header is None:
                raise DataError("the file is empty; the first line must name the columns", shown)
            header_line = reader.line_num
            header = [h.strip() for h in header]
            for i, h in enumerate(header):
                if not h:
                    raise DataError(f"column {i + 1} has no name", f"{shown} line {header_line}")
                if header.index(h) != i:
                    raise DataError(f"column name {h!r} appears twice", f"{shown} line {header_line}")
            cols = [Column(h, [], []) for h in header]
            for row in reader:
                if not row or all(not c.strip() for c in row):
                    continue  # blank lines
                line = reader.line_num
                if len(row) != len(header):
                    raise DataError(f"{len(row)} cells but the header names {len(header)} columns",
                                    f"{shown} line {line}")
                for col, cell in zip(cols, row):
                    cell = cell.strip()
                    if not cell:
                        raise DataError("empty cell (missing values are not filled in; remove or fill the row)",
                                        f"{shown} line {line}, column {col.name!r}")
                    col.cells.append(cell)
                    col.lines.append(line)
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", shown) from None
    except csv.Error as exc:
        raise DataError(f"not a valid CSV file: {exc}", shown) from None
    if not cols[0].cells:
        raise DataError("no data rows after the header", shown)
    return cols


def _one_hot(col: Column) -> tuple[np.ndarray, list[str]]:
    values = sorted(set(col.cells))
    index = {v: i for i, v in enumerate(values)}
    out = np.zeros((len(col.cells), len(values)))
    out[np.arange(len(col.cells)), [index[c] for c in col.cells]] = 1.0
    return out, [f"{col.name}={v}" for v in values]


def _target(col: Column, task: str, shown: str) -> tuple[str, np.ndarray, list[str]]:
    numeric = col.is_numeric()
    if task == "regression":
        if not numeric:
            first = next(i for i, c in enumerate(col.cells) if not _is_number(c))
            raise DataError(f"regression needs numbers, but the target holds text ({col.cells[first]!r})",
                            f"{shown} line {col.lines[first]}, column {col.name!r}")
        return "regression", col.floats(shown)[:, None], []
    if numeric:
        values = col.floats(shown)
        whole = bool(np.all(values == np.round(values)))
        distinct = np.unique(values)
        if task == "auto" and not (whole and len(distinct) <= MAX_INT_CLASSES):
            return "regression", values[:, None], []
        names = [str(int(v)) if whole else repr(float(v)) for v in distinct]
        return "classification", np.searchsorted(distinct, values), names
    names = sorted(set(col.cells))
    index = {v: i for i, v in enumerate(names)}
    return "classification", np.array([index[c] for c in col.cells]), names


def _load(o: dict[str, Any], base) -> Any:
    full, shown = resolve(o["path"], base)
    if len(o["delimiter"]) != 1:
        raise DataError(f"the delimiter must be one character, got {o['delimiter']!r}", place("delimiter"))
    cols = read_columns(full, shown, o["delimiter"])
    names = [c.name for c in cols]
    target_name = o["target"] or names[-1]
    if target_name not in names:
        raise DataError(f"{shown} has no column {target_name!r} (it has: {', '.join(names)})", place("target"))
    ignored = [s.strip() for s in o["ignore"].split(",") if s.strip()]
    for name in ignored:
        if name not in names:
            raise DataError(f"{shown} has no column {name!r} (it has: {', '.join(names)})", place("ignore"))
    target = cols[names.index(target_name)]
    features = [c for c in cols if c.name != target_name and c.name not in ignored]
    if not features:
        raise DataError(f"no feature columns left besides the target {target_name!r}", shown)
    blocks_, feature_names, categorical = [], [], []
    for col in features:
        if col.is_numeric():
            blocks_.append(col.floats(shown)[:, None])
            feature_names.append(col.name)
        else:
            encoded, labels = _one_hot(col)
            blocks_.append(encoded)
            feature_names += labels
            categorical.append(col.name)
    x = np.concatenate(blocks_, axis=1)
    task, y, class_names = _target(target, o["task"], shown)
    return assemble("csv", task, x, y, o, class_names=class_names,
                    extra={"feature_names": feature_names, "categorical": categorical, "target": target_name})


register(DatasetInfo(
    "csv", "auto",
    "A CSV table with a header line: pick the target column; numeric features are used as they are, "
    "text features are one-hot encoded. A text target, or few whole numbers, means classification.",
    (
        Param("path", "str", "", "the CSV file, relative to the graph file's folder"),
        Param("target", "str", "", "the column to predict (empty: the last column)"),
        Param("task", "choice", "auto", "auto: classification for text or few whole numbers, else regression",
              choices=("auto", "classification", "regression")),
        Param("ignore", "str", "", "columns to leave out, separated by commas (ids, names...)"),
        Param("delimiter", "str", ",", "the character between cells"),
        *SPLIT, STANDARDIZE,
    ),
    _load, source="file",
))
