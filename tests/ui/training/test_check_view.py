"""The Check tab of the training panel: the doctor's look at the network before its first step,
and the overfit-one-batch and learning-rate checks, pressed the way a person presses them."""

from __future__ import annotations

import inspect
import math
import time

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from studio.doctor import sanity
from studio.doctor.preview import LossCheck, NodeStats, Preview
from studio.ui import theme
from studio.ui.training import check_view
from studio.ui.training.check_view import CheckView, check_keys, flag_color
from studio.ui.training.colors import gradient_rgb


def click(qtbot, button) -> None:
    assert button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def cells(view: CheckView, row: int) -> list[str]:
    return [view.table.item(row, c).text() for c in range(view.table.columnCount())]


def color_of(css: str) -> str:
    return css.split("color:")[1].split(";")[0].strip()


def wait_checked(qtbot, panel, timeout=20_000) -> None:
    qtbot.waitUntil(lambda: not panel.checking, timeout=timeout)


def test_check_shows_the_network_before_its_first_step_and_blocks_train_meanwhile(qtbot, make_panel):
    panel = make_panel()
    view = panel.check_view
    click(qtbot, panel.controls.check_button)
    assert panel.checking and panel.checks.kind == "preview"
    # One thing at a time: Train waits for the check, and says so when pressed anyway.
    assert not panel.controls.train_button.isEnabled() and not panel.controls.check_button.isEnabled()
    assert panel.train() is False and panel.session is None and "a check is running" in panel.status_label.text()
    assert panel.views.currentWidget() is view and "Checking" in view.status_label.text()
    wait_checked(qtbot, panel)

    preview = view.preview
    assert panel.controls.train_button.isEnabled() and panel.controls.check_button.isEnabled()
    assert panel.views.currentWidget() is view
    # The loss against ln 3 for the spiral's 3 classes, in words, green.
    assert abs(preview.loss.value - math.log(3)) < 0.1 * math.log(3)
    text = view.loss_label.text()
    assert f"Loss at initialisation: {preview.loss.value:.4g}" in text and "ln 3 = 1.10" in text
    assert "As expected" in text and check_view.OK_COLOR[theme.current().name] in text
    # A row per node, in the network's order, with the preview's numbers.
    assert [view.table.item(r, 0).text() for r in range(view.table.rowCount())] == \
        ["points", "hidden1", "relu1", "hidden2", "relu2", "logits"]
    relu = preview.node("relu1")
    row = cells(view, view.row_of("relu1"))
    assert row[:6] == ["relu1", "ReLU", f"{relu.mean:.3g}", f"{relu.std:.3g}", "–", f"{relu.dead:.0%}"]
    hidden = preview.node("hidden1")
    assert cells(view, view.row_of("hidden1"))[6] == f"{hidden.grad_norm:.1e}"
    assert [view.warnings.item(i).text() for i in range(view.warnings.count())] == \
        ["Nothing looks wrong before training."]
    assert panel.status_label.text() == "Checked: nothing looks wrong before training."
    assert not view.stale_label.isVisible()
    # Clicking a row asks the editor to show that node.
    shown = []
    panel.problemActivated.connect(shown.append)
    rect = view.table.visualItemRect(view.table.item(view.row_of("hidden2"), 1))
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert shown == ["hidden2"]


def test_a_graph_that_cannot_run_is_refused_with_the_list_train_gives(qtbot, make_panel, spiral):
    graph = spiral()
    graph.disconnect(next(e for e in graph.edges if e.dst == "logits"))
    panel = make_panel(graph)
    found = []
    panel.problemsFound.connect(found.append)
    click(qtbot, panel.controls.train_button)
    by_train = [panel.problem_list.item(i).text() for i in range(panel.problem_list.count())]
    panel.problem_list.clear()
    click(qtbot, panel.controls.check_button)
    assert not panel.checking and panel.check_view.preview is None
    by_check = [panel.problem_list.item(i).text() for i in range(panel.problem_list.count())]
    assert by_check == by_train and any("logits.in" in t for t in by_check)
    assert len(found) == 2 and found[0] == found[1]
    assert panel.status_label.text().startswith("Check not run: 1 problem(s) to fix first")
    # The sanity checks are refused the same way.
    click(qtbot, panel.check_view.overfit_button)
    assert not panel.checking and panel.status_label.text().startswith("Overfit one batch not run:")


