"""Pressing Train on the spiral network, the way a person does, with the real Trainer."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from studio.training.events import StepsEvent


def click(qtbot, button) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def show_tab(qtbot, panel, title: str) -> None:
    bar = panel.views.tabBar()
    index = next(i for i in range(bar.count()) if bar.tabText(i) == title)
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    assert panel.views.currentIndex() == index


def test_train_shows_loss_falling_and_boundary_changing(qtbot, make_panel):
    panel = make_panel(epochs=8)
    boundaries = []
    view = panel.boundary_view
    view.image.sigImageChanged.connect(lambda: view.field is not None and boundaries.append(view.field.copy()))
    click(qtbot, panel.controls.train_button)
    assert panel.running
    assert not panel.controls.train_button.isEnabled() and panel.controls.stop_button.isEnabled()
    qtbot.waitUntil(lambda: panel.loss_view.steps_seen > 0, timeout=20_000)
    qtbot.waitUntil(lambda: not panel.running, timeout=60_000)

    assert panel.last_end.status == "finished" and panel.last_error is None
    lv = panel.loss_view
    assert lv.steps_seen == 8 * 9  # 8 epochs of 144 samples in batches of 16
    assert lv.smooth.y[-1] < 0.8 * lv.smooth.y[0]  # the loss falls
    assert len(lv.train_loss) == 8 and len(lv.val_loss) == 8
    assert lv.epoch_train.getData()[0].tolist() == list(range(1, 9))
    # The decision boundary was redrawn as the network learnt, and it moved.
    assert panel.boundary_view.redraws >= 2
    assert len(boundaries) >= 2 and not np.array_equal(boundaries[0], boundaries[-1])
    # Progress and numbers a person reads.
    assert panel.controls.run_bar.value() == 1000
    assert "8/8 epochs" in panel.controls.run_bar.format()
    assert "steps/s" in panel.controls.speed_label.text() and "—" not in panel.controls.speed_label.text()
    assert "Finished after 8 epoch(s)" in panel.status_label.text()
    assert "CPU" in panel.controls.device_label.text()
    # Activations and gradients of the hidden layers came through.
    assert set(panel.gradient_view.latest) == {"hidden1", "hidden2", "logits"}
    show_tab(qtbot, panel, "Activations")
    assert panel.activation_view.node == "hidden1"  # the first hidden layer, not the input
    assert panel.activation_view.stats_label.text().startswith("hidden1: mean")
    # The run is in the history with its curves and settings.
    record = panel.history_view.record(1)
    assert record.status == "finished" and record.config["epochs"] == 8
    assert len(record.curves["train_loss"][0]) == 8
    assert panel.controls.train_button.isEnabled()


def test_pause_resume_stop_within_one_step_and_train_again(qtbot, make_panel):
    panel = make_panel(epochs=400, points=100)
    click(qtbot, panel.controls.train_button)
    qtbot.waitUntil(lambda: panel.loss_view.steps_seen >= 20, timeout=20_000)
    first_run_loss = panel.loss_view.steps.y[0]

    click(qtbot, panel.controls.pause_button)
    trainer = panel.session.worker.trainer
    qtbot.waitUntil(lambda: trainer.is_paused, timeout=5_000)
    assert panel.controls.pause_button.text() == "Resume"
    # Paused, the views and the bars catch up with the very last step at once.
    # (well under a redraw period on an idle machine; the bound leaves room for a loaded one)
    qtbot.waitUntil(lambda: panel.loss_view.steps_seen == trainer.step == panel.progress.steps_done, timeout=2000)
    held = trainer.step
    qtbot.wait(200)
    assert trainer.step - held <= 1  # the step under way when Pause was pressed may finish
    held = trainer.step
    qtbot.wait(300)
    assert trainer.step == held  # and then nothing trains while paused

    click(qtbot, panel.controls.pause_button)
    qtbot.waitUntil(lambda: trainer.step > held + 5, timeout=10_000)
    assert panel.controls.pause_button.text() == "Pause"

    asked_at = []
    real_stop = trainer.stop
    trainer.stop = lambda: (asked_at.append(trainer.step), real_stop())  # the step count when Stop lands
    click(qtbot, panel.controls.stop_button)
    qtbot.waitUntil(lambda: not panel.running, timeout=10_000)
    assert asked_at and trainer.step - asked_at[0] <= 1  # stop returns within one step
    assert panel.last_end.status == "stopped"
    assert panel.history_view.record(1).status == "stopped"

    # Train again: it continues from the trained weights, so it starts far lower.
    click(qtbot, panel.controls.train_button)
    qtbot.waitUntil(lambda: panel.loss_view.steps_seen >= 5, timeout=20_000)
    assert panel.runs == 2
    assert panel.loss_view.steps.y[0] < 0.8 * first_run_loss
    click(qtbot, panel.controls.stop_button)
    qtbot.waitUntil(lambda: not panel.running, timeout=10_000)

    # Reset weights: the next run starts from a fresh initialisation again.
    click(qtbot, panel.controls.reset_button)
    assert panel.weights is None
    click(qtbot, panel.controls.train_button)
    qtbot.waitUntil(lambda: panel.loss_view.steps_seen >= 1, timeout=20_000)
    assert abs(panel.loss_view.steps.y[0] - first_run_loss) < 0.1 * first_run_loss
    click(qtbot, panel.controls.stop_button)
    qtbot.waitUntil(lambda: not panel.running, timeout=10_000)
    # Compare two runs in the history.
    panel.history_view.compare([1, 3])
    assert panel.history_view.compared() == [1, 3]
    assert panel.history_view._slots[0][0].getData()[0] is not None


def test_graph_failing_validation_never_starts(qtbot, make_panel, spiral):
    graph = spiral()
    edge = next(e for e in graph.edges if e.dst == "logits")
    graph.disconnect(edge)
    panel = make_panel(graph)
    found = []
    activated = []
    panel.problemsFound.connect(found.append)
    panel.problemActivated.connect(activated.append)
    click(qtbot, panel.controls.train_button)
    assert not panel.running and panel.session is None and panel.runs == 0
    assert found and any(p.node == "logits" and p.port == "in" for p in found[0])
    assert panel.problem_list.isVisible()
    text = panel.problem_list.item(0).text()
    assert "logits.in" in text
    # Clicking the problem asks the editor to show that node.
    rect = panel.problem_list.visualItemRect(panel.problem_list.item(0))
    qtbot.mouseClick(panel.problem_list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert activated[-1] == "logits"
    assert "Not started" in panel.status_label.text()


def test_data_that_does_not_fit_never_starts(qtbot, make_panel, spiral):
    graph = spiral()
    graph.set_params("logits", {"out_features": 5})  # the spiral has 3 classes
    panel = make_panel(graph)
    click(qtbot, panel.controls.train_button)
    assert not panel.running
    items = [panel.problem_list.item(i).text() for i in range(panel.problem_list.count())]
    assert any("logits" in t and "3" in t for t in items), items


def test_exception_inside_training_shows_message_and_window_keeps_working(qtbot, make_panel):
    panel = make_panel(epochs=50)
    real = None

    def failing_factory(callback, weights):
        nonlocal real
        from studio.ui.training.run import RunSetup

        def exploding(event):
            callback(event)
            if isinstance(event, StepsEvent) and event.first_step >= 12:
                raise RuntimeError("the disk went away")

        real = panel.setup.trainer_factory(exploding, weights)
        return real

    panel.make_trainer = failing_factory
    click(qtbot, panel.controls.train_button)
    qtbot.waitUntil(lambda: not panel.running, timeout=30_000)
    assert panel.error_banner.isVisible()
    assert "the disk went away" in panel.error_banner.text()
    assert panel.history_view.record(1).status == "failed"
    assert panel.controls.train_button.isEnabled()

    # The window still works: a plain run trains to the end.
    panel.make_trainer = None
    panel.graph.set_training({**panel.graph.training, "epochs": 2})
    click(qtbot, panel.controls.train_button)
    assert not panel.error_banner.isVisible()
    qtbot.waitUntil(lambda: not panel.running, timeout=30_000)
    assert panel.last_end.status == "finished"


def test_nan_loss_ends_the_run_with_a_message(qtbot, make_panel, spiral):
    graph = spiral(epochs=20)
    # a weight decay of 10 at rate 1 multiplies every weight by -9 a step: the loss overflows
    graph.set_training({**graph.training, "optimizer": {"name": "sgd", "lr": 1.0}, "weight_decay": 10})
    panel = make_panel(graph)
    click(qtbot, panel.controls.train_button)
    qtbot.waitUntil(lambda: not panel.running, timeout=30_000)
    assert panel.last_end.status == "failed"
    assert panel.error_banner.isVisible() and "step" in panel.error_banner.text()


def test_train_checks_the_graph_settings_and_data_once(qtbot, make_panel, monkeypatch):
    """The panel's check finds what the run needs and hands it to the trainer, which checks none
    of it again (it re-validated everything before)."""
    import studio.data
    from counting import counting
    from studio.training import preflight

    panel = make_panel(epochs=1)
    counts = counting(monkeypatch, validate=(preflight, "validate"), fits=(studio.data, "check_fits"))
    click(qtbot, panel.controls.train_button)
    qtbot.waitUntil(lambda: not panel.running, timeout=60_000)
    assert panel.last_end.status == "finished"
    assert counts == {"validate": 1, "fits": 1}
