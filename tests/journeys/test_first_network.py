"""A learner's first network, as they build it: an empty window, blocks dragged
from the palette, ports wired by mouse, a size typed into the inspector, xor
picked from the data set list, Train. With the app's defaults and the data
set's suggested settings it reaches 100% in seconds; then it is saved and
opened again."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from studio.files import dumps

from person import choose, click, node_point, palette_drag, type_into, wire


def build_xor_mlp(window) -> None:
    """Input -> Linear(10) -> Tanh -> Linear(2), by mouse and keyboard."""
    width = window.view.viewport().width()
    for block, share in (("Input", 0.1), ("Linear", 0.35), ("Tanh", 0.6), ("Linear", 0.85)):
        drop = palette_drag(window, block, QPoint(int(width * share), 200))
        assert drop.isAccepted()
    graph = window.editor.graph
    assert list(graph.nodes) == ["input1", "linear1", "tanh1", "linear2"]
    wire(window, "input1", "linear1")
    wire(window, "linear1", "tanh1")
    wire(window, "tanh1", "linear2")
    assert len(graph.edges) == 3
    # Two classes out: select the last Linear, type 2 into its out_features, Enter.
    click(window.view.viewport(), node_point(window, "linear2"))
    assert window.inspector.node_id == "linear2"
    type_into(window.inspector.editors["out_features"].edit, "2", then="enter")
    assert graph.node("linear2").params["out_features"] == 2
    assert graph.shapes.output("linear2", "out") == (2,)


def run_to_end(window, qtbot, timeout_ms: int = 60_000) -> float:
    panel = window.training_panel
    started = time.monotonic()
    with qtbot.waitSignal(panel.runFinished, timeout=timeout_ms) as blocker:
        click(panel.controls.train_button)
    assert blocker.args == ["finished"], panel.last_error
    return time.monotonic() - started


def test_a_new_graph_learns_xor_with_the_defaults(window, qtbot, answers, tmp_path):
    build_xor_mlp(window)
    panel = window.training_panel
    choose(panel.chooser.name_box, "xor")
    QApplication.processEvents()
    training = window.editor.graph.training
    # The data set came with settings that suit it, as one undoable edit.
    assert training["dataset"] == {"name": "xor"}
    assert training["optimizer"]["lr"] > 0.001 and training["epochs"] >= 50
    assert "suggested" in panel.chooser.suggestion_label.text()
    assert panel.config_form.widgets[("epochs",)].value() == training["epochs"]

    seconds = run_to_end(window, qtbot)
    end = panel.last_end
    assert end.status == "finished"
    accuracy = panel.run.curves["train_acc"][1]
    assert accuracy[-1] == 1.0, f"XOR ended at {accuracy[-1]:.0%}"
    assert seconds < 30  # the bar is 10 s on one idle core; the suite shares two busy ones
    assert panel.status_label.text().startswith("Run 1: Finished")

    # Save with Ctrl+S (a new graph asks for a name), then open it again: the same network and settings.
    path = tmp_path / "xor.json"
    answers.save_name = str(path)
    click(window.view.viewport(), QPoint(40, 40))
    QTest.keyClick(window.view, Qt.Key_S, Qt.ControlModifier)
    assert path.exists() and not window.isWindowModified()
    saved = dumps(window.editor.graph)
    QTest.keyClick(window.view, Qt.Key_N, Qt.ControlModifier)
    assert len(window.editor.graph) == 0
    assert window.open_path(path)
    graph = window.editor.graph
    assert list(graph.nodes) == ["input1", "linear1", "tanh1", "linear2"]
    assert graph.training == training
    assert dumps(graph) == saved == path.read_text()


def test_settings_a_person_chose_are_kept(window, qtbot):
    panel = window.training_panel
    type_into(panel.config_form.widgets[("epochs",)], "7", then="enter")
    assert window.editor.graph.training["epochs"] == 7
    choose(panel.chooser.name_box, "xor")
    QApplication.processEvents()
    training = window.editor.graph.training
    assert training["epochs"] == 7 and "optimizer" not in training
    assert not panel.chooser.suggestion_label.isVisible()


def test_suggestions_follow_the_data_set_and_undo_in_one_step(window, qtbot):
    panel = window.training_panel
    stack = window.editor.undo_stack
    choose(panel.chooser.name_box, "xor")
    choose(panel.chooser.name_box, "spiral")
    QApplication.processEvents()
    training = window.editor.graph.training
    assert training["dataset"] == {"name": "spiral"} and training["epochs"] == 80
    click(window.view.viewport(), QPoint(40, 40))
    QTest.keyClick(window.view, Qt.Key_Z, Qt.ControlModifier)
    QApplication.processEvents()
    assert window.editor.graph.training == {} and stack.index() == 0


@pytest.mark.parametrize("name", ["xor", "spiral", "moons", "digits", "reverse", "iris"])
def test_every_suggestion_is_a_valid_setting(name):
    from studio.training import TrainingConfig
    from studio.training.suggestions import suggested

    config = TrainingConfig.from_dict({"dataset": {"name": name}, **suggested(name)})
    assert config.epochs == suggested(name)["epochs"]
