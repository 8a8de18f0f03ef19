"""A CSV table: one target column, numeric and categorical feature columns.

Numeric columns are used as they are; text columns are one-hot encoded
(``colour=red``, ``colour=blue``...). The first line names the columns.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
from blocks import Param

from ..assemble import assemble
from ..catalog import DatasetInfo, register
from ..errors import DataError
from ..options import SPLIT, STANDARDIZE, place
from ..limits import CSV_CELL_BYTES, MAX_ONE_HOT_VALUES, check_memory, memory_budget, size_text
from ..progress import report
from .paths import open_regular, resolve

# A numeric target with at most this many distinct whole numbers is taken as classes.
MAX_INT_CLASSES = 20


@dataclass
class Column:
    name: str
    cells: list[str]
    lines: list[int]  # the file line of each row, shared by every column, for messages

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
                raise DataError(f"{_short(cell)!r} is not a finite number", f"{where} line {line}, column {self.name!r}")
            if abs(out[i]) > FLOAT32_MAX:
                raise DataError(f"{_short(cell)!r} is beyond what float32 holds (about 3.4e38)",
                                f"{where} line {line}, column {self.name!r}")
        return out


FLOAT32_MAX = float(np.finfo(np.float32).max)


def _short(cell: str, most: int = 40) -> str:
    return cell if len(cell) <= most else cell[:most] + "..."


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


_BREAK = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")


class _Lines:
    """The file's text lines for ``csv.reader``, counted as the reader counts them.

    Decoded line by line, so a byte that is not UTF-8 is reported at its line;
    the lines of the row being read are kept to tell where a bad quote opened.
    """

    def __init__(self, binary, shown: str):
        self.binary = binary
        self.shown = shown
        self.number = 0  # lines handed out
        self.row: list[str] = []  # lines of the row being read

    def __iter__(self):
        first = True
        for raw in self.binary:
            try:
                text = raw.decode("utf-8-sig" if first else "utf-8")
            except UnicodeDecodeError as exc:
                raise DataError(f"not UTF-8 text ({exc.reason} at byte {exc.start} of the line)",
                                f"{self.shown} line {self.number + 1}") from None
            first = False
            # A lone carriage return ends a line too, as csv counts lines.
            for line in (_BREAK.findall(text) if "\r" in text[:-2] else (text,)):
                self.number += 1
                self.row.append(line)
                yield line


def _bad_quote(lines: list[str], first_line: int, delimiter: str) -> tuple[str, int, int, str]:
    """Where the row's quoting goes wrong: ("open", line it opened) or ("after", open line, close line, char)."""
    in_quote = closed = False
    at_start = True
    line = open_line = close_line = first_line
    text = "".join(lines)
    i = 0
    while i < len(text):
        ch = text[i]
        newline = ch == "\n" or (ch == "\r" and text[i + 1:i + 2] != "\n")
        if in_quote:
            if ch == '"':
                if text[i + 1:i + 2] == '"':
                    i += 1
                else:
                    in_quote, closed, close_line = False, True, line
        elif closed:
            if ch == delimiter or ch in "\r\n":
                closed, at_start = False, True
            else:
                return "after", open_line, close_line, ch
        elif at_start and ch == '"':
            in_quote, open_line = True, line
        else:
            at_start = ch == delimiter or ch in "\r\n"
        if newline:
            line += 1
        i += 1
    return ("open", open_line, 0, "") if in_quote else ("", first_line, 0, "")


def _csv_error(exc: csv.Error, lines: _Lines, first_line: int, shown: str, delimiter: str) -> DataError:
    how, opened, closed, after = _bad_quote(lines.row, first_line, delimiter)
    limit = csv.field_size_limit()
    if how == "open" and "field larger" in str(exc):
        return DataError(f"a quoted cell opens here and runs past {limit:,} characters: is a quote left open? "
                         "(a quote inside a quoted cell is written twice: \"\")", f"{shown} line {opened}")
    if how == "open":
        return DataError("a quote opens here and never closes, so every line after it would be read as one cell; "
                         "close the quote, or remove it", f"{shown} line {opened}")
    if how == "after" and opened == closed:
        return DataError(f"{after!r} follows a closing quote; a quoted cell ends at its quote "
                         "(a quote inside a quoted cell is written twice: \"\")", f"{shown} line {closed}")
    if how == "after":
        return DataError(f"a quote opens here and closes only on line {closed}, followed by {after!r}: "
                         "check the quotes", f"{shown} line {opened}")
    if "field larger" in str(exc):
        return DataError(f"a cell longer than {limit:,} characters", f"{shown} line {first_line}")
    return DataError(f"not valid CSV ({exc})", f"{shown} line {lines.number}")


