"""How the training panel looks before a run and on either theme."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication

from studio.ui import theme
from studio.ui.training.loss_view import HINT, LossView
from studio.ui.training.plot_style import DARK_PLOTS, LIGHT_PLOTS


def _x_range(plot):
    return plot.getViewBox().viewRange()[0]


def _y_range(plot):
    return plot.getViewBox().viewRange()[1]


@pytest.fixture
def restore_theme():
    yield
    theme.apply("dark")


def test_empty_loss_view_spans_the_planned_run(qtbot):
    view = LossView()
    qtbot.addWidget(view)
    view.show_plan(15, 0.002)
    for plot in (view.loss_plot, view.acc_plot, view.lr_plot):
        lo, hi = _x_range(plot)
        assert lo == pytest.approx(0, abs=0.3) and hi == pytest.approx(15, abs=0.3)
        assert not plot.getAxis("bottom").autoSIPrefix  # never "epoch (x0.001)"
    assert _y_range(view.loss_plot) == pytest.approx([0, 1])
    assert _y_range(view.acc_plot) == pytest.approx([0, 1])
    lo, hi = _y_range(view.lr_plot)
    assert lo == 0 and 0.002 < hi < 0.004
    assert view.hint.isVisible() and view.hint.textItem.toPlainText() == HINT
    assert not view.summary.isVisible()


def test_hint_goes_when_the_first_numbers_come(qtbot):
    from studio.training.events import StepsEvent

    view = LossView()
    qtbot.addWidget(view)
    view.show()
    view.show_plan(5, 0.01)
    view.feed([StepsEvent(epoch=1, first_step=0, steps_per_epoch=10, losses=[2.3, 2.2], lrs=[0.01, 0.01])])
    assert not view.hint.isVisible()
    assert _y_range(view.loss_plot)[1] > 2.3  # the data sets the range once it comes
    view.clear()
    assert view.hint.isVisible()


def test_plots_follow_the_theme(only_live_widgets, make_panel, restore_theme, qtbot):
    theme.apply("dark")
    panel = make_panel()
    bg = panel.loss_view.layout_widget.backgroundBrush().color().name()
    assert bg == DARK_PLOTS.background
    theme.apply("light")
    QApplication.processEvents()
    qtbot.waitUntil(lambda: panel.loss_view.layout_widget.backgroundBrush().color().name() == LIGHT_PLOTS.background)
    for widget in (panel.gradient_view.plot_widget, panel.boundary_view.plot_widget):
        assert widget.backgroundBrush().color().name() == LIGHT_PLOTS.background
    axis = panel.loss_view.loss_plot.getAxis("left")
    assert axis.textPen().color().name() == LIGHT_PLOTS.text
    assert panel.loss_view.step_smooth.opts["pen"].color().name() == LIGHT_PLOTS.train
    theme.apply("dark")
    qtbot.waitUntil(lambda: panel.loss_view.layout_widget.backgroundBrush().color().name() == DARK_PLOTS.background)
    assert axis.textPen().color().name() == DARK_PLOTS.text


def test_status_names_the_chosen_data_set(make_panel):
    panel = make_panel(points=60)
    ds = panel.chooser.dataset
    text = panel.status_label.text()
    assert text.startswith("Ready: spiral,")
    assert f"{len(ds.train):,} training / {len(ds.val):,} validation samples" in text
    assert "Choose a data set" not in text
