"""The live views fed with the trainer's event types."""

from __future__ import annotations

import numpy as np

from studio.training.events import ActivationStats, BoundaryGrid, EpochEvent, ProbeEvent, StepsEvent
from studio.ui.training.activation_view import ActivationView, rebin, tile_maps
from studio.ui.training.boundary_view import BoundaryView
from studio.ui.training.gradient_view import GradientView
from studio.ui.training.loss_view import LossView
from studio.ui.training.samples_view import SamplesView


def test_loss_view_stays_light_with_a_million_points(qtbot):
    view = LossView()
    qtbot.addWidget(view)
    view.resize(800, 500)
    view.show()
    raw_item = view.step_raw
    rng = np.random.default_rng(0)
    chunk = 50_000
    for i in range(20):
        losses = (1.0 / (1 + np.arange(i * chunk, (i + 1) * chunk) / 1e5) + 0.05 * rng.random(chunk)).tolist()
        view.feed([StepsEvent(i, i * chunk, losses, [0.01] * chunk, 10_000)])
    assert view.steps_seen == 1_000_000
    assert view.steps.full.capacity == 1_048_576  # doubled from 1024, never reallocated per update
    assert raw_item is view.step_raw and len(view.loss_plot.listDataItems()) == 4  # no new items per update
    # The plot is handed a peak summary, not the million points: a redraw costs the same all run long.
    x_given, y_given = raw_item.getOriginalDataset()
    assert len(x_given) <= 4096 + view.steps.bucket and x_given[-1] == 100.0  # the x axis is in epochs
    assert y_given.max() == view.steps.y.max() and y_given.min() == view.steps.y.min()  # spikes survive
    qtbot.wait(50)
    x_shown, _ = raw_item.getData()
    assert len(x_shown) <= len(x_given)
    assert view.smooth.y[-1] < view.smooth.y[0]


def test_loss_view_marks_overfitting(qtbot):
    view = LossView()
    qtbot.addWidget(view)
    view.show()
    val = [1.0, 0.8, 0.7, 0.75, 0.82, 0.9, 0.95]
    train = [1.0, 0.7, 0.5, 0.4, 0.3, 0.2, 0.15]
    view.feed([EpochEvent(i + 1, t, v, 0.5 + i / 20, 0.5, 0.01, 1.0, 100.0) for i, (t, v) in enumerate(zip(train, val))])
    assert view.overfit_at == 3
    assert view.overfit_line.isVisible() and view.overfit_line.value() == 3
    assert view.gap.isVisible()
    assert "Overfitting" in view.summary.text() and "gap +0.8000" in view.summary.text()
    view.clear()
    assert view.overfit_at is None and not view.overfit_line.isVisible()


def test_activation_view_rebins_histograms_and_tiles_feature_maps(qtbot):
    assert rebin(np.array([1, 2, 3]), np.array([0.0, 1, 2, 3]), 0.0, 6.0, bins=2).tolist() == [6, 0]
    tiled = tile_maps(np.arange(4 * 3 * 3, dtype=float).reshape(4, 3, 3))
    assert tiled.shape == (7, 7)  # 2 x 2 maps of 3 x 3 with a 1-pixel gap
    view = ActivationView()
    qtbot.addWidget(view)
    view.show()
    maps = np.random.default_rng(0).random((6, 5, 5))
    stats = ActivationStats(0.2, 0.5, 0.95, np.array([6, 1, 1]), np.array([0.0, 0.5, 1.0, 1.5]), maps)
    view.set_node("conv")
    view.feed([ProbeEvent(10, 1, {"input": stats, "conv": stats})])
    view.feed([ProbeEvent(20, 1, {"input": stats, "conv": stats})])
    assert view.node == "conv"
    assert view.hist_image.image.shape == (48, 2)  # bins x probes
    assert view.maps_plot.isVisible()
    assert "dead" in view.stats_label.text() and "zeros 95.0%" in view.stats_label.text()


def test_gradient_view_flags_vanishing_and_exploding(qtbot):
    view = GradientView()
    qtbot.addWidget(view)
    view.show()
    flags = []
    view.flagsChanged.connect(flags.append)
    view.feed([ProbeEvent(1, 1, grad_norms={"deep": 1e-8, "mid": 0.3, "top": 5e3})])
    assert flags[-1] == {"deep": "vanishing", "top": "exploding"}
    assert "deep: vanishing" in view.flags_label.text()
    view.feed([ProbeEvent(2, 1, grad_norms={"deep": 1e-2, "mid": 0.3, "top": 1.0})])
    assert flags[-1] == {}
    assert len(view.curves["deep"].getOriginalDataset()[0]) == 2


