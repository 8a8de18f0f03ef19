"""Lessons as a learner meets them: the start screen offers them, a click opens the lesson's
example with its view in front, the lesson's Train button runs it, an experiment is one click
(one undoable edit and a new run), and the Runs tab overlays the run before and after. What each
lesson says to watch is checked in the view it names."""

from __future__ import annotations

from PySide6.QtCore import Qt

from person import choose, click, press
from studio.lessons import lessons


def epochs_seen(panel) -> int:
    return len(panel.run.curves["train_loss"][0]) if panel.run is not None else 0


def run_for(qtbot, panel, epochs: int, timeout: int = 30_000, runs_before: int | None = None) -> None:
    """Watch a run until it has reached ``epochs`` epochs, then press Stop. ``runs_before``: the runs
    there were before the click that starts this one (a short run may be over before it is watched)."""
    if runs_before is None:
        qtbot.waitUntil(lambda: panel.running, timeout=5000)
    else:
        qtbot.waitUntil(lambda: panel.runs > runs_before, timeout=5000)
    qtbot.waitUntil(lambda: epochs_seen(panel) >= epochs or not panel.running, timeout=timeout)
    if panel.running:
        click(panel.controls.stop_button)
    qtbot.waitUntil(lambda: panel.session is None, timeout=10_000)


def experiment_button(qtbot, lessons_panel, title: str):
    """The experiment's button, once the panel shows it."""
    def shown():
        return next((b for b in lessons_panel.experiment_buttons if b.full_text.startswith(title) and b.isVisible()),
                    None)
    qtbot.waitUntil(lambda: shown() is not None, timeout=2000)
    return shown()


def test_a_lesson_from_the_start_screen_runs_its_experiment_before_and_after(window, qtbot):
    window.open_at_start(None)
    screen = window.start_screen
    qtbot.waitUntil(screen.isVisible, timeout=2000)
    click(screen.lesson_buttons["overfitting"])
    graph = window.editor.graph
    panel = window.training_panel
    lessons_panel = window.lessons_panel
    assert not screen.isVisible() and window.lessons_dock.isVisible()
    assert {n.block for n in graph.nodes.values()} == {"Input", "Linear", "ReLU"}
    assert panel.views.currentWidget() is panel.loss_view  # the lesson's view is in front
    assert "validation loss turns and climbs" in lessons_panel.watch.text()

    # As it is: the validation loss turns and climbs while the training loss keeps falling.
    click(lessons_panel.train_button)
    run_for(qtbot, panel, 45)
    first = panel.run
    assert first.curves.overfit_at is not None and first.curves.overfit_at < 30
    gap_before = first.curves["val_loss"][1][44] - first.curves["train_loss"][1][44]

    # One click: Dropout goes in after each hidden layer as one step, and a new run starts.
    click(experiment_button(qtbot, lessons_panel, "Add Dropout(0.5)"))
    assert sorted(n.block for n in graph.nodes.values()).count("Dropout") == 2
    assert "Ctrl+Z undoes it" in lessons_panel.outcome.text()
    run_for(qtbot, panel, 45)
    second = panel.run
    assert second is not first and second.number == 2
    gap_after = second.curves["val_loss"][1][44] - second.curves["train_loss"][1][44]
    assert gap_after < 0.6 * gap_before  # memorising less: the curves stay closer
    qtbot.waitUntil(lessons_panel.compare_button.isVisible, timeout=2000)
    assert panel.history_view.compared() == [1, 2]
    click(lessons_panel.compare_button)
    assert panel.views.currentWidget() is panel.history_view

    window.view.setFocus()
    press(window.view, Qt.Key_Z, Qt.ControlModifier)
    assert "Dropout" not in {n.block for n in graph.nodes.values()}


def test_every_lesson_opens_its_example_with_its_view_in_front_in_either_language(window, qtbot):
    press(window, Qt.Key_L, Qt.ControlModifier | Qt.ShiftModifier)  # Help > Lessons
    lessons_panel = window.lessons_panel
    panel = window.training_panel
    assert window.lessons_dock.isVisible() and lessons_panel.list.count() == len(lessons())
    for row, lesson in enumerate(lessons()):
        item = lessons_panel.list.item(row)
        lessons_panel.list.scrollToItem(item)
        click(lessons_panel.list.viewport(), lessons_panel.list.visualItemRect(item).center())
        assert lessons_panel.title.text() == lesson.title["en"]
        click(lessons_panel.start_button)
        assert window.editor.graph.name == _example_name(lesson), lesson.id
        tabs = panel.views
        assert tabs.tabText(tabs.currentIndex()) == lesson.view, lesson.id
        assert len(lessons_panel.experiment_buttons) == len(lesson.experiments)
    choose(lessons_panel.language_box, "English + 中文")
    assert lessons_panel.title.text() == f"{lessons()[-1].title['en']} · {lessons()[-1].title['zh']}"
    assert lessons()[-1].watch["zh"] in lessons_panel.watch.text()
    assert window.settings.language == "zh"


def _example_name(lesson) -> str:
    import json

    return json.loads(lesson.example_path.read_text(encoding="utf-8")).get("name", "")


def open_from_panel(window, lesson_id: str) -> None:
    """Help > Lessons, a click on the lesson, a click on Open the example."""
    press(window, Qt.Key_L, Qt.ControlModifier | Qt.ShiftModifier)
    lessons_panel = window.lessons_panel
    row = [lesson.id for lesson in lessons()].index(lesson_id)
    item = lessons_panel.list.item(row)
    lessons_panel.list.scrollToItem(item)
    click(lessons_panel.list.viewport(), lessons_panel.list.visualItemRect(item).center())
    click(lessons_panel.start_button)


