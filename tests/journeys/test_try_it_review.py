"""Try it and File > Export after the graph was edited past its trained weights, as a person meets
it: train, change a Linear's out_features in the inspector, then draw or export. Try it keeps
predicting with the network as it was trained and says so, naming the edit; undoing the edit takes
the line away; an export says that it carries fresh initial weights rather than the trained ones."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from person import click, node_point, press, type_into
from test_try_it import EXAMPLES, draw, open_file, show_tab, train


def edit_out_features(window, node_id: str, value: str) -> None:
    click(window.view.viewport(), node_point(window, node_id))
    assert window.inspector.node_id == node_id
    type_into(window.inspector.editors["out_features"].edit, value, then="enter")
    assert window.editor.graph.node(node_id).params["out_features"] == int(value)


def test_drawing_after_an_edit_says_the_weights_belong_to_the_graph_as_trained(window, answers, qtbot):
    open_file(window, answers, EXAMPLES / "lenet5_digits.json")
    panel = window.training_panel
    type_into(panel.config_form.widgets[("epochs",)], "3", then="enter")
    train(window, qtbot)
    show_tab(panel, "Try it")
    try_it = panel.try_it
    qtbot.waitUntil(lambda: try_it.kind == "image", timeout=5000)
    assert try_it.edited_label.isHidden()

    edit_out_features(window, "fc2", "50")
    show_tab(panel, "Try it")
    top = draw(try_it, qtbot, "1")  # no crash: the trained network still answers
    assert len(top) == 3
    assert try_it.edited_label.isVisible()
    text = try_it.edited_label.text()
    assert "changed since these weights were trained" in text and "fc2: out_features 84 → 50" in text, text

    # Undo (Ctrl+Z on the canvas): the graph is the trained one again, and the line goes.
    window.view.setFocus()
    press(window.view, Qt.Key_Z, Qt.ControlModifier)
    assert window.editor.graph.node("fc2").params["out_features"] == 84
    assert try_it.edited_label.isHidden()


def test_an_export_after_an_edit_says_it_carries_fresh_weights(window, answers, qtbot, tmp_path):
    open_file(window, answers, EXAMPLES / "xor_mlp.json")
    panel = window.training_panel
    answers.export_name = str(tmp_path / "untrained.onnx")
    window.act_export["onnx"].trigger()
    qtbot.waitUntil(lambda: not window.exporting, timeout=60_000)
    assert "with initial, untrained weights: train first" in window.statusBar().currentMessage()
    type_into(panel.config_form.widgets[("epochs",)], "3", then="enter")
    train(window, qtbot)
    answers.export_name = str(tmp_path / "trained.onnx")
    window.act_export["onnx"].trigger()
    qtbot.waitUntil(lambda: not window.exporting, timeout=60_000)
    assert "with the trained weights" in window.statusBar().currentMessage(), window.statusBar().currentMessage()

    edit_out_features(window, "hidden", "5")
    answers.export_name = str(tmp_path / "edited.onnx")
    window.act_export["onnx"].trigger()
    qtbot.waitUntil(lambda: not window.exporting, timeout=60_000)
    message = window.statusBar().currentMessage()
    assert Path(answers.export_name).exists() and not answers.errors(), answers.errors()
    assert "fresh initial weights" in message and "hidden: out_features 8 → 5" in message, message
    QApplication.processEvents()


def test_an_export_to_a_place_that_cannot_be_written_names_the_file_and_folder(window, answers, qtbot, tmp_path):
    open_file(window, answers, EXAMPLES / "xor_mlp.json")
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder")
    places = {
        Path("/proc/xor net.onnx"): "Cannot write /proc/xor net.onnx: ",  # a folder no one may write in
        a_file / "xor.onnx": f"Cannot write {a_file / 'xor.onnx'}: {a_file} is a file, not a folder",
    }
    for kind in ("onnx", "python"):
        for target, said in places.items():
            answers.asked.clear()
            answers.export_name = str(target.with_suffix(".py") if kind == "python" else target)
            window.act_export[kind].trigger()
            qtbot.waitUntil(lambda: not window.exporting, timeout=60_000)
            errors = answers.errors()
            assert len(errors) == 1, (kind, target, errors, window.statusBar().currentMessage())
            expected = said.replace(".onnx", ".py") if kind == "python" else said
            assert expected in errors[0] and ".tmp" not in errors[0], errors[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config", "notes.txt"]


def test_the_plane_and_the_sentences_fit_the_tab_without_a_scroll_bar(window, answers, qtbot):
    """The tab in the window's first size: the plane with its x₁ axis whole, no scroll bar; the sentence
    of a network Try it does not offer in view, not pushed below the dock's edge."""
    open_file(window, answers, EXAMPLES / "spiral_mlp.json")
    panel = window.training_panel
    type_into(panel.config_form.widgets[("epochs",)], "2", then="enter")
    train(window, qtbot)
    show_tab(panel, "Try it")
    try_it = panel.try_it
    qtbot.waitUntil(lambda: try_it.kind == "points", timeout=5000)
    scroll = panel.views.currentWidget()
    QApplication.processEvents()
    assert scroll.viewport().height() >= try_it.minimumSizeHint().height()  # room enough: nothing to scroll
    assert not scroll.verticalScrollBar().isVisible()
    bottom = try_it.plane.mapTo(scroll.viewport(), try_it.plane.rect().bottomLeft()).y()
    assert bottom <= scroll.viewport().height(), (bottom, scroll.viewport().height())

    open_file(window, answers, EXAMPLES / "lstm_sequence.json")
    type_into(panel.config_form.widgets[("epochs",)], "1", then="enter")
    train(window, qtbot)
    show_tab(panel, "Try it")
    QApplication.processEvents()
    assert try_it.kind == "message" and "not offered" in try_it.message.text()
    assert not scroll.verticalScrollBar().isVisible()
    assert try_it.message.height() <= scroll.viewport().height()