def read_columns(full, shown: str, delimiter: str) -> list[Column]:
    binary, size = open_regular(full, shown)
    # Every cell is a Python string while the table is read: stop before they fill the memory.
    most_cells = max(1, memory_budget() // CSV_CELL_BYTES)
    with binary:
        lines = _Lines(binary, shown)
        reader = csv.reader(lines, delimiter=delimiter, strict=True)
        header = header_line = None
        cols: list[Column] = []
        row_lines: list[int] = []
        cells = 0
        while True:
            first_line = lines.number + 1
            lines.row.clear()
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                raise _csv_error(exc, lines, first_line, shown, delimiter) from None
            if not row or all(not c.strip() for c in row):
                continue  # blank lines
            line = first_line
            if header is None:
                header, header_line = [h.strip() for h in row], line
                for i, h in enumerate(header):
                    if not h:
                        raise DataError(f"column {i + 1} has no name", f"{shown} line {header_line}")
                    if header.index(h) != i:
                        raise DataError(f"column name {h!r} appears twice", f"{shown} line {header_line}")
                cols = [Column(h, [], row_lines) for h in header]
                continue
            if len(row) != len(header):
                raise DataError(f"{len(row)} cells but the header names {len(header)} columns",
                                f"{shown} line {line}")
            cells += len(row)
            if cells > most_cells:
                raise DataError(f"the table is too large to read: {cells:,} cells by this line take about "
                                f"{size_text(cells * CSV_CELL_BYTES)} in memory, more than a data set may take "
                                f"({size_text(memory_budget())}); use fewer rows or columns",
                                f"{shown} line {line}")
            for col, cell in zip(cols, row):
                cell = cell.strip()
                if not cell:
                    raise DataError("empty cell (missing values are not filled in; remove or fill the row)",
                                    f"{shown} line {line}, column {col.name!r}")
                col.cells.append(cell)
            row_lines.append(line)
            if len(row_lines) % 4096 == 0:
                report(binary.tell() / max(size, 1), len(row_lines), "rows")
    if header is None:
        raise DataError("the file is empty; the first line must name the columns", shown)
    if not row_lines:
        raise DataError("no data rows after the header", shown)
    return cols


def _categories(col: Column, shown: str) -> list[str]:
    """The distinct values of a text column, refused when one-hot encoding them would be absurd."""
    values = set(col.cells)
    if len(values) > MAX_ONE_HOT_VALUES:
        raise too_many_values(col.name, len(values), len(col.cells), shown)
    return sorted(values)


def _target(col: Column, task: str, shown: str) -> tuple[str, np.ndarray, list[str]]:
    numeric = col.is_numeric()
    if task == "regression":
        if not numeric:
            first = next(i for i, c in enumerate(col.cells) if not _is_number(c))
            raise DataError(f"regression needs numbers, but the target holds text ({col.cells[first]!r})",
                            f"{shown} line {col.lines[first]}, column {col.name!r}")
        return "regression", col.floats(shown)[:, None], []
    if numeric:
        return numeric_target(col.floats(shown), task)
    names = sorted(set(col.cells))
    index = {v: i for i, v in enumerate(names)}
    return "classification", np.array([index[c] for c in col.cells]), names


def numeric_target(values: np.ndarray, task: str) -> tuple[str, np.ndarray, list[str]]:
    """A numeric target column (float64): classes when asked, or when it holds few whole numbers."""
    if task == "regression":
        return "regression", values[:, None], []
    whole = bool(np.all(values == np.round(values)))
    distinct = np.unique(values)
    if task == "auto" and not (whole and len(distinct) <= MAX_INT_CLASSES):
        return "regression", values[:, None], []
    names = [str(int(v)) if whole else repr(float(v)) for v in distinct]
    return "classification", np.searchsorted(distinct, values), names


def too_many_values(name: str, distinct: int, rows: int, shown: str) -> DataError:
    return DataError(
        f"the text column holds {distinct:,} distinct values in {rows:,} rows; one-hot encoding "
        f"makes a feature of each and stops at {MAX_ONE_HOT_VALUES:,}. An id or free text does not help a "
        f"network: leave the column out (ignore: {name!r}), make it the target, or give it as integer "
        "ids to an Embedding", f"{shown}, column {name!r}")


def _load_careful(o: dict[str, Any], full, shown: str) -> Any:
    """Every cell read as text with its line: slow, but it names the line and column of any bad cell."""
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
    # Every width is known before anything is allocated: one column per number, one per category.
    kinds = [(col, None if col.is_numeric() else _categories(col, shown)) for col in features]
    width = sum(1 if values is None else len(values) for _, values in kinds)
    rows = len(target.cells)
    check_memory(2 * rows * width * 4, f"{rows:,} rows x {width:,} features x 4 bytes (twice: the table "
                 "and its training and validation parts)", shown, "leave columns out with ignore")
    x = np.zeros((rows, width), dtype=np.float32)
    feature_names, categorical = [], []
    at = 0
    for col, values in kinds:
        if values is None:
            x[:, at] = col.floats(shown)
            feature_names.append(col.name)
            at += 1
        else:
            index = {v: i for i, v in enumerate(values)}
            x[np.arange(rows), at + np.fromiter((index[c] for c in col.cells), dtype=np.int64, count=rows)] = 1.0
            feature_names += [f"{col.name}={v}" for v in values]
            categorical.append(col.name)
            at += len(values)
    task, y, class_names = _target(target, o["task"], shown)
    return assemble("csv", task, x, y, o, class_names=class_names,
                    extra={"feature_names": feature_names, "categorical": categorical, "target": target_name})


def _load(o: dict[str, Any], base) -> Any:
    full, shown = resolve(o["path"], base)
    if len(o["delimiter"]) != 1:
        raise DataError(f"the delimiter must be one character, got {o['delimiter']!r}", place("delimiter"))
    from .csv_fast import load_fast

    dataset = load_fast(o, full, shown)
    # None: the table is not the clean case (a bad cell, a blank row, odd quoting...): read it cell by
    # cell, which loads what the fast reader would not take or names the line and column at fault.
    return dataset if dataset is not None else _load_careful(o, full, shown)


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