def test_flags_and_norms_take_the_gradient_flow_colours(qtbot):
    view = CheckView()
    qtbot.addWidget(view)
    nodes = [NodeStats("fc1", "Linear", 0.1, 0.5, None, None, 3e-8, ("vanishing",)),
             NodeStats("act", "ReLU", 0.0, 0.0, None, 0.9, None, ("dead",)),
             NodeStats("fc2", "Linear", 0.0, 9.0, None, None, 5e3, ("exploding",)),
             NodeStats("out", "Linear", 0.0, 1.0, None, None, 0.3, ())]
    loss = LossCheck("cross_entropy", 9.0, math.log(10), "ln 10 = 2.30 for 10 classes",
                     "far above it: the outputs are too large at initialisation (overconfident)")
    view.show_preview(Preview(loss, nodes, 32, "classification"), "key")
    flags = {view.table.item(r, 0).text(): view.table.item(r, 7) for r in range(4)}
    assert flags["fc1"].background().color() == QColor(*gradient_rgb(1e-8)) == QColor(31, 119, 180)
    assert flags["fc2"].background().color() == QColor(*gradient_rgb(1e9)) == QColor(214, 39, 40)
    assert flags["act"].background().color() == QColor(theme.current().warning) == flag_color("dead")
    assert flags["fc1"].text() == "vanishing" and flags["act"].text() == "dead"
    # The norm's swatch is the colour its wires take on the canvas.
    for row, norm in ((0, 3e-8), (2, 5e3), (3, 0.3)):
        image = view.table.item(row, 6).icon().pixmap(10, 10).toImage()
        assert image.pixelColor(5, 5) == QColor(*gradient_rgb(norm))
    assert view.table.item(1, 6).icon().isNull()  # no weights, no norm
    # A loss far off its expected value is amber, with the verdict's words.
    assert "Far above it" in view.loss_label.text() and theme.current().warning in view.loss_label.text()
    # Once the graph changes, the flags fade with the numbers; back to the checked graph, they return.
    assert view.follow({"preview": "edited"}, None) == {"preview"}
    assert flags["fc1"].background().color().alpha() == check_view.STALE_ALPHA and not view.table.isEnabled()
    assert view.stale_label.text() == "The graph changed since this check; press Check again."
    assert view.follow({"preview": "key"}, None) == set()
    assert flags["fc1"].background().color() == QColor(31, 119, 180) and view.table.isEnabled()


def test_the_stale_note_names_the_buttons_that_make_the_results_again():
    assert check_view.stale_text(set()) == ""
    assert check_view.stale_text({"overfit"}) == "The graph changed since this check; press Overfit one batch again."
    assert check_view.stale_text({"lr_find", "preview"}) == \
        "The graph changed since these checks; press Check and Find learning rate again."
    assert check_view.stale_text({"lr_find", "preview", "overfit"}) == \
        "The graph changed since these checks; press Check, Overfit one batch and Find learning rate again."


def test_an_edit_makes_the_shown_check_stale_and_undoing_it_makes_it_current(qtbot, make_panel):
    panel = make_panel()
    view = panel.check_view
    assert panel.check()
    wait_checked(qtbot, panel)
    assert view.table.isEnabled() and not view.stale_label.isVisible()
    graph = panel.graph
    width = graph.node("hidden1").params["out_features"]
    graph.set_params("hidden1", {"out_features": width + 4})
    qtbot.waitUntil(view.stale_label.isVisible, timeout=2000)
    assert view.stale_label.text() == "The graph changed since this check; press Check again."
    assert not view.table.isEnabled() and not view.loss_label.isEnabled()  # greyed, not shown as current
    graph.set_params("hidden1", {"out_features": width})
    qtbot.waitUntil(lambda: not view.stale_label.isVisible(), timeout=2000)
    assert view.table.isEnabled()
    # Moving a node or a new learning rate changes nothing the preview measured.
    graph.move_node("hidden1", (500.0, 40.0))
    training = dict(graph.training)
    training["optimizer"] = {**training["optimizer"], "lr": 0.003}
    graph.set_training(training)
    qtbot.wait(check_view_settle_ms(panel))
    assert not view.stale_label.isVisible() and view.keys["preview"] == check_keys(graph)["preview"]


