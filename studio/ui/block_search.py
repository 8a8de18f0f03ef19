"""Matching typed text against the block library, shared by the palette's
search box and the canvas's quick search."""

from __future__ import annotations

import blocks
from blocks import BlockSpec


def matches(spec: BlockSpec, text: str) -> bool:
    text = text.strip().lower()
    if not text:
        return True
    hay = " ".join((spec.name, *spec.aliases, spec.category, spec.doc)).lower()
    return all(word in hay for word in text.split())


def rank(text: str) -> list[BlockSpec]:
    """Blocks matching ``text``: exact name, then name prefix, then name contains, then doc."""
    text = text.strip().lower()
    found = [s for s in blocks.all_blocks() if matches(s, text)]

    def score(s: BlockSpec) -> int:
        names = [n.lower() for n in (s.name, *s.aliases)]
        if text in names:
            return 0
        if any(n.startswith(text) for n in names):
            return 1
        if any(text in n for n in names):
            return 2
        return 3

    return sorted(found, key=score)  # stable: library order within a score


def tooltip(spec: BlockSpec) -> str:
    """The block's doc (with its formula) and its parameters, as rich text."""
    rows = [f"<b>{spec.name}</b> <span style='color:gray'>({spec.category})</span>", spec.doc]
    if spec.params:
        items = []
        for p in spec.params:
            default = "auto" if p.default is None else p.default
            items.append(f"<li><b>{p.name}</b> = {default} — {p.doc}</li>")
        rows.append("<ul style='margin:0'>" + "".join(items) + "</ul>")
    return "<br>".join(rows)
