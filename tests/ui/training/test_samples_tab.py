"""The Samples tab as a person meets it: the caption alone until a run has samples to show, then
the plot with a legend naming only what it draws; a one-step forecast shows as two dots."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from tests.person import click, open_example_copy, train_to_the_end


def open_and_train(window, answers, qtbot, tmp_path, example: str, epochs: int):
    panel = open_example_copy(window, answers, qtbot, tmp_path, example, epochs=epochs)
    train_to_the_end(panel, qtbot)
    view = panel.samples_view
    bar = panel.views.tabBar()
    click(bar, bar.tabRect(panel.views.indexOf(view)).center())
    qtbot.waitUntil(lambda: panel.views.currentWidget() is view, timeout=2000)
    QApplication.processEvents()
    return view


def test_a_forecast_shows_its_dots_and_a_legend_of_its_two_lines(make_window, answers, qtbot, tmp_path):
    view = open_and_train(make_window(), answers, qtbot, tmp_path, "lstm_sequence.json", epochs=2)
    qtbot.waitUntil(lambda: view.mode == "sequence", timeout=5000)
    assert view.plot_widget.isVisible()
    # the example forecasts one step: one value each, drawn as a dot (a line of one point shows nothing)
    assert len(view.pred_curve.getData()[0]) == len(view.true_curve.getData()[0]) == 1
    assert view.pred_curve.opts["symbol"] == "o" and view.true_curve.opts["symbol"] == "o"
    assert [label.text for _sample, label in view.plot.legend.items] == ["true", "predicted"]


def test_a_run_without_samples_leaves_the_caption_alone(make_window, answers, qtbot, tmp_path):
    view = open_and_train(make_window(), answers, qtbot, tmp_path, "xor_mlp.json", epochs=3)
    assert view.mode is None and not view.plot_widget.isVisible()
    assert view.caption.isVisible() and view.caption.text().startswith("GAN runs show generated samples")
