"""Live views stay live: a learner opens an example, presses Train with the file's own
settings and the app's shipped probe budget, and watches the decision boundary bend
and the activations spread while the network learns. When the run ends the views
show the trained network, at its last step.

(The boundary used to stop at "step 1" while the accuracy reached 100%: the probe
budget let only gradient norms through after the first step and dropped the final
look at the weights.)"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from studio.training.events import StepsEvent

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


class Watcher:
    """What a person sees of a run: every boundary frame drawn, and the last step reported."""

    def __init__(self, panel) -> None:
        self.panel = panel
        self.frames: list[tuple[int | None, str]] = []  # (step in the title, digest of the field)
        self.last_step = 0
        self.ended: str | None = None
        self.first_step_at: float | None = None  # when the first steps were reported
        self.ended_at: float | None = None
        view = panel.boundary_view
        view.image.sigImageChanged.connect(self._on_frame)
        panel.runStarted.connect(lambda _n: panel.session.events.connect(self._on_events))
        panel.runFinished.connect(self._on_finished)

    def _on_frame(self) -> None:
        field = self.panel.boundary_view.field
        if field is not None:
            self.frames.append((self.panel.boundary_view.last_step, hashlib.sha1(field.tobytes()).hexdigest()))

    def _on_events(self, batch: list) -> None:
        for ev in batch:
            if isinstance(ev, StepsEvent):
                self.last_step = max(self.last_step, ev.first_step + len(ev.losses))
                if self.first_step_at is None:
                    self.first_step_at = time.monotonic()

    def _on_finished(self, status: str) -> None:
        self.ended = status
        self.ended_at = time.monotonic()

    @property
    def run_seconds(self) -> float:
        return self.ended_at - self.first_step_at


@pytest.fixture(autouse=True)
def _earlier_garbage_collected(only_live_widgets):
    """These runs count frames a second: garbage earlier tests left is collected before, not by
    the window's collector in the middle of the watched run (a stall of a second in a 3 s run)."""
    yield


def train_and_watch(qtbot, window, example: str, timeout_s: float) -> Watcher:
    assert window.open_path(EXAMPLES / example, ask=False)
    panel = window.training_panel
    watcher = Watcher(panel)
    panel.views.setCurrentWidget(panel.boundary_view)  # the tab a learner opens for this
    QTest.mouseClick(panel.controls.train_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: watcher.ended is not None and panel.session is None, timeout=int(timeout_s * 1000))
    assert watcher.ended == "finished", panel.status_label.text()
    return watcher


def show_tab(qtbot, panel, title: str) -> None:
    bar = panel.views.tabBar()
    index = next(i for i in range(bar.count()) if bar.tabText(i) == title)
    QTest.mouseClick(bar, Qt.LeftButton, Qt.NoModifier, bar.tabRect(index).center())
    assert panel.views.currentIndex() == index


def assert_live(qtbot, panel, watcher: Watcher) -> None:
    view = panel.boundary_view
    last = watcher.last_step
    assert last > 1
    # The views end on the trained network, at its last step (the frames fed last are shown in
    # turn, within a second and a half).
    qtbot.waitUntil(lambda: view.last_step == last, timeout=3000)
    assert view.plot.titleLabel.text.startswith(f"Decision boundary at step {last:,} (epoch ")
    # The boundary moved while it learned: several distinct frames, the last not one flat colour.
    assert len({digest for _, digest in watcher.frames}) > 1, watcher.frames
    assert len({step for step, _ in watcher.frames}) > 1
    field = view.field
    assert field is not None and len(np.unique(field.reshape(-1, field.shape[-1]), axis=0)) > 1
    # Activations were sampled along the run: the histogram over time has many columns.
    show_tab(qtbot, panel, "Activations")
    acts = panel.activation_view
    qtbot.waitUntil(lambda: acts.node is not None and acts.history[acts.node].steps[-1] == last, timeout=3000)
    shown = acts.history[acts.node]
    assert len(shown.steps) > 1
    assert acts.hist_image.image is not None and acts.hist_image.image.shape[1] > 1
    assert f"(step {last})" in acts.stats_label.text()


def test_training_xor_with_its_own_settings_keeps_the_boundary_live_to_the_last_step(qtbot, window):
    watcher = train_and_watch(qtbot, window, "xor_mlp.json", timeout_s=60)
    assert_live(qtbot, window.training_panel, watcher)


def test_training_spiral_with_its_own_settings_keeps_the_boundary_live_to_the_last_step(qtbot, window):
    watcher = train_and_watch(qtbot, window, "spiral_mlp.json", timeout_s=90)
    panel = window.training_panel
    assert_live(qtbot, panel, watcher)
    # Two frames a second of the run (half that on a busy machine), not one at the start.
    frames = len({step for step, _ in watcher.frames})
    print(f"spiral: {frames} boundary frames in a run of {watcher.run_seconds:.1f} s")
    assert frames >= min(2 * watcher.run_seconds * 0.5, 80), (frames, watcher.run_seconds)


def test_after_a_run_an_image_data_set_shows_why_there_is_no_boundary(qtbot, window):
    watcher = train_and_watch(qtbot, window, "xor_mlp.json", timeout_s=60)
    panel = window.training_panel
    view = panel.boundary_view
    qtbot.waitUntil(lambda: view.last_step == watcher.last_step, timeout=3000)
    # Open a convolutional network on digits: no boundary of the last run, and a message saying why.
    assert window.open_path(EXAMPLES / "lenet5_digits.json", ask=False)
    # (while the digits are read, the view says so; then why there is no boundary)
    qtbot.waitUntil(lambda: view.is_empty and view.empty_label.text().startswith("No decision boundary"),
                    timeout=10000)
    assert view.empty_label.isVisible() and not view.plot_widget.isVisible()
    assert "2-D points" in view.empty_label.text()
    assert view.field is None and view.last_step is None and "step" not in view.plot.titleLabel.text
    assert panel.activation_view.history == {} and panel.gradient_view.curves == {}
