"""A plain text file for character-level models: windows of characters -> the next one."""

from __future__ import annotations

from typing import Any

import numpy as np
from blocks import Param

from ..assemble import assemble
from ..catalog import DatasetInfo, register
from ..errors import DataError
from ..options import place
from ..limits import MAX_TEXT_BYTES, check_memory, size_text
from .paths import open_regular, resolve

_SHOWN = {"\n": "\\n", "\t": "\\t", " ": "space", "\r": "\\r"}


def read_text(full, shown: str) -> str:
    """The whole file as text, refused beyond ``MAX_TEXT_BYTES`` or when it is not UTF-8."""
    f, size = open_regular(full, shown)
    with f:
        if size > MAX_TEXT_BYTES:
            raise DataError(f"the file is {size_text(size)}; a text data set reads at most "
                            f"{size_text(MAX_TEXT_BYTES)}", shown)
        check_memory(size * 4, f"{size_text(size)} of text read as characters (up to 4 bytes each)", shown)
        data = f.read(MAX_TEXT_BYTES + 1)
    if len(data) > MAX_TEXT_BYTES:  # it grew while being read
        raise DataError(f"the file is over {size_text(MAX_TEXT_BYTES)}; a text data set reads at most that", shown)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", shown) from None


def _load(o: dict[str, Any], base) -> Any:
    full, shown = resolve(o["path"], base)
    text = read_text(full, shown)
    if o["lowercase"]:
        text = text.lower()
    length, step = o["length"], o["step"]
    if len(text) < length + 1:
        raise DataError(f"{shown} has {len(text)} characters; windows of {length} need at least {length + 1}",
                        place("length"))
    count = (len(text) - length + step - 1) // step
    check_memory(count * length * 8, f"{count:,} windows x {length:,} characters x 8 bytes", place("length"),
                 "use a shorter length, a larger step or a shorter text")
    # Code points in one array: no Python object per character.
    points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    codes, ids = np.unique(points, return_inverse=True)
    ids = ids.astype(np.int64).reshape(-1)
    vocab = [chr(c) for c in codes.tolist()]
    starts = np.arange(0, len(ids) - length, step)
    x = ids[starts[:, None] + np.arange(length)[None, :]]
    y = ids[starts + length]
    return assemble("text", "classification", x, y, o, x_dtype="long", vocab=vocab,
                    class_names=[_SHOWN.get(ch, ch) for ch in vocab], time_ordered=True,
                    extra={"characters": len(text)})


register(DatasetInfo(
    "text", "classification",
    "A UTF-8 text file, character level: windows of length character ids [length] -> the next character. "
    "The vocabulary is every character in the file; the end of the text validates.",
    (
        Param("path", "str", "", "the text file, relative to the graph file's folder"),
        Param("length", "int", 32, "characters in each input window", min=1, max=100000),
        Param("step", "int", 1, "characters between the starts of two windows", min=1, max=100000),
        Param("lowercase", "bool", False, "fold the text to lower case first (a smaller vocabulary)"),
        Param("val_fraction", "float", 0.1, "share of the windows, at the end of the text, held out",
              min=0.0, max=0.9),
    ),
    _load, source="file",
))
