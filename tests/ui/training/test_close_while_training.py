"""Quitting while a run trains: a person who cancels the unsaved-changes question keeps the run;
one who quits ends it before the window goes."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest


def test_cancelling_the_quit_keeps_the_run_quitting_stops_it(make_window, answers, spiral, qtbot, tmp_path):
    from studio.files import save

    path = tmp_path / "spiral.json"
    save(spiral(epochs=400, points=400), path)
    window = make_window()
    qtbot.waitUntil(lambda: getattr(window, "training_panel", None) is not None, timeout=10_000)
    window.open_path(str(path), ask=False)
    panel = window.training_panel
    panel.config_form.widgets[("epochs",)].setValue(300)  # an unsaved change
    QTest.mouseClick(panel.controls.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.progress is not None and panel.progress.epochs_done >= 1, timeout=20_000)
    answers.save_changes = "cancel"
    QTest.keyClick(window, Qt.Key_Q, Qt.ControlModifier)
    assert answers.asked[-1][0] == "save_changes" and window.isVisible()
    assert panel.running and panel.controls.stop_button.isEnabled()
    done = panel.progress.epochs_done
    qtbot.waitUntil(lambda: panel.progress.epochs_done > done, timeout=20_000)  # still training
    answers.save_changes = "discard"
    QTest.keyClick(window, Qt.Key_Q, Qt.ControlModifier)
    assert not window.isVisible() and not panel.running and panel.session is None
