"""The Training dock as a person meets it: plots that read at the window's first
size, New and Open that leave no trace of the last run, a problem list that
follows the document, Runs check boxes on the dark theme, trained weights saved
for the command line, and keys meant for the canvas that stay on the canvas."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from person import click, press, type_into, wire

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
LONG_RUN = 100_000  # epochs: a run that is still going when the person acts


# ---- helpers ------------------------------------------------------------------
def open_file(window, answers, path) -> None:
    """File > Open (Ctrl+O), the dialog answered with ``path``."""
    answers.open_name = str(path)
    press(window, Qt.Key_O, Qt.ControlModifier)
    assert window.path == Path(path)


def new_file(window) -> None:
    press(window, Qt.Key_N, Qt.ControlModifier)
    assert len(window.editor.graph) == 0


def xor_file(tmp_path, epochs: int = 30, **training) -> Path:
    data = json.loads((EXAMPLES / "xor_mlp.json").read_text())
    data["training"].update(epochs=epochs, **training)
    path = tmp_path / "xor.json"
    path.write_text(json.dumps(data))
    return path


def train(window, qtbot, until_end: bool = True) -> None:
    panel = window.training_panel
    click(panel.controls.train_button)
    assert panel.running, panel.status_label.text()
    if until_end:
        qtbot.waitUntil(lambda: not panel.running, timeout=60_000)


def text_rects(axis) -> list[QRectF]:
    """Where the axis draws its tick labels, in scene coordinates."""
    image = QImage(10, 10, QImage.Format_ARGB32)
    painter = QPainter(image)
    if axis.style.get("tickFont") is not None:
        painter.setFont(axis.style["tickFont"])
    try:
        _axis, _ticks, texts = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return [axis.mapRectToScene(rect) for rect, _flags, _text in texts]


def readable(plot, line_px: float) -> list[str]:
    """What keeps a person from reading ``plot``: too low, tick labels on top of each other, a legend cut."""
    faults = []
    box = plot.getViewBox().sceneBoundingRect()
    if box.height() < 3 * line_px:
        faults.append(f"plot area {box.height():.0f} px high, under three lines of text ({3 * line_px:.0f} px)")
    for side in ("left", "bottom"):
        axis = plot.getAxis(side)
        if not axis.isVisible() or not axis.style["showValues"]:
            continue
        rects = text_rects(axis)
        if len(rects) < 2:
            faults.append(f"{side} axis shows {len(rects)} tick label(s)")
        for i, a in enumerate(rects):
            for b in rects[i + 1:]:
                if a.intersects(b):
                    faults.append(f"{side} tick labels overlap: {a} and {b}")
    legend = plot.legend
    if legend is not None and legend.isVisible() and legend.items:
        inside = box.adjusted(-1, -1, 1, 1)
        if not inside.contains(legend.sceneBoundingRect()):
            faults.append(f"legend {legend.sceneBoundingRect()} is cut by the plot area {box}")
    return faults


def plot_faults(panel) -> dict[str, list[str]]:
    view = panel.loss_view
    line = view.fontMetrics().height()
    out = {}
    for name in ("loss_plot", "acc_plot", "lr_plot"):
        faults = readable(getattr(view, name), line)
        if faults:
            out[name] = faults
    return out


def settle(qtbot, ms: int = 50) -> None:
    for _ in range(3):
        QApplication.processEvents()
        qtbot.wait(ms // 3)


# ---- 1. a default layout in which every plot is readable ------------------------
def test_plots_read_at_the_first_window_size_and_the_dock_grows_with_the_window(window, answers, qtbot, tmp_path):
    assert (window.width(), window.height()) == (1400, 860)
    panel = window.training_panel
    panel.views.setCurrentWidget(panel.loss_view)
    settle(qtbot)
    assert plot_faults(panel) == {}
    # The data set and its options show, not one row of them.
    scroll = panel.chooser.parentWidget().parentWidget()
    row = panel.chooser.name_box.sizeHint().height()
    assert scroll.height() >= 6 * row, f"set-up area {scroll.height()} px: {scroll.height() // row} rows"

    open_file(window, answers, xor_file(tmp_path, epochs=20))
    train(window, qtbot)
    settle(qtbot)
    assert panel.loss_view.summary.isVisible()  # the run's summary takes its room too
    assert plot_faults(panel) == {}

    # A larger window gives the dock a share of the new room, not the canvas all of it.
    dock, canvas = window.training_dock.height(), window.view.height()
    window.resize(1400, 1060)
    settle(qtbot)
    assert window.training_dock.height() >= dock + 60
    assert window.view.height() >= canvas + 60
    # and a smaller one takes from both
    window.resize(1400, 860)
    settle(qtbot)
    assert abs(window.training_dock.height() - dock) <= 4
    assert plot_faults(panel) == {}


# ---- 2. New and Open reset every run view ------------------------------------------
def blank(panel) -> list[str]:
    """What still shows a run in a panel that should show none."""
    c = panel.controls
    left = []
    if c.epoch_bar.value() > 0 or "—" not in c.epoch_bar.format():
        left.append(f"epoch bar {c.epoch_bar.value()} {c.epoch_bar.format()!r}")
    if c.run_bar.value() > 0 or "—" not in c.run_bar.format():
        left.append(f"run bar {c.run_bar.value()} {c.run_bar.format()!r}")
    for label in (c.speed_label, c.time_label):
        if any(ch.isdigit() for ch in label.text()):
            left.append(f"numbers {label.text()!r}")
    if not panel.loss_view.empty or panel.loss_view.summary.isVisible():
        left.append("loss curves")
    legend = panel.gradient_view.plot.legend
    if legend.items:
        left.append(f"gradient legend {[label.text for _item, label in legend.items]}")
    if panel.gradient_view.latest:
        left.append("gradient norms")
    title = panel.boundary_view.plot.titleLabel.text
    if "step" in title:
        left.append(f"boundary title {title!r}")
    if panel.boundary_view.field is not None:
        left.append("boundary field")
    if panel.activation_view.history:
        left.append("activations")
    if panel.problem_list.isVisible() or panel.error_banner.isVisible():
        left.append("problems or error")
    if panel.controls.pause_button.isEnabled() or not panel.controls.train_button.isEnabled():
        left.append("buttons of a running run")
    return left


def test_new_and_open_after_a_run_reset_every_view(window, answers, qtbot, tmp_path):
    panel = window.training_panel
    open_file(window, answers, xor_file(tmp_path, epochs=20))
    panel.views.setCurrentWidget(panel.gradient_view)
    train(window, qtbot)
    assert panel.controls.run_bar.value() == 1000
    assert panel.gradient_view.plot.legend.items

    new_file(window)
    settle(qtbot)
    assert blank(panel) == []
    assert len(panel.history_view.runs) == 1  # the session's runs stay to compare

    open_file(window, answers, xor_file(tmp_path, epochs=20))
    train(window, qtbot)
    open_file(window, answers, EXAMPLES / "lenet5_digits.json")
    settle(qtbot)
    assert blank(panel) == []


def test_new_and_open_during_a_run_stop_it_first(window, answers, qtbot, tmp_path):
    panel = window.training_panel
    open_file(window, answers, xor_file(tmp_path, epochs=LONG_RUN))
    train(window, qtbot, until_end=False)
    qtbot.waitUntil(lambda: panel.controls.run_bar.format().startswith("0/") is False
                    or panel.progress.steps_done > 20, timeout=30_000)
    qtbot.waitUntil(lambda: panel.progress.steps_done > 20, timeout=30_000)
    thread = panel.session._thread
    runs = panel.runs

    new_file(window)
    assert not thread.isRunning()
    assert not panel.running
    for _ in range(10):  # whatever the old run had left on its way must not reach the new document
        settle(qtbot, 30)
    assert blank(panel) == []
    assert panel.weights is None  # the new graph starts from fresh weights
    assert panel.history_view.record(runs).status == "stopped"

    open_file(window, answers, xor_file(tmp_path, epochs=LONG_RUN))
    train(window, qtbot, until_end=False)
    qtbot.waitUntil(lambda: panel.progress.steps_done > 5, timeout=30_000)
    thread = panel.session._thread
    open_file(window, answers, xor_file(tmp_path, epochs=10))
    assert not thread.isRunning()
    settle(qtbot, 300)
    assert blank(panel) == []
    train(window, qtbot)  # and the new document trains
    assert panel.history_view.runs[-1].status == "finished"


def test_closing_the_window_during_a_run_ends_its_thread(window, answers, qtbot, tmp_path):
    panel = window.training_panel
    open_file(window, answers, xor_file(tmp_path, epochs=LONG_RUN))
    train(window, qtbot, until_end=False)
    qtbot.waitUntil(lambda: panel.progress.steps_done > 5, timeout=30_000)
    thread = panel.session._thread
    window.close()
    assert not window.isVisible()
    assert not thread.isRunning()
    settle(qtbot, 200)


# ---- 3. the problem list ------------------------------------------------------------
def test_problem_list_follows_the_document_and_names_the_data_file(window, answers, qtbot, tmp_path):
    (tmp_path / "points.csv").write_text("a,b,label\n0,0,0\n0,x1,1\n1,0,1\n1,1,0\n")
    data = json.loads((EXAMPLES / "xor_mlp.json").read_text())
    data["edges"] = [e for e in data["edges"] if e["to"] != "logits.in"]  # one wire missing
    data["training"]["dataset"] = {"name": "csv", "path": "points.csv", "target": "label"}
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(data))
    open_file(window, answers, path)
    panel = window.training_panel
    click(panel.controls.train_button)
    assert not panel.running
    items = [panel.problem_list.item(i).text() for i in range(panel.problem_list.count())]
    data_lines = [t for t in items if "points.csv" in t]
    assert len(data_lines) == 1 and "line 3" in data_lines[0]
    assert "graph:" not in data_lines[0]  # a data problem names its data set, not the graph
    assert any("logits" in t for t in items)

    # The status bar and the headline count the same thing.
    qtbot.waitUntil(lambda: "error" in window.status_label.text())
    status_count = int(re.search(r"(\d+) error", window.status_label.text()).group(1))
    headline = panel.status_label.text()
    assert f"{len(items)} problem" in headline
    graph_count = sum(1 for t in items if t.lstrip("⚠ ").startswith("logits"))
    # the status bar counts what Train refuses: the graph's problems and the data set that did not load
    assert f"{graph_count} in the graph" in headline and status_count == len(items)

    # Long messages wrap; there is nothing to scroll sideways.
    plist = panel.problem_list
    assert plist.horizontalScrollBarPolicy() == Qt.ScrollBarAlwaysOff
    assert plist.horizontalScrollBar().maximum() == 0
    longest = max(range(plist.count()), key=lambda i: len(plist.item(i).text()))
    rect = plist.visualItemRect(plist.item(longest))
    assert rect.right() <= plist.viewport().width() + 1
    assert plist.fontMetrics().horizontalAdvance(plist.item(longest).text()) > plist.viewport().width()
    assert rect.height() > 1.5 * plist.fontMetrics().height()  # wrapped onto more lines

    # The person wires the missing input: its problem goes without pressing Train again.
    window.view.frame_all()
    settle(qtbot)
    wire(window, "tanh", "logits")
    assert len(window.editor.graph.edges) == 3
    qtbot.waitUntil(lambda: not any("logits" in plist.item(i).text() for i in range(plist.count())), timeout=3000)
    assert plist.isVisible() and plist.count() == 1  # the data problem stays until the file is fixed
    # ... and fixing the file's cell through the form clears the rest
    (tmp_path / "good.csv").write_text("a,b,label\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n")
    type_into(panel.chooser.option_widgets["path"], "good.csv", then="enter")
    qtbot.waitUntil(lambda: not plist.isVisible(), timeout=3000)
    assert panel.status_label.text().startswith("Ready")


# ---- 4. Runs check boxes on both themes --------------------------------------------
def indicator_contrast(view) -> float:
    """Largest lightness difference between the unchecked box of the first run and the list behind it."""
    lst = view.list
    item = lst.item(0)
    assert item.checkState() == Qt.Unchecked
    rect = lst.visualItemRect(item)
    image = lst.viewport().grab().toImage()
    background = QColor(image.pixel(rect.right() - 2, rect.center().y())).lightness()
    # The box only: it ends before the run's text begins.
    style = lst.style()
    box_right = rect.left() + style.pixelMetric(style.PixelMetric.PM_FocusFrameHMargin, None, lst) + 1 \
        + style.pixelMetric(style.PixelMetric.PM_IndicatorWidth, None, lst) + 1
    best = 0
    for x in range(rect.left(), box_right):
        for y in range(rect.top(), rect.bottom()):
            best = max(best, abs(QColor(image.pixel(x, y)).lightness() - background))
    return best


@pytest.mark.parametrize("theme_name", ["dark", "light"])
def test_runs_check_boxes_show_on_either_theme(only_live_widgets, window, answers, qtbot, tmp_path, theme_name):
    panel = window.training_panel
    window.theme_actions[theme_name].trigger()
    try:
        open_file(window, answers, xor_file(tmp_path, epochs=3))
        train(window, qtbot)
        panel.views.setCurrentWidget(panel.history_view)
        settle(qtbot)
        assert indicator_contrast(panel.history_view) >= 60
    finally:
        window.theme_actions["dark"].trigger()


# ---- 5. File > Save trained weights, then the command line ---------------------------
def file_action(window, text: str):
    menu = getattr(window, "file_menu", None) or window.menuBar().actions()[0].menu()
    for action in menu.actions():
        if action.text().replace("&", "").lower().startswith(text.lower()):
            return menu, action
    raise AssertionError(f"no {text!r} in File: {[a.text() for a in menu.actions()]}")


def test_save_trained_weights_for_the_command_line(window, answers, qtbot, tmp_path, monkeypatch, capsys):
    import torch

    from studio.cli.main import main as studio
    from studio.ui import dialogs

    graph_path = xor_file(tmp_path, epochs=30)
    open_file(window, answers, graph_path)
    menu, action = file_action(window, "Save trained weights")
    actions = menu.actions()
    quit_at = actions.index(window.act_quit)
    assert actions.index(action) < quit_at
    assert not action.isEnabled()  # nothing trained yet

    train(window, qtbot)
    assert action.isEnabled()
    target = tmp_path / "out" / "xor-trained.safetensors"
    asked = []
    monkeypatch.setattr(dialogs, "save_weights_name",
                        lambda parent, suggested="": asked.append(suggested) or str(target))
    menu.popup(window.mapToGlobal(QPoint(0, 0)))
    qtbot.waitUntil(menu.isVisible)
    menu.setActiveAction(action)
    press(menu, Qt.Key_Return)
    assert asked and asked[0].endswith(".safetensors")
    assert target.exists()
    assert not list(target.parent.glob(".*.tmp"))

    script = tmp_path / "xor_model.py"
    capsys.readouterr()
    assert studio(["export", str(graph_path), "--format", "python", "-o", str(script),
                   "--weights", str(target)]) == 0
    exported = torch.load(script.with_suffix(".pt"), weights_only=True)
    trained = next(iter(window.training_panel.weights.values()))
    assert set(exported) == set(trained)
    for key, value in trained.items():
        assert torch.equal(exported[key], value), key


# ---- 6. keys meant for the canvas stay on the canvas ----------------------------------
def test_train_leaves_the_keyboard_on_the_canvas(window, answers, qtbot, tmp_path):
    open_file(window, answers, xor_file(tmp_path, epochs=30))
    panel = window.training_panel
    type_into(panel.config_form.widgets[("epochs",)], "3", then="enter")  # the keyboard is in the form
    assert window.editor.graph.training["epochs"] == 3
    train(window, qtbot)
    nodes = len(window.editor.graph)
    press(QApplication.focusWidget() or window, Qt.Key_Tab)
    target = QApplication.focusWidget() or window
    QTest.keyClicks(target, "relu")
    press(QApplication.focusWidget() or window, Qt.Key_Return)
    settle(qtbot)
    assert window.editor.graph.training["dataset"]["name"] == "xor"
    # Tab on the canvas is the quick search: "relu", Enter added a ReLU.
    assert len(window.editor.graph) == nodes + 1
    assert any(n.block == "ReLU" for n in window.editor.graph.nodes.values())


def test_wheel_over_an_unfocused_setting_does_not_change_it(window, answers, qtbot, tmp_path):
    open_file(window, answers, xor_file(tmp_path, epochs=3))
    panel = window.training_panel
    window.view.setFocus(Qt.MouseFocusReason)
    before = json.dumps(window.editor.graph.training, sort_keys=True)
    fields = [panel.chooser.name_box, panel.config_form.widgets[("epochs",)],
              panel.config_form.widgets[("optimizer", "name")]]
    for field in fields:
        panel.chooser.parentWidget().parentWidget().parentWidget().ensureWidgetVisible(field)
        settle(qtbot)
        centre = QPointF(field.rect().center())
        event = QWheelEvent(centre, QPointF(field.mapToGlobal(centre.toPoint())), QPoint(0, 0), QPoint(0, -120),
                            Qt.NoButton, Qt.NoModifier, Qt.NoScrollPhase, False)
        QApplication.sendEvent(field, event)
        settle(qtbot)
    assert json.dumps(window.editor.graph.training, sort_keys=True) == before
    assert window.view.hasFocus()
    # A field a person clicked into still takes the wheel.
    epochs = panel.config_form.widgets[("epochs",)]
    click(epochs)
    centre = QPointF(epochs.rect().center())
    QApplication.sendEvent(epochs, QWheelEvent(centre, QPointF(epochs.mapToGlobal(centre.toPoint())), QPoint(0, 0),
                                               QPoint(0, 120), Qt.NoButton, Qt.NoModifier, Qt.NoScrollPhase, False))
    settle(qtbot)
    assert window.editor.graph.training["epochs"] == 4