def check_view_settle_ms(panel) -> int:
    return panel._check_follow_timer.interval() + 100


def test_overfit_one_batch_draws_its_loss_live_and_passes_in_green(qtbot, make_panel):
    panel = make_panel()
    view = panel.check_view
    started = time.monotonic()
    click(qtbot, view.overfit_button)
    assert view.overfit_button.text() == "■ Stop" and view.overfit_button.isEnabled()
    assert not view.lr_button.isEnabled() and not panel.controls.train_button.isEnabled()
    wait_checked(qtbot, panel)
    seconds = time.monotonic() - started
    result = view.overfit
    assert result.passed and result.losses[-1] <= result.target
    # Drawn as it ran, at most 20 times a second, and ending on every loss the check measured.
    assert 1 <= view.redraws <= seconds / panel.checks.progress_s + 2
    xs, ys = view.overfit_curve.getData()
    assert list(ys) == result.losses and list(xs) == list(range(len(result.losses)))
    assert view.target_line.isVisible() and view.target_line.value() == result.target
    assert view.target_line.label.toPlainText() == f"target {result.target:.3g}"
    assert view.target_line.pen.style() == Qt.PenStyle.DashLine
    assert view.verdict_label.text().startswith("Passed: the loss fell from")
    assert color_of(view.verdict_label.styleSheet()) == check_view.OK_COLOR[theme.current().name]
    assert view.overfit_button.text() == "Overfit one batch" and view.lr_button.isEnabled()
    assert panel.status_label.text().startswith(f"Overfit one batch: passed after {result.steps} steps")


def test_find_learning_rate_offers_its_suggestion_as_one_undoable_edit(qtbot, make_panel):
    panel = make_panel()
    view = panel.check_view
    graph = panel.graph
    before = graph.training["optimizer"]["lr"]
    click(qtbot, view.lr_button)
    assert view.lr_button.text() == "■ Stop" and not view.overfit_button.isEnabled()
    wait_checked(qtbot, panel)
    result = view.lr_result
    assert result.suggested is not None and result.suggested != before
    smooth = view.lr_smooth  # the data as given: the plot shows x on a log axis
    assert list(smooth.yData) == result.smoothed and list(smooth.xData) == result.lrs
    assert view.lr_plot.getPlotItem().ctrl.logXCheck.isChecked()
    assert view.lr_line.isVisible() and math.isclose(view.lr_line.value(), math.log10(result.suggested))
    assert view.lr_line.label.toPlainText() == f"suggested {result.suggested:g}"
    assert view.verdict_label.text().startswith(f"Suggested learning rate: {result.suggested:g} (now {before:g})")
    button = view.use_lr_button
    assert button.isVisible() and button.text() == f"Use lr {result.suggested:g}"
    # The other check's tab has its own words and no lr button; the range test stays a click away.
    bar = view.plots.tabBar()
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(0).center())
    assert view.plots.currentWidget() is view.overfit_plot and not button.isVisible()
    assert view.verdict_label.text() == check_view.INTRO
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(1).center())
    assert button.isVisible() and view.verdict_label.text().startswith("Suggested learning rate")
    steps = panel.undo_stack.count()
    click(qtbot, button)
    assert graph.training["optimizer"]["lr"] == result.suggested
    assert panel.undo_stack.count() == steps + 1
    assert panel.config_form.widgets[("optimizer", "lr")].text() == f"{result.suggested:g}"
    assert not button.isEnabled()  # it is the learning rate now
    panel.undo_stack.undo()
    assert graph.training["optimizer"]["lr"] == before
    qtbot.waitUntil(button.isEnabled, timeout=2000)
    # Neither the range test nor the preview depends on the rate; one-batch training does.
    assert check_keys(graph)["lr_find"] == view.keys["lr_find"]


