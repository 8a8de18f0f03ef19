"""Try it, as a learner meets it: open the digits example, press Train, and once it has learnt, draw
digits with the mouse on the Try it tab and see the network name them; the Evaluation tab shows the
validation samples' confusion matrix. Once with the epochs shortened by typing into the field, once
with the file's own settings."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from person import click, mouse_move, press, type_into

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def open_file(window, answers, path) -> None:
    """File > Open (Ctrl+O), the dialog answered with ``path``."""
    before = window.editor.graph
    answers.open_name = str(path)
    window.activateWindow()  # as the person's click back into the window after a menu does
    QApplication.processEvents()
    press(window, Qt.Key_O, Qt.ControlModifier)
    assert window.path == Path(path) and window.editor.graph is not before


def show_tab(panel, title: str) -> None:
    bar = panel.views.tabBar()
    index = next(i for i in range(bar.count()) if bar.tabText(i) == title)
    QTest.mouseClick(bar, Qt.LeftButton, Qt.NoModifier, bar.tabRect(index).center())
    assert panel.views.currentIndex() == index


def train(window, qtbot, timeout_s: float = 90) -> None:
    panel = window.training_panel
    click(panel.controls.train_button)
    assert panel.running, panel.status_label.text()
    qtbot.waitUntil(lambda: not panel.running and panel.session is None, timeout=int(timeout_s * 1000))
    assert panel.status_label.text().startswith(f"Run {panel.runs}: Finished"), panel.status_label.text()


# ---- drawing with the mouse ---------------------------------------------------------------
def stroke(pad, points: list[QPoint]) -> None:
    """Press, move through ``points`` with the button held, release: one stroke of a pen."""
    QTest.mousePress(pad, Qt.LeftButton, Qt.NoModifier, points[0])
    for p in points[1:]:
        mouse_move(pad, p)
        QApplication.processEvents()
    QTest.mouseRelease(pad, Qt.LeftButton, Qt.NoModifier, points[-1])
    QApplication.processEvents()


def frame(pad) -> tuple[float, float, float]:
    """Centre and side of the pad's square, in its own pixels."""
    side = min(pad.width(), pad.height())
    return pad.width() / 2, pad.height() / 2, side


def one(pad) -> list[list[QPoint]]:
    cx, cy, s = frame(pad)
    return [[QPoint(round(cx), round(cy - 0.35 * s + i * 0.7 * s / 20)) for i in range(21)]]


def zero(pad) -> list[list[QPoint]]:
    cx, cy, s = frame(pad)
    return [[QPoint(round(cx + 0.22 * s * math.sin(2 * math.pi * i / 40)),
                    round(cy - 0.35 * s * math.cos(2 * math.pi * i / 40))) for i in range(41)]]


def seven(pad) -> list[list[QPoint]]:
    cx, cy, s = frame(pad)
    bar = [QPoint(round(cx - 0.25 * s + i * 0.05 * s), round(cy - 0.35 * s)) for i in range(11)]
    leg = [QPoint(round(cx + 0.25 * s - i * 0.02 * s), round(cy - 0.35 * s + i * 0.7 * s / 15)) for i in range(1, 16)]
    return [bar + leg]


DIGITS = {"0": zero, "1": one, "7": seven}


def settled(try_it, qtbot) -> None:
    """Wait for a prediction still being made off the window's thread (a slow network, or a busy
    machine), as a person waits to read the answer."""
    qtbot.waitUntil(lambda: not try_it.background.busy and try_it.background.waiting is None, timeout=10_000)


def draw(try_it, qtbot, digit: str) -> list[tuple[str, float]]:
    """Clear the pad with its button, draw ``digit``, and read the bars the person sees."""
    click(try_it.clear_button)
    assert try_it.pad.is_blank and try_it.top_bars.shown == []
    before = try_it.predictions
    for points in DIGITS[digit](try_it.pad):
        stroke(try_it.pad, points)
    settled(try_it, qtbot)
    assert try_it.predictions > before  # it followed the drawing
    return try_it.top_bars.shown


def recognised(window, qtbot, digits=("1", "0", "7")) -> dict[str, list[tuple[str, float]]]:
    panel = window.training_panel
    show_tab(panel, "Try it")
    try_it = panel.try_it
    qtbot.waitUntil(lambda: try_it.kind == "image", timeout=5000)
    assert try_it.pad.width() >= 200 and try_it.pad.height() >= 200, try_it.pad.size()
    return {d: draw(try_it, qtbot, d) for d in digits}


