"""The settings table in docs/training.md is generated from the declared settings and must not
fall behind them."""

from __future__ import annotations

import pytest
from doc_generators import DOCS
from doc_generators import load_generator as load

from studio.training.config import TrainingConfig, limits
from studio.training.settings_fields import walk


def load_generator():
    return load("gen_training")


def page() -> str:
    return (DOCS / "training.md").read_text(encoding="utf-8")


def test_settings_table_is_current():
    assert page() == load_generator().render(page()), (
        "the settings table in docs/training.md is stale: run .venv/bin/python docs/gen_training.py")


def test_settings_table_has_a_row_for_every_setting_with_its_label_default_and_range():
    gen = load_generator()
    table = page().partition(gen.BEGIN)[2].partition(gen.END)[0]
    rows = {line.split(" | ")[0][3:-1]: line for line in table.splitlines() if line.startswith("| `")}
    keys = [key for key, _ in walk(TrainingConfig)]
    assert list(rows) == keys
    for key, spec in walk(TrainingConfig):
        assert f"| {spec.setting.label} |" in rows[key], key
    assert "| `optimizer.lr` | Learning rate | `0.001` | a number > 0 and <= 10 |" in rows["optimizer.lr"]
    assert "a whole number >= 0 and <= 2,147,483,647" in rows["seed"]
    assert "Only when `schedule.name` is step or exponential." in rows["schedule.gamma"]
    assert "auto, cpu, cuda, mps" in rows["device"]
    assert set(limits()) < set(rows)


def test_a_page_without_its_markers_is_refused_not_overwritten():
    with pytest.raises(ValueError, match="markers"):
        load_generator().render("# Training\n\nno table here\n")
