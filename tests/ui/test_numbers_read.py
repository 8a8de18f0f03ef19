"""Numbers as a person reads them: thousands separated, one wire not "1 wires"."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from tests.person import type_into

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_counts_read_as_people_write_them(make_window, answers, qtbot):
    window = make_window()
    answers.open_name = str(EXAMPLES / "linear_regression.json")
    QTest.keyClick(window, Qt.Key_O, Qt.ControlModifier)
    qtbot.waitUntil(lambda: window.status_label.text().startswith("2 nodes"), timeout=5000)
    status = window.status_label.text()
    assert "1 wire " in status + " " and "1 wires" not in status, status
    chooser = window.training_panel.chooser
    qtbot.waitUntil(lambda: chooser.dataset is not None, timeout=10_000)
    points = chooser.option_widgets["points"]
    type_into(points.lineEdit() if hasattr(points, "lineEdit") else points, "4000", then="enter")
    qtbot.waitUntil(lambda: window.editor.graph.training["dataset"].get("points") == 4000, timeout=5000)
    assert points.text() == "4,000"
    qtbot.waitUntil(lambda: chooser.dataset is not None and len(chooser.dataset.train) > 1000, timeout=10_000)
    panel = window.training_panel
    assert f"{len(chooser.dataset.train):,} training" in panel.status_label.text()
