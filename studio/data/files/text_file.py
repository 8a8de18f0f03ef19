"""A plain text file for character-level models: windows of characters -> the next one."""

from __future__ import annotations

from typing import Any

import numpy as np
from blocks import Param

from ..assemble import assemble
from ..catalog import DatasetInfo, register
from ..errors import DataError
from ..options import place
from .paths import resolve

_SHOWN = {"\n": "\\n", "\t": "\\t", " ": "space", "\r": "\\r"}


def _load(o: dict[str, Any], base) -> Any:
    full, shown = resolve(o["path"], base)
    try:
        text = full.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", shown) from None
    if o["lowercase"]:
        text = text.lower()
    length = o["length"]
    if len(text) < length + 1:
        raise DataError(f"{shown} has {len(text)} characters; windows of {length} need at least {length + 1}",
                        place("length"))
    vocab = sorted(set(text))
    index = {ch: i for i, ch in enumerate(vocab)}
    ids = np.array([index[ch] for ch in text], dtype=np.int64)
    starts = np.arange(0, len(ids) - length, o["step"])
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