def check_what_the_person_sees(panel, shown: dict[str, list[tuple[str, float]]]) -> None:
    try_it = panel.try_it
    for digit, top in shown.items():
        assert len(top) == 3 and top[0][1] >= top[1][1] >= top[2][1]
    # The last digit drawn is the one on screen: its name first, its bar the longest, and the input
    # the network saw and the saliency map beside it.
    last = list(shown)[-1]
    assert try_it.top_bars.names[0].text() == f"<b>{last}</b>"
    assert try_it.top_bars.bars[0].value() == round(1000 * shown[last][0][1])
    assert f"<b>{last}</b>" in try_it.image_status.text()
    assert not try_it.seen_label.pixmap().isNull() and not try_it.saliency_label.pixmap().isNull()
    # The prediction shown is the trained network's on the drawing as 8x8 input (image_to_input).
    from studio.evaluation.inputs import image_to_input
    from studio.ui.training.draw_pad import fit_to_frame

    p = try_it.predictor
    x = image_to_input(fit_to_frame(try_it.pad.gray()), p)
    assert x.shape == (1, 8, 8)
    again = p.predict(x[None]).top(3)[0]
    assert [c for c, _ in again] == [c for c, _ in shown[last]]
    assert np.allclose([q for _, q in again], [q for _, q in shown[last]], atol=1e-6)


def check_the_evaluation_tab(panel) -> None:
    show_tab(panel, "Evaluation")
    view = panel.evaluation_view
    assert view.mode == "classes"
    val = len(panel.chooser.dataset.val)
    counts = np.array([[int(view.matrix.model().index(r, c).data()) for c in range(10)] for r in range(10)])
    assert counts.sum() == val == 359
    assert view.epoch == panel.progress.epochs_done
    assert [view.matrix.model().headerData(i, Qt.Orientation.Vertical) for i in range(10)] == \
        [str(i) for i in range(10)]
    # The diagonal holds most of them: the run's last validation accuracy, read off the matrix.
    acc = np.trace(counts) / val
    _, val_acc = panel.run.curves["val_acc"]
    assert abs(acc - val_acc[-1]) < 1e-4 and acc > 0.8
    assert f"Accuracy {acc:.3f}" in view.accuracy_label.text()


def test_before_training_try_it_says_to_train_first(window, answers, qtbot):
    open_file(window, answers, EXAMPLES / "lenet5_digits.json")
    panel = window.training_panel
    show_tab(panel, "Try it")
    assert panel.try_it.stack.currentWidget() is panel.try_it.message
    assert panel.try_it.message.text().startswith("Train first:")
    show_tab(panel, "Evaluation")
    assert panel.evaluation_view.mode == "empty" and "confusion matrix" in panel.evaluation_view.message.text()


def test_a_digit_drawn_after_a_short_run_is_recognised(window, answers, qtbot):
    open_file(window, answers, EXAMPLES / "lenet5_digits.json")
    panel = window.training_panel
    type_into(panel.config_form.widgets[("epochs",)], "8", then="enter")  # shorter, as a person would
    assert window.editor.graph.training["epochs"] == 8
    train(window, qtbot)
    shown = recognised(window, qtbot, ("1", "0"))
    assert {d: top[0][0] for d, top in shown.items()} == {"1": "1", "0": "0"}, shown
    check_what_the_person_sees(panel, shown)
    check_the_evaluation_tab(panel)


def test_the_shipped_example_recognises_drawn_digits_and_follows_the_next_run(window, answers, qtbot):
    open_file(window, answers, EXAMPLES / "lenet5_digits.json")
    panel = window.training_panel
    assert window.editor.graph.training["epochs"] == 15
    train(window, qtbot)
    shown = recognised(window, qtbot)
    assert {d: top[0][0] for d, top in shown.items()} == {"1": "1", "0": "0", "7": "7"}, shown
    check_what_the_person_sees(panel, shown)
    check_the_evaluation_tab(panel)

    # A second run with one more epoch: at its end the tab predicts with the new weights, at once.
    first = panel.try_it.predictor
    drawn = panel.try_it.pad.gray()
    type_into(panel.config_form.widgets[("epochs",)], "1", then="enter")
    show_tab(panel, "Try it")
    train(window, qtbot)
    qtbot.waitUntil(lambda: panel.try_it.predictor is not None and panel.try_it.predictor is not first, timeout=5000)
    settled(panel.try_it, qtbot)
    assert np.array_equal(panel.try_it.pad.gray(), drawn)  # the drawing stays
    new = panel.try_it.predictor
    weights = next(iter(panel.weights.values()))
    assert all(torch_equal(new.network.state_dict()[k], v) for k, v in weights.items())
    from studio.evaluation.inputs import image_to_input
    from studio.ui.training.draw_pad import fit_to_frame

    x = image_to_input(fit_to_frame(drawn), new)
    assert panel.try_it.top_bars.shown[0][0] == new.predict(x[None]).top(1)[0][0][0]


def torch_equal(a, b) -> bool:
    import torch

    return bool(torch.equal(a, b))
