"""Legends a person reads: beside short plots rather than over their curves, and absent where
there is nothing to name."""

from __future__ import annotations

from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QApplication, QStyle

from tests.person import click, open_example_copy, train_to_the_end


def trained_xor(window, answers, qtbot, tmp_path, runs: int):
    panel = open_example_copy(window, answers, qtbot, tmp_path, "xor_mlp.json", epochs=3)
    for _ in range(runs):
        train_to_the_end(panel, qtbot)
    return panel


def show_tab(panel, qtbot, view) -> None:
    bar = panel.views.tabBar()
    click(bar, bar.tabRect(panel.views.indexOf(view)).center())
    qtbot.waitUntil(lambda: panel.views.currentWidget() is view, timeout=2000)
    QApplication.processEvents()


def test_runs_legend_shows_only_when_runs_are_compared(make_window, answers, qtbot, tmp_path):
    window = make_window()
    panel = trained_xor(window, answers, qtbot, tmp_path, runs=2)
    view = panel.history_view
    show_tab(panel, qtbot, view)
    legend = view.plot.legend
    assert not legend.isVisible()  # nothing compared: no empty box in the corner
    first = view.list.item(0)  # the list is narrower than a run's line: hovering shows all of it
    assert first.toolTip() == first.text() and first.text().startswith("Run 1: xor")
    style = view.list.style()
    for row in range(2):  # tick both runs' boxes with the mouse
        rect = view.list.visualItemRect(view.list.item(row))
        box_x = rect.left() + style.pixelMetric(QStyle.PixelMetric.PM_IndicatorWidth, None, view.list) // 2 + 3
        click(view.list.viewport(), QPoint(box_x, rect.center().y()))
    qtbot.waitUntil(lambda: view.compared() == [1, 2], timeout=2000)
    assert legend.isVisible() and [label.text for _sample, label in legend.items] == ["run 1", "run 2"]
    # the second Train went on from the first run's weights: the same settings, but not the same start
    assert view.diff_label.text() == "Run 1 -> run 2: start: fresh weights -> the weights of run 1"


def test_activation_statistics_legend_sits_beside_the_curves(make_window, answers, qtbot, tmp_path):
    window = make_window()
    panel = trained_xor(window, answers, qtbot, tmp_path, runs=1)
    view = panel.activation_view
    show_tab(panel, qtbot, view)
    qtbot.waitUntil(lambda: view.mean_curve.getData()[0] is not None and len(view.mean_curve.getData()[0]) > 0,
                    timeout=5000)
    legend = view.stats_plot.legend
    assert [label.text for _sample, label in legend.items] == ["mean", "std", "share of zeros"]
    box = view.stats_plot.getViewBox().sceneBoundingRect()
    assert legend.isVisible() and legend.sceneBoundingRect().left() >= box.right() - 1  # to its right


def test_a_run_without_accuracy_says_so_instead_of_an_empty_legend(make_window, answers, qtbot, tmp_path):
    window = make_window()
    panel = open_example_copy(window, answers, qtbot, tmp_path, "linear_regression.json", epochs=3)
    view = panel.loss_view
    assert view.acc_plot.legend.isVisible()  # before a run: what will come, for any task
    train_to_the_end(panel, qtbot)
    show_tab(panel, qtbot, view)
    assert not view.acc_plot.legend.isVisible()
    assert view.acc_none.isVisible() and view.acc_none.toPlainText() == "no accuracy: this run does not classify"
    # a classifier's run brings the legend back
    trained_xor(window, answers, qtbot, tmp_path, runs=1)
    show_tab(panel, qtbot, view)
    assert view.acc_plot.legend.isVisible() and not view.acc_none.isVisible()
