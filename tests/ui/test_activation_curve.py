"""A learner selects a sigmoid of the vanishing-gradients network: the inspector draws its curve and
slope; once a run trains, the inputs the node receives appear behind them and the share of them in
the saturated tails is written beside it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from person import type_into
from studio.training.activation_curve import ActivationFunction, input_band
from studio.ui.inspector.activation_curve import BEFORE_RUN

from .conftest import node_point

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "vanishing_gradients.json"


def select(window, node_id: str) -> None:
    window.view.frame_all()
    QTest.mouseClick(window.view.viewport(), Qt.LeftButton, Qt.NoModifier, node_point(window, node_id))
    assert window.inspector.node_id == node_id


def test_a_sigmoid_shows_its_curve_then_the_saturated_inputs_a_run_gives_it(window, qtbot):
    for _ in range(5):  # the training dock fills in on the first turns of the event loop
        QApplication.processEvents()
    assert window.inspector.curve_view is None  # nothing built until an activation is shown
    assert window.open_path(EXAMPLE, ask=False)
    select(window, "fc8")
    assert window.inspector.curve_view is None
    select(window, "sigmoid8")
    view = window.inspector.curve_view
    assert view.isVisible() and view.note.text() == BEFORE_RUN
    assert view.x_range == (-6.0, 6.0)
    xs, ys = view.value_curve.getData()
    _, slopes = view.slope_curve.getData()
    assert ys == pytest.approx(1 / (1 + np.exp(-xs)))
    assert slopes == pytest.approx(ys * (1 - ys))

    # A learning rate far too large drives the last sigmoid's inputs deep into its tail.
    panel = window.training_panel
    type_into(panel.config_form.widgets[("optimizer", "lr")], "10")
    type_into(panel.config_form.widgets[("epochs",)], "2")
    assert window.editor.graph.training["optimizer"]["lr"] == 10 and window.editor.graph.training["epochs"] == 2
    finished = []
    panel.runFinished.connect(finished.append)
    QTest.mouseClick(panel.controls.train_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: bool(finished) and view.inputs is not None, timeout=15_000)
    assert finished == ["finished"]
    qtbot.wait(50)  # the last probe's hand-over

    probe = window.inspector.probe
    inputs = probe.activations["fc8"]  # sigmoid8's inputs are fc8's outputs
    assert np.array_equal(view.inputs[0], inputs.hist_counts)
    shares = ActivationFunction(window.editor.graph.node("sigmoid8").spec, {}).input_shares(
        inputs.hist_counts, inputs.hist_edges)
    assert view.shares.saturated == pytest.approx(shares.saturated) and shares.saturated > 0.5
    wanted = input_band(inputs.hist_counts, inputs.hist_edges)
    assert view.x_range[0] <= wanted[0] and wanted[1] <= view.x_range[1]  # the view holds the inputs
    assert wanted[1] < -2  # the inputs sit in the left tail, and the view follows them there
    band = view.band.path().boundingRect()  # the histogram drawn: over its bins, of some height
    assert (band.left(), band.right()) == pytest.approx((inputs.hist_edges[0], inputs.hist_edges[-1]))
    assert band.height() > 0 and view.flat_band.path().boundingRect().height() > 0
    text = view.note.text()
    assert f"{shares.saturated:.0%} saturated" in text and "the outputs of fc8" in text

    # The first sigmoid's inputs stay where its slope is steep: nothing saturated there.
    select(window, "sigmoid1")
    assert window.inspector.curve_view is view and view.isVisible()
    assert view.shares.saturated < 0.1 and view.shares.mean_slope > 0.15
    assert "the outputs of fc1" in view.note.text()
