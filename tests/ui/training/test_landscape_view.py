"""The Loss surface tab, driven in the whole window on the linear-regression example: the (w, b)
plane, the five optimizers' paths drawn step by step, the learning rate typed and slid, and the
run's own path as it trains."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from person import click, press, type_into

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "linear_regression.json"


def frames_per_second(view) -> float:
    times = view.frame_times
    return (len(times) - 1) / (times[-1] - times[0])


def test_the_paths_play_over_the_surface_and_sgd_diverges_at_lr_1(qtbot, make_window):
    window = make_window()
    assert window.open_path(EXAMPLE, ask=False)
    panel = window.training_panel
    view = panel.landscape_view
    assert not view.built  # nothing is built before the tab is first seen
    bar = panel.views.tabBar()
    index = next(i for i in range(bar.count()) if bar.tabText(i) == "Loss surface")
    click(bar, bar.tabRect(index).center())
    assert panel.views.currentWidget() is view and view.built
    # the paths play as soon as they are computed, a step of every path a frame
    qtbot.waitUntil(lambda: bool(view.paths) and not view.playing, timeout=20_000)
    assert view.shown == 101 and frames_per_second(view) >= 30
    assert view.lr_edit.text() == "0.05"  # the document's learning rate
    assert (view.plot.getAxis("bottom").labelText, view.plot.getAxis("left").labelText) == (
        "line.weight", "line.bias")
    assert view.image.image is not None and view.image.image.shape[0] >= 16
    assert all(len(p.points) == 101 for p in view.paths.values())
    x, _y = view.curves["Momentum"].getData()
    assert len(x) == 101
    states = view.describe()
    assert states["SGD"].startswith("loss ") and states["SGD"].endswith("after 100 steps")
    assert view.written["SGD"] == f"SGD: {states['SGD']}"
    assert view.legend.getLabel(view.curves["SGD"]).text == f"SGD: {states['SGD']}"

    click(view.play_button)  # from the start again: the state is written once a path is drawn to its end
    assert view.playing and view.shown == 1 and view.written["SGD"] == "SGD"

    type_into(view.lr_edit, "1.0", then="enter")
    assert view.slider.value() == view.slider.maximum() * 4 // 5  # 1.0 is 4 of the 5 decades up
    qtbot.waitUntil(lambda: view.computed.lr == 1.0 and view.written["SGD"] != "SGD", timeout=10_000)
    assert view.describe()["SGD"].startswith("diverged at step")
    assert view.written["SGD"].startswith("SGD: diverged at step")
    assert not view.describe()["Adam"].startswith("diverged")

    view.slider.setFocus()
    for _ in range(5):  # a page is a twentieth of the scale: 1.0 down to 0.056
        press(view.slider, Qt.Key_PageDown)
    assert view.lr_edit.text() == "0.0562"
    qtbot.waitUntil(lambda: view.computed.lr == 0.0562 and view.paths["SGD"].lr == 0.0562, timeout=10_000)
    assert view.paths["SGD"].diverged_at is None

    click(view.boxes["Adam"])  # hides Adam's path
    assert not view.curves["Adam"].isVisible() and view.written["Adam"] == "Adam (hidden)"
    click(view.reset_button)
    assert not view.playing and len(view.curves["SGD"].getData()[0]) == 1

    type_into(view.lr_edit, "fast", then="enter")
    assert "'fast' is not a number" in view.status.text() and view.lr_edit.text() == "0.0562"

    with qtbot.waitSignal(panel.runFinished, timeout=30_000):  # the run's own (w, b) is drawn as it trains
        click(panel.controls.train_button)
    run_x, run_y = view.run_curve.getData()
    assert len(run_x) == len(view.run_points) >= 3
    assert (run_x[0], run_y[0]) == tuple(view.paths["SGD"].points[0])  # from the paths' start
    assert abs(run_x[-1] - 2) < 0.2 and abs(run_y[-1] - 1) < 0.5  # the data's y = 2 x + 1