def test_samples_view_gan_points_and_sequences(qtbot):
    view = SamplesView()
    qtbot.addWidget(view)
    view.show()
    real = np.random.default_rng(0).normal(size=(50, 2))
    view.feed([ProbeEvent(5, 1, samples={"generated": real * 0.5, "real": real})])
    assert view.mode == "points" and len(view.generated.data) == 50 and len(view.real.data) == 50
    view.feed([ProbeEvent(6, 1, samples={"predicted": np.sin(np.arange(20)), "true": np.cos(np.arange(20))})])
    assert view.mode == "sequence" and len(view.pred_curve.getData()[0]) == 20
    view.feed([ProbeEvent(7, 1, samples={"generated": np.random.default_rng(1).random((4, 1, 8, 8))})])
    assert view.mode == "images" and view.images.image.shape == (17, 17)


def test_loss_view_places_every_reported_step_on_the_epoch_axis(qtbot):
    view = LossView()
    qtbot.addWidget(view)
    view.feed([StepsEvent(1, 0, [1.0, 0.9, 0.8], [0.1, 0.1, 0.1], 4),
               StepsEvent(1, 3, [0.7, float("inf")], [0.05], 4),  # a report may carry fewer rates
               StepsEvent(2, 5, [0.6], [0.02], 4)])
    assert view.steps.x.tolist() == [0.25, 0.5, 0.75, 1.0, 1.25, 1.5]
    assert view.steps.y[:4].tolist() == [1.0, 0.9, 0.8, 0.7] and np.isnan(view.steps.y[4])  # inf: a gap
    assert view.smooth.x.tolist() == [0.25, 0.5, 0.75, 1.0, 1.5]  # the gap is not smoothed over
    assert view.lrs.x.tolist() == [0.25, 0.5, 0.75, 1.0, 1.5] and view.lrs.y.tolist() == [0.1, 0.1, 0.1, 0.05, 0.02]


def grid_probe(step: int, epoch: int, flip: bool = False, size: int = 8) -> ProbeEvent:
    xs = np.linspace(-1, 1, size)
    classes = (np.add.outer(xs, xs) > 0).astype(np.int64)
    if flip:
        classes = 1 - classes
    return ProbeEvent(step, epoch, boundary=BoundaryGrid(xs, xs, classes, np.full((size, size), 0.9)))


def test_boundary_view_says_when_a_data_set_has_no_boundary_and_clear_empties_it(qtbot):
    view = BoundaryView()
    qtbot.addWidget(view)
    view.show()
    view.set_points(None, None)  # an image data set
    assert view.is_empty and view.empty_label.isVisible() and not view.plot_widget.isVisible()
    assert view.empty_label.text().startswith("No decision boundary to draw for this data set.")
    view.set_points(np.array([[0.0, 0.0], [1.0, 1.0]]), np.array([0, 1]), 2)
    assert not view.is_empty and view.plot_widget.isVisible()
    assert view.plot.titleLabel.text == "Decision boundary"
    view.feed([grid_probe(7, 2)])
    assert view.last_step == 7 and view.plot.titleLabel.text == "Decision boundary at step 7 (epoch 2)"
    view.clear()
    assert view.field is None and view.last_step is None and view.redraws == 0
    assert view.plot.titleLabel.text == "Decision boundary" and view.image.image is None
    view.set_points(None, None)  # New, then an image data set: the message, not "at step 7"
    assert view.is_empty
    view.set_data(None, loading=True)  # a data set being read: not "no boundary for this data set"
    assert view.is_empty and view.empty_label.text().startswith("Reading the data set…")
    view.set_data(None)
    assert view.empty_label.text().startswith("No data set loaded.")


def test_boundary_view_shows_every_probe_it_is_fed_in_turn(qtbot):
    view = BoundaryView()
    qtbot.addWidget(view)
    view.show()
    view.set_points(np.zeros((1, 2)), np.zeros(1), 2)
    drawn = []
    view.image.sigImageChanged.connect(lambda: drawn.append(view.last_step))
    view.feed([grid_probe(1, 1)])
    assert drawn == [1]  # the first at once
    qtbot.wait(300)
    # three probes in one hand-over (the panel hands them over about once a second)
    view.feed([grid_probe(10, 1, True), grid_probe(20, 2), grid_probe(30, 3, True)])
    assert drawn == [1, 10]
    assert view.pacer.pending == 2
    qtbot.waitUntil(lambda: drawn == [1, 10, 20, 30], timeout=2000)  # spread over the hand-over's time
    assert view.plot.titleLabel.text == "Decision boundary at step 30 (epoch 3)"
    # a coarser grid (a cheaper probe) over the same box keeps the view where it is
    rect = view.plot.getViewBox().viewRect()
    view.feed([grid_probe(40, 4, size=4)])
    qtbot.waitUntil(lambda: view.last_step == 40, timeout=2000)
    assert view.field.shape[:2] == (4, 4)
    new = view.plot.getViewBox().viewRect()
    assert abs(new.width() - rect.width()) < 0.5 * rect.width()


