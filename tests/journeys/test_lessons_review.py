"""Lessons as a learner goes through them, one after another in one window: what each text says
is what the run shows, and an experiment's run starts afresh and is compared only with a run of the
same lesson."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from person import click, press
from studio.lessons import lessons


def pick_lesson(qtbot, lessons_panel, lesson_id: str) -> None:
    """Click the lesson in the list and press "Open the example"."""
    row = [lesson.id for lesson in lessons()].index(lesson_id)
    item = lessons_panel.list.item(row)
    lessons_panel.list.scrollToItem(item)
    click(lessons_panel.list.viewport(), lessons_panel.list.visualItemRect(item).center())
    click(lessons_panel.start_button)


def experiment(qtbot, lessons_panel, title: str):
    def shown():
        return next((b for b in lessons_panel.experiment_buttons if b.full_text.startswith(title) and b.isVisible()),
                    None)
    qtbot.waitUntil(lambda: shown() is not None, timeout=2000)
    return shown()


def run_to_end(qtbot, panel, number: int) -> None:
    qtbot.waitUntil(lambda: panel.runs == number and panel.session is None, timeout=20_000)


def test_experiments_start_afresh_compare_only_with_their_lessons_runs_and_xor_is_as_told(window, qtbot):
    # The keyboard alone at the start screen: Tab from the canvas reaches the first lesson, the
    # arrows move over the grid (down a row, up, right), Enter opens the lesson in focus.
    window.open_at_start(None)
    screen = window.start_screen
    qtbot.waitUntil(screen.isVisible, timeout=2000)
    press(window.view, Qt.Key_Tab)
    assert not window.view.quick_search.isVisible()  # Tab is the screen's, not the block search's
    ids = list(screen.lesson_buttons)
    for key, now in ((None, 0), (Qt.Key_Down, 2), (Qt.Key_Right, 3), (Qt.Key_Up, 1), (Qt.Key_Left, 0)):
        if key is not None:
            press(QApplication.focusWidget(), key)
        assert screen.isVisible() and QApplication.focusWidget() is screen.lesson_buttons[ids[now]]
    assert ids[0] == "perceptron"
    press(QApplication.focusWidget(), Qt.Key_Return)
    lessons_panel, panel = window.lessons_panel, window.training_panel
    assert not screen.isVisible() and lessons_panel.active is not None and lessons_panel.active.id == "perceptron"
    assert window.editor.graph.training["dataset"]["name"] == "gates"

    # The perceptron on XOR, straight away, without a run of the example first.
    click(experiment(qtbot, lessons_panel, "Back to XOR"))
    run_to_end(qtbot, panel, 1)
    loss = panel.run.curves["train_loss"][1]
    acc = panel.run.curves["train_acc"][1]
    # What the text says: the loss jumps between 0.25 and 1, never 0; the accuracy never reaches 1.
    assert min(loss) >= 0.25 and max(loss) == 1.0 and max(acc) <= 0.75
    assert "jumps between 0.25 and 1" in lessons_panel.outcome.text()
    assert "Nothing to compare" in lessons_panel.outcome.text()
    assert not lessons_panel.compare_button.isVisible()

    # Another lesson, by keyboard: Help > Lessons puts the focus in the list, Down and Enter open
    # the next lessons until the learning rate. Its first experiment is not compared with the
    # perceptron's run.
    # The next lesson is read from its title, not from where the outcome had scrolled the last.
    press(window.view, Qt.Key_L, Qt.ControlModifier | Qt.ShiftModifier)
    assert QApplication.focusWidget() is lessons_panel.list
    assert lessons_panel.scroll.verticalScrollBar().value() > 0
    for _ in range(3):
        press(lessons_panel.list, Qt.Key_Down)
        assert lessons_panel.scroll.verticalScrollBar().value() == 0
    assert lessons_panel.current.id == "learning_rate"
    press(lessons_panel.list, Qt.Key_Return)
    assert lessons_panel.active.id == "learning_rate"
    click(experiment(qtbot, lessons_panel, "Set lr to 0.001"))
    run_to_end(qtbot, panel, 2)
    assert not lessons_panel.compare_button.isVisible() and panel.history_view.compared() != [1, 2]

    crawl = list(panel.run.curves["train_loss"][1])
    bias = next(v for k, v in next(iter(panel.weights.values())).items() if k.endswith("bias"))
    assert 1.1 < float(bias) < 1.3  # "after 60 epochs b is still about 1.2 instead of 1"

    # Undo, Train, then the same experiment again: that pair is overlaid, and the experiment's run
    # starts afresh, not from the weights the lesson's run left: it repeats the first one exactly.
    window.view.setFocus()
    press(window.view, Qt.Key_Z, Qt.ControlModifier)
    assert window.editor.graph.training["optimizer"]["lr"] == 0.05
    click(lessons_panel.train_button)
    run_to_end(qtbot, panel, 3)
    click(experiment(qtbot, lessons_panel, "Set lr to 0.001"))
    run_to_end(qtbot, panel, 4)
    assert list(panel.run.curves["train_loss"][1]) == crawl
    qtbot.waitUntil(lessons_panel.compare_button.isVisible, timeout=2000)
    assert panel.history_view.compared() == [3, 4]
    assert "Nothing to compare" not in lessons_panel.outcome.text()

    # The loss surface of the same network, in a small window: its legend stands beside the map,
    # so the start and every path can be seen (over the map it hid the start), and the map keeps
    # its axes.
    window.resize(1280, 720)
    bar = panel.views.tabBar()
    click(bar, bar.tabRect(next(i for i in range(bar.count()) if bar.tabText(i) == "Loss surface")).center())
    view = panel.landscape_view
    qtbot.waitUntil(lambda: bool(view.paths), timeout=20_000)
    legend, chart = view.legend.sceneBoundingRect(), view.plot.vb.sceneBoundingRect()
    assert legend.width() > 100 and legend.left() >= chart.right() - 1  # to its right, not over it
    assert view.plot_widget.sceneRect().contains(legend)
    axis = view.plot.getAxis("bottom").sceneBoundingRect()
    assert axis.height() > 20 and axis.bottom() <= view.plot_widget.viewport().height()

    # Optimizers, Adam from a fresh start: on the valley floor after 60 epochs, not yet at (2, 1).
    pick_lesson(qtbot, lessons_panel, "optimizers")
    click(experiment(qtbot, lessons_panel, "Switch to Adam"))
    run_to_end(qtbot, panel, 5)
    (w, b) = (float(v.flatten()[0]) for v in next(iter(panel.weights.values())).values())
    assert abs(w - 1.80) < 0.03 and abs(b - 1.56) < 0.03
    assert "y = 1.80 x + 1.56" in lessons_panel.outcome.text()


def test_undoing_a_data_set_experiment_takes_the_old_runs_line_off_the_new_points(window, qtbot):
    press(window, Qt.Key_L, Qt.ControlModifier | Qt.ShiftModifier)
    lessons_panel, panel = window.lessons_panel, window.training_panel
    pick_lesson(qtbot, lessons_panel, "function_fitting")
    view = panel.boundary_view
    click(experiment(qtbot, lessons_panel, "Fit a step"))
    run_to_end(qtbot, panel, 1)
    assert len(view.curve.getData()[0]) > 0 and view.plot.titleLabel.text.startswith("Function at step")

    # Ctrl+Z: the sine's points again, without the step's fitted line over them.
    step_points = view.points.getData()[1].copy()
    window.view.setFocus()
    press(window.view, Qt.Key_Z, Qt.ControlModifier)
    qtbot.waitUntil(lambda: len(view.points.getData()[1]) != len(step_points)
                    or not (view.points.getData()[1] == step_points).all(), timeout=5000)
    x, _y = view.curve.getData()
    assert x is None or len(x) == 0
    assert view.plot.titleLabel.text == "Function"
