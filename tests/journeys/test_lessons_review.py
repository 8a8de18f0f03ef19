"""Lessons as a learner goes through them, one after another in one window: what each text says
is what the run shows, and an experiment's run is compared only with a run of the same lesson."""

from __future__ import annotations

from PySide6.QtCore import Qt

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


def test_experiments_compare_only_with_runs_of_their_lesson_and_xor_is_as_told(window, qtbot):
    press(window, Qt.Key_L, Qt.ControlModifier | Qt.ShiftModifier)  # Help > Lessons
    lessons_panel, panel = window.lessons_panel, window.training_panel

    # The perceptron on XOR, straight away, without a run of the example first.
    pick_lesson(qtbot, lessons_panel, "perceptron")
    click(experiment(qtbot, lessons_panel, "Back to XOR"))
    run_to_end(qtbot, panel, 1)
    loss = panel.run.curves["train_loss"][1]
    acc = panel.run.curves["train_acc"][1]
    # What the text says: the loss jumps between 0.25 and 1, never 0; the accuracy never reaches 1.
    assert min(loss) >= 0.25 and max(loss) == 1.0 and max(acc) <= 0.75
    assert "jumps between 0.25 and 1" in lessons_panel.outcome.text()
    assert "Nothing to compare" in lessons_panel.outcome.text()
    assert not lessons_panel.compare_button.isVisible()

    # Another lesson: its first experiment is not compared with the perceptron's run.
    pick_lesson(qtbot, lessons_panel, "learning_rate")
    click(experiment(qtbot, lessons_panel, "Set lr to 0.001"))
    run_to_end(qtbot, panel, 2)
    assert not lessons_panel.compare_button.isVisible() and panel.history_view.compared() != [1, 2]

    # Train, then an experiment: that pair is overlaid.
    click(lessons_panel.train_button)
    run_to_end(qtbot, panel, 3)
    click(experiment(qtbot, lessons_panel, "Back to lr 0.05"))
    run_to_end(qtbot, panel, 4)
    qtbot.waitUntil(lessons_panel.compare_button.isVisible, timeout=2000)
    assert panel.history_view.compared() == [3, 4]
    assert "Nothing to compare" not in lessons_panel.outcome.text()
