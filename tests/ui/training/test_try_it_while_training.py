"""The Try it tab during a person's first run: it says a trained network is on its way, not "Train
first: press Train", and offers the network once the run ends."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from tests.person import click

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def test_try_it_says_a_run_is_training_then_offers_its_network(make_window, answers, qtbot, tmp_path):
    window = make_window()
    data = json.loads((EXAMPLES / "spiral_mlp.json").read_text())
    data["training"]["epochs"] = 100_000  # still going when the person looks
    path = tmp_path / "spiral.json"
    path.write_text(json.dumps(data))
    answers.open_name = str(path)
    QTest.keyClick(window, Qt.Key_O, Qt.ControlModifier)
    panel = window.training_panel
    qtbot.waitUntil(lambda: panel.chooser.dataset is not None, timeout=10_000)
    view = panel.try_it
    bar = panel.views.tabBar()
    tab = [bar.tabText(i) for i in range(bar.count())].index("Try it")
    click(bar, bar.tabRect(tab).center())
    qtbot.waitUntil(lambda: panel.views.currentIndex() == tab, timeout=2000)
    assert view.message.isVisible() and view.message.text().startswith("Train first: press Train")
    click(panel.controls.train_button)
    qtbot.waitUntil(lambda: panel.running, timeout=5000)
    if panel.views.currentIndex() != tab:  # (Train may bring a live view to the front)
        click(bar, bar.tabRect(tab).center())
    qtbot.waitUntil(lambda: panel.views.currentIndex() == tab, timeout=2000)
    QApplication.processEvents()
    assert view.message.isVisible() and view.message.text().startswith("Training: when this run ends")
    click(panel.controls.stop_button)
    qtbot.waitUntil(lambda: not panel.running, timeout=10_000)
    qtbot.waitUntil(lambda: view.kind == "points", timeout=5000)  # the trained network, to click on
