"""docs/blocks.md is generated from the registry and must not fall behind it."""

from __future__ import annotations

from doc_generators import DOCS
from doc_generators import load_generator as load

import blocks


def load_generator():
    return load("gen_blocks")


def test_block_reference_is_current():
    committed = (DOCS / "blocks.md").read_text(encoding="utf-8")
    assert committed == load_generator().render(), (
        "docs/blocks.md is stale: run .venv/bin/python docs/gen_blocks.py")


def test_block_reference_lists_every_block_and_parameter():
    text = (DOCS / "blocks.md").read_text(encoding="utf-8")
    for spec in blocks.all_blocks():
        row = next(line for line in text.splitlines() if line.startswith(f"| **{spec.name}"))
        for p in spec.params:
            assert f"`{p.name}`" in row, f"{spec.name}.{p.name} missing from docs/blocks.md"
    assert "| `x`, `adj` -> `out` |" in text