SLOW_MODELS = '''
import sys
import time
import torch
from torch import nn


class Slow(nn.Module):
    """A large model: building it takes a while."""

    def __init__(self):
        super().__init__()
        time.sleep(1.5)
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        return self.fc(x)


class Raises(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        raise ValueError("the forward went wrong")


class Quits(nn.Module):
    def __init__(self):
        super().__init__()
        sys.exit(3)
'''


def import_dialog(window, qtbot):
    from test_import_model import open_import_dialog

    return open_import_dialog(window, qtbot)


def test_importing_a_slow_model_keeps_the_window_answering_and_cancel_drops_it(window, answers, qtbot, tmp_path):
    import time

    models = tmp_path / "slow models.py"
    models.write_text(SLOW_MODELS)
    before = window.editor.graph.snapshot()
    dialog = import_dialog(window, qtbot)
    type_into(dialog.file, str(models))
    type_into(dialog.callable, "Slow")
    type_into(dialog.shapes, "4", then="tab")
    started = time.perf_counter()
    press(dialog.shapes, Qt.Key_Return)  # Enter presses Import
    assert time.perf_counter() - started < 0.5  # the window's thread is not held while the model builds
    assert dialog.importing and dialog.message.text() == "Importing slow models.py:Slow…"
    assert not dialog.import_button.isEnabled()
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=30_000)
    assert [n.block for n in window.editor.graph.nodes.values()] == ["Input", "Linear"]

    # Again, and Cancel (Esc) while it builds: nothing opens when it is done.
    opened = window.editor.graph.snapshot()
    dialog = import_dialog(window, qtbot)
    type_into(dialog.file, str(models))
    type_into(dialog.callable, "Slow")
    type_into(dialog.shapes, "4", then="enter")
    assert dialog.importing
    press(dialog, Qt.Key_Escape)
    assert not dialog.isVisible()
    qtbot.waitUntil(lambda: not dialog.importing, timeout=30_000)
    QApplication.processEvents()
    assert window.editor.graph.snapshot() == opened != before
    assert QApplication.overrideCursor() is None

    # A forward that raises, and a model file that calls sys.exit(): said in the dialog, which stays.
    dialog = import_dialog(window, qtbot)
    type_into(dialog.file, str(models))
    for name, said in (("Raises", "the forward went wrong"), ("Quits", "SystemExit: 3")):
        type_into(dialog.callable, name)
        type_into(dialog.shapes, "4", then="enter")
        qtbot.waitUntil(lambda: not dialog.importing, timeout=30_000)
        assert dialog.isVisible() and said in dialog.message.text(), dialog.message.text()
        assert dialog.import_button.isEnabled()
    press(dialog, Qt.Key_Escape)
    assert window.editor.graph.snapshot() == opened


