"""Labels that change text during a run without re-laying out the window."""

from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout, QWidget

from studio.ui.training.steady import SteadyLabel


def test_a_longer_text_leaves_the_layout_alone(qtbot):
    window = QWidget()
    qtbot.addWidget(window)
    box = QVBoxLayout(window)
    label = SteadyLabel("short", lines=2)
    plot_stand_in = QWidget()
    box.addWidget(plot_stand_in, 1)
    box.addWidget(label)
    window.resize(300, 200)
    window.show()
    qtbot.waitExposed(window)
    before = (label.geometry(), plot_stand_in.geometry())
    long_text = "Run 12: training, epoch 1234 of 5000, " * 6
    label.setText(long_text)
    qtbot.wait(20)
    assert (label.geometry(), plot_stand_in.geometry()) == before  # nothing moved
    assert label.text() == long_text and label.toolTip() == long_text  # the cut-off part is in the tooltip


def test_a_one_line_label_is_as_wide_as_its_template(qtbot):
    label = SteadyLabel("— steps/s", template="888,888 steps/s")
    qtbot.addWidget(label)
    width = label.width()
    label.setText("12,345 steps/s")
    assert label.width() == width and label.minimumWidth() == label.maximumWidth()
    assert width >= label.fontMetrics().horizontalAdvance("888,888 steps/s")


def test_text_longer_than_its_lines_is_cut_at_the_end_not_the_start(qtbot):
    first = "The check could not run: the doctor cannot run this graph:"
    shown = []
    for text in (first, first + "\n" + "training.task: the doctor runs supervised networks only; " * 4):
        label = SteadyLabel(text, lines=2)
        qtbot.addWidget(label)
        label.resize(300, label.height())
        shown.append(label.grab().toImage())
    line = SteadyLabel(lines=1).fontMetrics().lineSpacing()
    # The first line is drawn where it would be alone, whole: only what follows it is cut off.
    assert shown[0].copy(0, 0, 300, line) == shown[1].copy(0, 0, 300, line)