def test_cnn_rnn_and_gan_lessons_show_what_they_say(window, qtbot):
    panel = window.training_panel
    lessons_panel = window.lessons_panel or window.show_lessons()
    graph = lambda: window.editor.graph  # noqa: E731 (each lesson opens a new document)

    # CNN feature maps: with two filters in conv1, the Activations tab shows two maps of conv1.
    open_from_panel(window, "cnn_feature_maps")
    assert panel.views.currentWidget() is panel.activation_view
    click(experiment_button(qtbot, lessons_panel, "Only 2 filters in conv1"))
    assert graph().node("conv1").params["out_channels"] == 2
    view = panel.activation_view
    qtbot.waitUntil(lambda: "conv1" in view.history and view.history["conv1"].last is not None, timeout=30_000)
    choose(view.node_box, "conv1")
    assert view.history["conv1"].last.feature_maps.shape[0] == 2 and view.maps_image.image is not None
    run_for(qtbot, panel, 1)

    # RNN memory: the forecast is drawn over the true series; the LSTM's run is overlaid on the RNN's.
    open_from_panel(window, "rnn_memory")
    samples = panel.samples_view
    assert panel.views.currentWidget() is samples
    click(lessons_panel.train_button)
    run_for(qtbot, panel, 2)
    before = panel.runs
    click(experiment_button(qtbot, lessons_panel, "Replace the RNN with an LSTM"))
    assert graph().node("rnn").block == "LSTM"
    qtbot.waitUntil(lambda: samples.mode == "sequence", timeout=30_000)
    assert len(samples.pred_curve.getData()[1]) == len(samples.true_curve.getData()[1]) > 0
    # (its 15 epochs can be over while the forecast is looked at)
    run_for(qtbot, panel, 2, runs_before=before)
    qtbot.waitUntil(lessons_panel.compare_button.isVisible, timeout=2000)
    assert panel.history_view.compared() == [before, before + 1]

    # GAN: the generated points are drawn beside the real ring while the two networks play.
    open_from_panel(window, "gan")
    assert panel.views.currentWidget() is samples
    click(experiment_button(qtbot, lessons_panel, "Learning rate 0.01"))
    assert graph().training["optimizer"]["lr"] == 0.01
    qtbot.waitUntil(lambda: samples.mode == "points", timeout=30_000)
    assert len(samples.generated.data) > 0 and len(samples.real.data) > 0
    run_for(qtbot, panel, 1)


def test_optimizer_and_perceptron_lessons_show_what_they_say(window, qtbot):
    panel = window.training_panel
    lessons_panel = window.show_lessons()

    # Optimizers: at lr 1.0 plain SGD leaves the valley on the loss surface, Adam still gets down,
    # and the run itself ends when its loss overflows.
    open_from_panel(window, "optimizers")
    surface = panel.landscape_view
    assert panel.views.currentWidget() is surface
    click(experiment_button(qtbot, lessons_panel, "Set lr to 1.0 and retrain"))
    assert window.editor.graph.training["optimizer"]["lr"] == 1.0
    qtbot.waitUntil(lambda: bool(surface.paths) and surface.paths["SGD"].lr == 1.0, timeout=30_000)
    assert surface.paths["SGD"].diverged_at is not None and surface.paths["Adam"].diverged_at is None
    assert surface.describe()["SGD"].startswith("diverged at step")
    qtbot.waitUntil(lambda: panel.session is None, timeout=30_000)
    assert panel.history_view.record(panel.runs).status == "failed"

    # The perceptron rule: 100% on AND, never on XOR.
    open_from_panel(window, "perceptron")
    assert panel.views.currentWidget() is panel.boundary_view
    for gate, perfect in (("Learn AND", True), ("Back to XOR", False)):
        click(experiment_button(qtbot, lessons_panel, gate))
        qtbot.waitUntil(lambda: panel.runs > 0 and panel.session is None and panel.run.status != "running",
                        timeout=30_000)
        accuracy = panel.run.curves["train_acc"][1]
        assert (accuracy[-1] == 1.0) is perfect and (max(accuracy) < 1.0) is not perfect, gate
        assert panel.boundary_view.redraws > 0 and panel.boundary_view.field is not None


def test_attention_and_embedding_lessons_show_what_they_say(window, qtbot):
    import numpy as np

    panel = window.training_panel
    lessons_panel = window.show_lessons()

    # Attention: after a short run on the reversal task, most query rows of encoder2 look at the
    # mirrored position: the anti-diagonal.
    open_from_panel(window, "attention")
    view = panel.attention_view
    assert panel.views.currentWidget() is view
    click(experiment_button(qtbot, lessons_panel, "Train only 2 epochs"))
    qtbot.waitUntil(lambda: panel.session is None and panel.run.status == "finished", timeout=60_000)
    qtbot.waitUntil(lambda: view.matrix is not None, timeout=5000)
    choose(view.node_box, "encoder2")
    length = view.matrix.shape[0]
    mirrored = view.matrix.argmax(axis=1) == np.arange(length)[::-1]
    assert mirrored.mean() >= 0.5, view.matrix.round(2)

    # Embeddings: trained as it is, cat ends nearer dog than car on the 2-D map.
    open_from_panel(window, "embeddings")
    cloud = panel.embedding_view
    assert panel.views.currentWidget() is cloud
    click(lessons_panel.train_button)
    qtbot.waitUntil(lambda: panel.session is None and panel.run.status == "finished", timeout=60_000)
    qtbot.waitUntil(lambda: cloud.points is not None, timeout=5000)
    at = {word: cloud.points[i] for i, word in enumerate(cloud.shown_labels)}
    assert np.linalg.norm(at["cat"] - at["dog"]) < np.linalg.norm(at["cat"] - at["car"])
