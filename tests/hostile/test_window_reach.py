"""A shared graph file that names a file outside its folder: the window asks before reading
it, shows nothing of it when the answer is no, and remembers a yes for that file."""

from __future__ import annotations

import json

import pytest

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from studio.ui.main_window import EXAMPLES_DIR


def graph_reading(tmp_path, written: str):
    folder = tmp_path / "shared"
    folder.mkdir(exist_ok=True)
    doc = json.loads((EXAMPLES_DIR / "spiral_mlp.json").read_text())
    doc["training"]["dataset"] = {"name": "text", "path": written}
    path = folder / "stranger.json"
    path.write_text(json.dumps(doc))
    return path


def secret(tmp_path):
    outside = tmp_path / "private"
    outside.mkdir()
    target = outside / "secrets.txt"
    target.write_text("the password is swordfish\n" * 40)
    return target


def open_with_keys(window, answers, path):
    answers.open_name = str(path)
    QTest.keyClick(window, Qt.Key_O, Qt.ControlModifier)


def shown_text(chooser) -> str:
    preview = chooser.preview
    cells = [preview.table.item(r, c).text() for r in range(preview.table.rowCount())
             for c in range(preview.table.columnCount()) if preview.table.item(r, c)]
    return " ".join([preview.message.text(), chooser.describe_label.text(), *cells])


@pytest.mark.parametrize("how", ["absolute", "climbing", "link"])
def test_a_path_outside_the_folder_is_not_read_without_a_yes(window, answers, tmp_path, qtbot, how):
    target = secret(tmp_path)
    if how == "link":
        (tmp_path / "shared").mkdir()
        (tmp_path / "shared" / "data.txt").symlink_to(target)
    written = {"absolute": str(target), "climbing": "../private/secrets.txt", "link": "data.txt"}[how]
    open_with_keys(window, answers, graph_reading(tmp_path, written))
    asked = [m for kind, m in answers.asked if kind == "outside"]
    assert len(asked) == 1 and str(target) in asked[0]
    chooser = window.training_panel.chooser
    qtbot.waitUntil(lambda: not chooser.loading, timeout=10_000)
    assert chooser.dataset is None
    assert "outside" in chooser.error and "training.dataset.path" in chooser.error
    assert "swordfish" not in shown_text(chooser)
    # Train says why, and trains nothing.
    QTest.mouseClick(window.training_panel.controls.train_button, Qt.LeftButton)
    assert not window.training_panel.running
    problems = window.training_panel.problem_list
    assert any("outside" in problems.item(i).text() for i in range(problems.count()))


def test_a_yes_reads_it_and_is_remembered_for_that_file(window, answers, tmp_path, qtbot):
    target = secret(tmp_path)
    graph_file = graph_reading(tmp_path, str(target))
    answers.allow_outside = True
    open_with_keys(window, answers, graph_file)
    chooser = window.training_panel.chooser
    qtbot.waitUntil(lambda: chooser.dataset is not None, timeout=10_000)
    assert [kind for kind, _ in answers.asked].count("outside") == 1
    # Opened again later: not asked again.
    QTest.keyClick(window, Qt.Key_N, Qt.ControlModifier)
    answers.asked.clear()
    open_with_keys(window, answers, graph_file)
    qtbot.waitUntil(lambda: chooser.dataset is not None, timeout=10_000)
    assert not [kind for kind, _ in answers.asked if kind == "outside"]
