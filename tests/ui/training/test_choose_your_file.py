"""A person picks a data set of their own (arrays, a table, a folder of images): before a file is
chosen the window asks for it; it does not say the data set failed."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from tests.person import choose

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "spiral_mlp.json"


@pytest.mark.parametrize("entry, what", [("npz (your file)", "file"), ("image_folder (your folder)", "folder")])
def test_a_data_set_of_ones_own_asks_for_the_file(make_window, answers, qtbot, entry, what):
    window = make_window()
    answers.open_name = str(EXAMPLE)
    QTest.keyClick(window, Qt.Key_O, Qt.ControlModifier)
    panel = window.training_panel
    qtbot.waitUntil(lambda: panel.chooser.dataset is not None, timeout=10_000)
    choose(panel.chooser.name_box, entry)
    QApplication.processEvents()
    status = panel.status_label.text()
    assert status == f"Choose your {what} with Browse… next to path, then press Train.", status
    assert not panel.chooser.error_label.isVisible()
    # the decision boundary's tab does not claim the data has none: there is no data yet
    assert panel.boundary_view.empty_label.text().startswith("No data set loaded.")


def test_train_refused_for_want_of_a_file_empties_the_last_runs_bars(make_window, answers, qtbot):
    from tests.person import click

    window = make_window()
    answers.open_name = str(EXAMPLE)
    QTest.keyClick(window, Qt.Key_O, Qt.ControlModifier)
    panel = window.training_panel
    qtbot.waitUntil(lambda: panel.chooser.dataset is not None, timeout=10_000)
    click(panel.controls.train_button)
    qtbot.waitUntil(lambda: not panel.running and panel.last_end is not None, timeout=60_000)
    assert panel.controls.run_bar.value() == panel.controls.run_bar.maximum() > 0  # the run's 100%
    choose(panel.chooser.name_box, "npz (your file)")
    click(panel.controls.train_button)
    assert panel.status_label.text().startswith("Not started")
    assert panel.controls.run_bar.value() == 0 and panel.controls.run_bar.format() == "run —"
    listed = [panel.problem_list.item(i).text() for i in range(panel.problem_list.count())]
    assert any("npz: no file chosen yet" in t for t in listed) and not any("data set npz" in t for t in listed), listed
