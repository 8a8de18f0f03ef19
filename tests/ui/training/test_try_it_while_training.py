"""The Try it tab during a person's first run: it says a trained network is on its way, not "Train
first: press Train", and offers the network once the run ends."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from tests.person import click, open_example_copy


def test_try_it_says_a_run_is_training_then_offers_its_network(make_window, answers, qtbot, tmp_path):
    window = make_window()
    # still going when the person looks
    panel = open_example_copy(window, answers, qtbot, tmp_path, "spiral_mlp.json", epochs=100_000)
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
