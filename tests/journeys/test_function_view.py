"""The Function tab and the perceptron rule as a person meets them: open an example, Train with a
click, and watch the network's line settle on the data (and its equation with it); then the
perceptron rule learning AND from the same Train button, its tab back to the decision boundary."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt

from person import click, press

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def open_example(window, answers, name: str) -> None:
    answers.open_name = str(EXAMPLES / name)
    press(window, Qt.Key_O, Qt.ControlModifier)
    assert window.path == EXAMPLES / name


def show_tab(panel, text: str) -> None:
    tabs = panel.views
    index = next(i for i in range(tabs.count()) if tabs.tabText(i) == text)
    click(tabs.tabBar(), tabs.tabBar().tabRect(index).center())
    assert tabs.currentIndex() == index


def train(panel, qtbot) -> None:
    click(panel.controls.train_button)
    assert panel.running, panel.status_label.text()
    qtbot.waitUntil(lambda: not panel.running, timeout=20_000)


def test_the_function_tab_draws_the_line_settling_on_the_data_then_the_perceptron_learns_and(window, answers, qtbot):
    panel, view = window.training_panel, window.training_panel.boundary_view
    open_example(window, answers, "linear_regression.json")
    show_tab(panel, "Function")  # named as the document opens, before its data set has loaded
    qtbot.waitUntil(lambda: view.has_points, timeout=5000)
    x, y = view.points.getData()
    assert len(x) == 80 and 1.0 <= x.min() and x.max() <= 4.0  # the training points
    titles = []
    view.curve.sigPlotChanged.connect(lambda *_: titles.append(view.plot.titleLabel.text))
    train(panel, qtbot)
    assert panel.last_end.status == "finished" and panel.last_end.best.val_loss < 0.02
    assert view.redraws >= 2 and len(set(titles)) >= 2  # drawn live, w and b seen moving
    w, b = (float(v) for v in re.fullmatch(r"y = ([-\d.]+) x \+ ([-\d.]+)", view.equation).groups())
    assert abs(w - 2.0) < 0.05 and abs(b - 1.0) < 0.15
    assert view.plot.titleLabel.text.endswith(view.equation)
    xs, ys = view.curve.getData()
    inside = (xs >= x.min()) & (xs <= x.max())
    assert xs.min() < x.min() < x.max() < xs.max()  # the range widened beyond the data
    assert np.abs(ys[inside] - (2 * xs[inside] + 1)).max() < 0.2  # the line runs through the points

    open_example(window, answers, "perceptron_rule.json")
    assert panel.views.tabText(panel.views.indexOf(view)) == "Decision boundary" and view.equation is None
    train(panel, qtbot)
    assert panel.error_banner.isHidden()
    assert panel.last_end.status == "finished" and panel.last_end.best.train_acc == 1.0  # AND, all four corners
    assert view.field is not None and view.redraws >= 1  # its decision boundary, as any classifier's