def test_gradient_view_clear_forgets_the_last_graphs_nodes(qtbot):
    view = GradientView()
    qtbot.addWidget(view)
    view.show()
    view.feed([ProbeEvent(1, 1, grad_norms={"old_a": 1e-8, "old_b": 0.3})])
    assert len(view.plot.legend.items) == 2
    view.clear()
    assert view.curves == {} and view.latest == {} and view.flags == {}
    assert view.plot.legend.items == [] and view.plot.listDataItems() == []
    view.feed([ProbeEvent(1, 1, grad_norms={"new": 0.1})])
    assert [label.text for _, label in view.plot.legend.items] == ["new"]


def test_feature_maps_fill_their_plot_and_clear_empties_the_activation_view(qtbot):
    view = ActivationView()
    qtbot.addWidget(view)
    view.resize(900, 500)
    view.show()
    qtbot.waitExposed(view)
    maps = np.random.default_rng(0).random((16, 8, 8))
    stats = ActivationStats(0.2, 0.5, 0.1, np.array([6, 1, 1]), np.array([0.0, 0.5, 1.0, 1.5]), maps)
    view.feed([ProbeEvent(3, 1, {"conv": stats})])
    qtbot.wait(50)
    assert view.maps_plot.isVisible() and "at step 3" in view.maps_plot.titleLabel.text
    on_screen = view.maps_image.mapRectToScene(view.maps_image.boundingRect())
    # 16 maps of 8x8: once 60 px in all, now each map is larger than that
    assert on_screen.height() >= 0.6 * view.layout_widget.height() and on_screen.width() / 4 > 60
    assert view.maps_image.image.shape == (35, 35)  # 4 x 4, 1-pixel gaps
    view.resize(1400, 300)  # wide and low: more maps to a row
    qtbot.wait(100)
    assert view.maps_image.image.shape[1] > view.maps_image.image.shape[0]
    view.clear()
    assert view.history == {} and view.node_box.count() == 0 and not view.maps_plot.isVisible()
    assert view.hist_image.image is None and view.stats_label.text().startswith("Select a node")


def test_samples_view_clear_forgets_the_last_run(qtbot):
    view = SamplesView()
    qtbot.addWidget(view)
    view.show()
    real = np.random.default_rng(0).normal(size=(50, 2))
    view.feed([ProbeEvent(5, 1, samples={"generated": real * 0.5, "real": real})])
    assert view.plot.titleLabel.text == "Samples at step 5 (epoch 1)"
    view.clear()
    assert view.mode is None and view.last_step is None and view.plot.titleLabel.text == ""
    assert len(view.generated.data) == 0


def test_activation_view_keeps_every_probe_fed_in_its_history_drawn_in_turn(qtbot):
    view = ActivationView()
    qtbot.addWidget(view)
    view.show()
    stats = ActivationStats(0.2, 0.5, 0.1, np.array([6, 1, 1]), np.array([0.0, 0.5, 1.0, 1.5]), None)
    view.feed([ProbeEvent(1, 1, {"h": stats})])
    qtbot.wait(200)
    view.feed([ProbeEvent(s, 1, {"h": stats}) for s in (10, 20, 30)])
    assert view.history["h"].steps == [1, 10]  # the first of the hand-over at once, the rest in turn
    qtbot.waitUntil(lambda: view.history["h"].steps == [1, 10, 20, 30], timeout=2000)
    assert view.hist_image.image.shape == (48, 4) and "(step 30)" in view.stats_label.text()
    view.feed([ProbeEvent(s, 2, {"h": stats}) for s in (40, 50, 60)])
    view.catch_up()  # drawn at once: none of them is lost from the history
    assert view.history["h"].steps[-3:] == [40, 50, 60] and view.hist_image.image.shape == (48, 7)
    assert len(view.mean_curve.getData()[0]) == 7
