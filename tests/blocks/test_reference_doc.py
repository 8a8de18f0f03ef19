"""docs/blocks.md is generated from the registry and must not fall behind it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import blocks

DOCS = Path(__file__).resolve().parents[2] / "docs"


def load_generator():
    spec = importlib.util.spec_from_file_location("gen_blocks", DOCS / "gen_blocks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
