"""What the plots write and colour: log-axis ticks in one style, a colour for each of many curves."""

from __future__ import annotations

from studio.ui.training.colors import series_color
from studio.ui.training.plot_style import LogAxis, log_tick_strings


def test_log_ticks_are_plain_numbers_or_all_powers_of_ten_never_a_mix(qapp):
    assert log_tick_strings([-2, -1, 0, 1]) == ["0.01", "0.1", "1", "10"]  # pyqtgraph: "10¹" beside "1"
    assert log_tick_strings([-5, -4, -3]) == ["10⁻⁵", "10⁻⁴", "10⁻³"]  # pyqtgraph: "10⁻⁵" beside "0.0001"
    assert log_tick_strings([5, 6]) == ["10⁵", "10⁶"]
    assert log_tick_strings([-4.30103]) == ["5·10⁻⁵"]
    assert LogAxis("left").logTickStrings([-1, 0, 1], 1.0, 1.0) == ["0.1", "1", "10"]


def test_many_curves_each_get_a_colour_of_their_own():
    colors = [series_color(i) for i in range(30)]
    assert len(set(colors)) == 30  # a ResNet's 16 rows: the first and the eleventh no longer alike
    assert colors[:10] == [series_color(i) for i in range(10)] and colors[0] == (31, 119, 180)


def test_the_gradient_flow_and_learning_rate_plots_use_the_one_style(make_window, qtbot):
    from tests.person import click

    window = make_window()
    panel = window.training_panel
    bar = panel.views.tabBar()
    for name in ("Gradient flow", "Check"):  # each plot made when its tab is first shown
        tab = [bar.tabText(i) for i in range(bar.count())].index(name)
        click(bar, bar.tabRect(tab).center())
        qtbot.waitUntil(lambda: panel.views.currentIndex() == tab, timeout=2000)
    assert isinstance(panel.gradient_view.plot.getAxis("left"), LogAxis)
    assert isinstance(panel.check_view.lr_plot.getPlotItem().getAxis("bottom"), LogAxis)
