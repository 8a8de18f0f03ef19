"""The doctor's runtime checks as a learner meets them in the Training dock, with the shipped
defaults: Check on a deep sigmoid network shows the first layer's gradient vanishing, in the
Check tab and on the canvas wire out of it, before any step; on the spiral network the
learning-rate test's suggestion is applied with one click and taken back with Ctrl+Z, and the
network learns one batch by heart."""

from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest

from person import click, press
from studio.ui.training.check_view import flag_color
from studio.ui.training.colors import gradient_rgb

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def open_file(window, answers, name: str) -> None:
    """File > Open (Ctrl+O), the dialog answered with the example's path."""
    answers.open_name = str(EXAMPLES / name)
    press(window, Qt.Key_O, Qt.ControlModifier)
    assert window.path == EXAMPLES / name


def show_check_tab(panel) -> None:
    bar = panel.views.tabBar()
    index = next(i for i in range(bar.count()) if bar.tabText(i) == "Check")
    QTest.mouseClick(bar, Qt.LeftButton, Qt.NoModifier, bar.tabRect(index).center())
    assert panel.views.currentWidget() is panel.check_view


def press_button(qtbot, panel, button) -> None:
    qtbot.waitUntil(lambda: button.isVisible() and button.isEnabled(), timeout=2000)
    click(button)


def test_check_shows_vanishing_gradients_before_the_first_step(window, answers, qtbot):
    open_file(window, answers, "vanishing_gradients.json")
    panel = window.training_panel
    view = panel.check_view
    press_button(qtbot, panel, panel.controls.check_button)
    assert not panel.controls.train_button.isEnabled()  # no run while the check runs
    qtbot.waitUntil(lambda: view.preview is not None and not panel.checking, timeout=20_000)

    assert panel.views.currentWidget() is view and view.isVisible()
    flag = view.table.item(view.row_of("fc1"), 7)
    assert flag.text() == "vanishing" and flag.background().color() == flag_color("vanishing")
    assert "fc1" in view.preview.flagged("vanishing") and "logits" not in view.preview.flagged("vanishing")
    assert view.warnings.item(0).text().startswith("⚠ fc1: the gradient reaching its weights is")
    # The canvas, before any step: the wire out of fc1 takes the vanishing blue the live gradient flow
    # gives it, the wire into the output layer a healthy colour, and fc1 is badged.
    edges = window.scene.edges
    out_of_fc1 = next(item for edge, item in edges.items() if edge.src == "fc1")
    into_logits = next(item for edge, item in edges.items() if edge.dst == "logits")
    vanishing = QColor(*gradient_rgb(1e-8))
    assert out_of_fc1.gradient_color == vanishing == flag_color("vanishing")
    assert into_logits.gradient_color == QColor(*gradient_rgb(view.preview.node("logits").grad_norm)) != vanishing
    assert out_of_fc1.toolTip().startswith("gradient norm 2.")
    assert panel.canvas_gradients.badges["fc1"].text() == "∇ vanishing gradient"
    assert panel.canvas_gradients.badges["fc1"].parentItem() is window.scene.nodes["fc1"]

    # Training clears the look before the first step: the run's own gradients take the wires.
    press_button(qtbot, panel, panel.controls.train_button)
    assert panel.running and out_of_fc1.gradient_color is None
    assert not panel.controls.check_button.isEnabled() and not view.overfit_button.isEnabled()
    panel.stop()
    qtbot.waitUntil(lambda: panel.session is None, timeout=20_000)


def test_the_learning_rate_test_applies_its_suggestion_in_one_undoable_click(window, answers, qtbot):
    open_file(window, answers, "spiral_mlp.json")
    panel = window.training_panel
    view = panel.check_view
    graph = window.editor.graph
    before = graph.training["optimizer"]["lr"]
    show_check_tab(panel)
    press_button(qtbot, panel, view.lr_button)
    qtbot.waitUntil(lambda: view.lr_result is not None and not panel.checking, timeout=20_000)
    suggested = view.lr_result.suggested
    assert suggested == 0.0089 and view.use_lr_button.text() == "Use lr 0.0089"
    assert view.lr_plot.isVisible() and view.lr_line.isVisible()
    assert math.isclose(10 ** view.lr_line.value(), suggested)

    press_button(qtbot, panel, view.use_lr_button)
    assert graph.training["optimizer"]["lr"] == suggested
    assert panel.config_form.widgets[("optimizer", "lr")].text() == "0.0089"
    QTest.keyClick(window.view, Qt.Key_Z, Qt.ControlModifier)
    assert graph.training["optimizer"]["lr"] == before
    assert panel.config_form.widgets[("optimizer", "lr")].text() == f"{before:g}"

    # One batch, learnt by heart: the network and its loss can learn.
    press_button(qtbot, panel, view.overfit_button)
    qtbot.waitUntil(lambda: view.overfit is not None and not panel.checking, timeout=20_000)
    assert view.overfit.passed and view.overfit.losses[-1] <= view.overfit.target
    assert view.overfit_plot.isVisible() and view.verdict_label.text().startswith("Passed: the loss fell from")