def test_loading_a_text_file_as_weights_says_what_it_is_not_a_truncated_file(window, answers, qtbot, tmp_path):
    """File > Load Weights… with the graph's own .json (or a CSV) picked by mistake."""
    from test_load_weights import choose_in_file_menu
    from studio.ui.training import weights_file

    open_file(window, answers, EXAMPLES / "xor_mlp.json")
    csv = tmp_path / "points.csv"
    csv.write_text("x1,x2,label\n0,0,0\n0,1,1\n")
    picked = []
    original = weights_file.open_weights_name
    try:
        weights_file.open_weights_name = lambda parent, directory="": picked[-1]
        for path, start in ((EXAMPLES / "xor_mlp.json", "'{ \"format\""), (csv, "'x1,x2,label 0,0,0 0,1,1'")):
            picked.append(str(path))
            before = len(answers.errors())
            choose_in_file_menu(window, qtbot, "Load Weights")
            errors = answers.errors()[before:]
            assert len(errors) == 1, errors
            assert errors[0].startswith(f"{path}: a text file ({start}"), errors[0]
            assert "not trained weights" in errors[0] and "truncated" not in errors[0]
    finally:
        weights_file.open_weights_name = original
    assert not window.training_panel.has_weights


def test_the_point_clicked_is_predicted_again_by_the_next_run(window, answers, qtbot):
    import numpy as np
    from PySide6.QtCore import QPointF
    from PySide6.QtTest import QTest

    open_file(window, answers, EXAMPLES / "spiral_mlp.json")
    panel = window.training_panel
    type_into(panel.config_form.widgets[("epochs",)], "2", then="enter")
    train(window, qtbot)
    show_tab(panel, "Try it")
    try_it = panel.try_it
    qtbot.waitUntil(lambda: try_it.kind == "points", timeout=5000)
    qtbot.wait(50)  # the plane lays out its axes
    vb = try_it.plane.getPlotItem().getViewBox()
    at = try_it.plane.mapFromScene(vb.mapViewToScene(QPointF(0.3, -0.4)))
    QTest.mouseClick(try_it.plane.viewport(), Qt.LeftButton, Qt.NoModifier, at)
    x, y = try_it._point
    assert try_it.point_status.text().startswith(f"At ({x:.3g}, {y:.3g}) the network says")

    first = try_it.predictor
    train(window, qtbot)  # a second run while the tab shows
    qtbot.waitUntil(lambda: try_it.predictor is not None and try_it.predictor is not first, timeout=5000)
    assert try_it.point_status.text().startswith(f"At ({x:.3g}, {y:.3g}) the network says")
    expected = try_it.predictor.predict(np.array([[x, y]], np.float32)).top(3)[0]
    assert try_it.point_bars.shown == [(c, float(p)) for c, p in expected]
    assert try_it.plane_marker.getData()[0][0] == x

    # Another document: nothing of it is left.
    open_file(window, answers, EXAMPLES / "overfitting.json")
    assert try_it._point is None and try_it.kind == "none"


def test_typed_tokens_show_each_positions_share_on_hover(window, answers, qtbot):
    import numpy as np
    from PySide6.QtCore import QEvent, QPoint
    from PySide6.QtGui import QHelpEvent
    from PySide6.QtWidgets import QToolTip

    open_file(window, answers, EXAMPLES / "transformer_sequence.json")
    panel = window.training_panel
    type_into(panel.config_form.widgets[("epochs",)], "1", then="enter")
    train(window, qtbot)
    show_tab(panel, "Try it")
    try_it = panel.try_it
    qtbot.waitUntil(lambda: try_it.kind == "tokens", timeout=5000)
    click(try_it.token_edit)
    type_into(try_it.token_edit, "3 1 4 1 5 9 2 6", then="enter")
    assert try_it.token_status.text().startswith("The network says:")
    probs = np.asarray(try_it.prediction.probabilities)[0]
    lines = try_it.token_status.toolTip().splitlines()
    assert len(lines) == 8
    best = probs.argmax(-1)
    assert lines[0] == f"position 1: {try_it.prediction.class_names[best[0]]} ({100 * probs[0].max():.1f}%)"
    # Hovering the line shows them.
    label = try_it.token_status
    QApplication.sendEvent(label, QHelpEvent(QEvent.ToolTip, QPoint(5, 5), label.mapToGlobal(QPoint(5, 5))))
    qtbot.waitUntil(QToolTip.isVisible, timeout=2000)
    assert QToolTip.text() == label.toolTip()
    QToolTip.hideText()
    # Fewer tokens: the problem is said, and no shares of an old prediction linger.
    type_into(try_it.token_edit, "3 1", then="enter")
    assert try_it.token_status.text() == "2 of 8 tokens: type 6 more" and try_it.token_status.toolTip() == ""