def test_a_check_stops_at_its_button_and_a_run_keeps_checks_away(qtbot, make_panel):
    panel = make_panel(epochs=30)
    view = panel.check_view
    click(qtbot, view.lr_button)
    click(qtbot, view.lr_button)  # now "Stop"
    wait_checked(qtbot, panel)
    result = view.lr_result
    assert result.stopped and len(result.lrs) < check_view.LR_STEPS
    assert view.verdict_label.text().startswith(f"Stopped after {len(result.lrs)} steps.")
    assert view.lr_button.text() == "Find learning rate"
    # While a run trains, the checks wait.
    click(qtbot, panel.controls.train_button)
    assert panel.running
    assert not panel.controls.check_button.isEnabled()
    assert not view.overfit_button.isEnabled() and not view.lr_button.isEnabled()
    assert panel.check() is False and not panel.checking
    assert panel.status_label.text() == "Check waits for the run to end: stop it first."
    panel.stop()
    qtbot.waitUntil(lambda: not panel.running and panel.session is None, timeout=20_000)
    assert panel.controls.check_button.isEnabled() and view.overfit_button.isEnabled()


def test_a_check_that_fails_says_why_and_leaves_the_panel_working(qtbot, make_panel, monkeypatch):
    def out_of_memory(*_args, **_kwargs):
        raise RuntimeError("CUDA out of memory")

    monkeypatch.setattr(sanity, "overfit_batch", out_of_memory)
    panel = make_panel()
    view = panel.check_view
    click(qtbot, view.overfit_button)
    wait_checked(qtbot, panel)
    assert view.verdict_label.text() == "The one-batch test could not run: CUDA out of memory"
    assert color_of(view.verdict_label.styleSheet()) == theme.current().warning
    assert panel.status_label.text() == "The one-batch test could not run: CUDA out of memory"
    assert view.overfit_button.text() == "Overfit one batch" and panel.controls.train_button.isEnabled()


def test_another_document_during_a_check_forgets_it(qtbot, make_panel, spiral):
    panel = make_panel()
    assert panel.overfit_one_batch()
    panel.set_graph(spiral(), panel.undo_stack)
    assert not panel.checking and panel.check_view.overfit is None and not panel.check_view.has_results
    assert panel.check_view.overfit_button.text() == "Overfit one batch"
    assert panel.controls.train_button.isEnabled()
    qtbot.wait(200)  # whatever the old check still sent is dropped
    assert panel.check_view.overfit is None


def test_the_tab_draws_the_range_test_the_doctor_runs():
    # The curve is drawn against each step's rate as the losses arrive: the same range as the test's.
    defaults = inspect.signature(sanity.lr_find).parameters
    assert (check_view.LR_START, check_view.LR_END, check_view.LR_STEPS) == \
        (defaults["start"].default, defaults["end"].default, defaults["steps"].default)
    assert check_view.SMOOTHING == sanity.SMOOTHING
    assert check_view.OVERFIT_STEPS == inspect.signature(sanity.overfit_batch).parameters["steps"].default


def test_a_new_document_gives_the_plots_their_first_ranges_back(qtbot):
    fresh = CheckView()
    view = CheckView()
    qtbot.addWidget(fresh)
    qtbot.addWidget(view)
    fresh._ensure_plots()
    view.overfit_started()
    view.add_overfit_points([(0, 40.0), (150, 30.0)])
    view.lr_started()
    view.add_lr_points([(0, 9.0), (50, 7.0)])
    view.clear()
    for name in ("overfit_plot", "lr_plot"):
        got = getattr(view, name).getPlotItem().viewRange()
        want = getattr(fresh, name).getPlotItem().viewRange()
        assert got == want, (name, got, want)  # not the old document's axes around no curve
