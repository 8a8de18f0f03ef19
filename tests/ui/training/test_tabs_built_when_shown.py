"""The training dock's hidden tabs make their plots when first shown, not with the window; a plot
read before its tab was shown is made then, with what the view was fed."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from studio.training.events import ActivationStats, ProbeEvent
from studio.ui.training.activation_view import ActivationView

STATS = ActivationStats(0.2, 0.5, 0.1, np.array([6, 1, 1]), np.array([0.0, 0.5, 1.0, 1.5]), None)


def click_tab(views, widget) -> None:
    bar = views.tabBar()
    QTest.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(views.indexOf(widget)).center())


def test_a_window_makes_only_the_shown_tabs_plots_and_a_tab_clicked_shows_its_own(make_window, qtbot):
    window = make_window()
    panel = window.training_panel
    lazy = (panel.activation_view, panel.gradient_view, panel.samples_view, panel.history_view)
    assert panel.views.currentWidget() is panel.loss_view
    assert not any(view.plots_built for view in lazy)
    assert "plot_widget" not in vars(panel.history_view)  # nothing made behind the flag's back

    click_tab(panel.views, panel.activation_view)
    view = panel.activation_view
    assert panel.views.currentWidget() is view and view.plots_built
    qtbot.waitUntil(lambda: view.layout_widget.isVisible())
    # The plots take the tab's height above the numbers, as they always did.
    assert view.layout_widget.height() > view.stats_label.height()
    assert not panel.history_view.plots_built and not panel.samples_view.plots_built

    click_tab(panel.views, panel.history_view)
    assert panel.history_view.plots_built
    qtbot.waitUntil(lambda: panel.history_view.plot_widget.isVisible())


def test_probes_fed_to_a_tab_never_shown_are_drawn_when_a_plot_is_asked_for(qtbot):
    view = ActivationView()
    qtbot.addWidget(view)
    view.set_run_length(40)
    view.feed([ProbeEvent(s, 1, activations={"h1": STATS}) for s in (1, 2, 3)])
    assert not view.plots_built
    hint = view.sizeHint()  # the dock is laid out as if the plots were there
    x, _y = view.mean_curve.getData()  # asked for: made now, with what was fed
    assert view.plots_built and list(x) == [1, 2, 3]
    assert view.hist_image.image is not None and view.stats_label.text().startswith("h1: mean 0.200")
    assert view.hist_plot.getViewBox().viewRange()[0][1] >= 40  # the run's length, set before they existed
    assert view.sizeHint() == hint
