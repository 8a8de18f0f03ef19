"""The Evaluation tab fed epoch reports: the confusion matrix, its toggle and hover, the per-class
table, regression plots, and drawing only when the tab is seen or the run ends."""

from __future__ import annotations

import dataclasses

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QTabWidget, QWidget

from studio.training.events import EpochEvent
from studio.training.metrics import ClassReport, RegressionReport
from studio.ui.training.evaluation_view import BEFORE, NO_REPORT, EvaluationView

NAMES = ("cat", "dog", "bird")
COUNTS = np.array([[8, 2, 0],
                   [1, 6, 3],
                   [0, 0, 5]])


def epoch(n: int, report=None) -> EpochEvent:
    return dataclasses.replace(EpochEvent(n, 1.0 / n, 1.2 / n, 0.5, 0.5, 0.01, 1.0, 100.0), report=report)


def shown_view(qtbot) -> EvaluationView:
    view = EvaluationView()
    qtbot.addWidget(view)
    view.resize(900, 420)
    view.show()
    qtbot.waitExposed(view)
    return view


def cell_texts(view) -> list[list[str]]:
    m = view.matrix.model()
    return [[m.index(r, c).data() for c in range(m.columnCount())] for r in range(m.rowCount())]


def test_before_a_run_a_sentence_says_what_will_appear(qtbot):
    view = shown_view(qtbot)
    assert view.mode == "empty"
    assert view.message.text() == BEFORE and "confusion matrix" in BEFORE
    assert not view.counts_button.isVisible()


def test_the_matrix_counts_shares_and_per_class_numbers(qtbot):
    view = shown_view(qtbot)
    report = ClassReport(COUNTS, NAMES)
    view.feed([epoch(1), epoch(2, report)])
    assert view.mode == "classes" and view.epoch == 2
    m = view.matrix.model()
    # Rows are the true class, columns the predicted one, named on both axes.
    assert [m.headerData(i, Qt.Orientation.Vertical) for i in range(3)] == list(NAMES)
    assert [m.headerData(i, Qt.Orientation.Horizontal) for i in range(3)] == list(NAMES)
    assert cell_texts(view) == [["8", "2", "0"], ["1", "6", "3"], ["0", "0", "5"]]
    # The person switches to shares with the mouse: each row's share, the diagonal is recall.
    QTest.mouseClick(view.shares_button, Qt.MouseButton.LeftButton)
    assert view.shares_button.isChecked()
    assert cell_texts(view) == [["80%", "20%", "0%"], ["10%", "60%", "30%"], ["0%", "0%", "100%"]]
    QTest.mouseClick(view.counts_button, Qt.MouseButton.LeftButton)
    assert cell_texts(view)[1] == ["1", "6", "3"]
    # Hover: the count, its share of the row, the row class's recall and the column class's precision.
    tip = m.index(1, 2).data(Qt.ItemDataRole.ToolTipRole)
    assert "True dog, predicted bird: 3 sample(s)" in tip
    assert "30% of the 10 true dog" in tip
    assert "recall 0.600" in tip  # 6 of 10 dogs found
    assert "precision 0.625" in tip  # 5 of the 8 predicted birds are birds
    # Mistakes are shaded red, right answers blue, stronger where the share is larger.
    right, wrong, faint = (m.index(r, c).data(Qt.ItemDataRole.BackgroundRole) for r, c in ((0, 0), (1, 2), (0, 2)))
    assert right.blue() > right.red() and wrong.red() > wrong.blue()
    # stronger: further from the cell background, in the light theme and the dark one alike
    base = view.matrix.palette().base().color()

    def distance(c):
        return sum(abs(a - b) for a, b in zip(c.getRgb()[:3], base.getRgb()[:3]))

    assert distance(faint) < distance(wrong)
    # The per-class table and the accuracy beside it.
    table = view.metrics
    rows = [[table.item(r, c).text() for c in range(5)] for r in range(table.rowCount())]
    assert rows == [["cat", "0.889", "0.800", "0.842", "10"],
                    ["dog", "0.750", "0.600", "0.667", "10"],
                    ["bird", "0.625", "1.000", "0.769", "5"]]
    assert "Accuracy 0.760 (19 of 25 right)" in view.accuracy_label.text()


def test_a_hidden_tab_waits_and_draws_when_shown_or_at_the_end(qtbot):
    tabs = QTabWidget()
    qtbot.addWidget(tabs)
    other, view = QWidget(), EvaluationView()
    tabs.addTab(other, "Loss")
    tabs.addTab(view, "Evaluation")
    tabs.show()
    qtbot.waitExposed(tabs)
    first = ClassReport(COUNTS, NAMES)
    second = ClassReport(COUNTS + np.eye(3, dtype=int) * 10, NAMES)
    view.feed([epoch(1, first)])
    view.feed([epoch(2, second)])
    assert view.draws == 0 and view.mode == "empty"  # nothing drawn while nobody looks
    assert view.reports_seen == 2
    tabs.setCurrentWidget(view)  # the person brings it forward: the newest report, at once
    assert view.draws == 1 and view.epoch == 2 and cell_texts(view)[0][0] == "18"
    tabs.setCurrentWidget(other)
    view.feed([epoch(3, first)])
    view.catch_up()  # the run ended: drawn, seen or not
    assert view.draws == 2 and view.epoch == 3 and cell_texts(view)[0][0] == "8"
    view.clear()
    assert view.mode == "empty" and view.report is None and view.matrix.model().rowCount() == 0


def test_a_run_without_reports_says_why_at_its_end(qtbot):
    view = shown_view(qtbot)
    view.feed([epoch(1), epoch(2)])
    view.catch_up()
    assert view.mode == "empty" and view.message.text() == NO_REPORT


def test_regression_gets_predicted_against_target_and_residuals(qtbot):
    view = shown_view(qtbot)
    rng = np.random.default_rng(0)
    target = rng.normal(size=300)
    predicted = target + rng.normal(scale=0.1, size=300)
    report = RegressionReport.from_arrays(predicted, target)
    view.feed([epoch(4, report)])
    assert view.mode == "regression"
    x, y = view.fit_points.getData()
    assert np.allclose(x, target) and np.allclose(y, predicted)
    rx, ry = view.residual_points.getData()
    assert np.allclose(ry, predicted - target)
    ix, iy = view.identity.getData()
    assert list(ix) == list(iy) and ix[0] <= min(target.min(), predicted.min()) and ix[-1] >= target.max()
    text = view.regression_numbers.text()
    assert f"MAE {report.mae:.4g}" in text and f"RMSE {report.rmse:.4g}" in text and f"R² {report.r2:.4f}" in text
    assert not view.counts_button.isVisible()  # counts or shares mean nothing here


def test_many_classes_stay_readable(qtbot):
    view = shown_view(qtbot)
    n = 40
    counts = np.diag(np.full(n, 5)) + 1
    view.show_report(ClassReport(counts, tuple(f"c{i}" for i in range(n))), 1)
    qtbot.wait(10)
    header = view.matrix.horizontalHeader()
    assert min(header.sectionSize(i) for i in range(n)) >= header.minimumSectionSize() >= 20
    assert view.matrix.horizontalScrollBar().maximum() > 0  # it scrolls rather than squashing the numbers


def test_loaded_weights_are_evaluated_when_the_tab_is_first_shown(qtbot):
    tabs = QTabWidget()
    qtbot.addWidget(tabs)
    other, view = QWidget(), EvaluationView()
    tabs.addTab(other, "Loss")
    tabs.addTab(view, "Evaluation")
    tabs.show()
    qtbot.waitExposed(tabs)
    asked = []
    view.evaluate_later(lambda: asked.append(1) or ClassReport(COUNTS, NAMES), "weights loaded from w.safetensors")
    assert asked == [] and view.mode == "empty"  # one pass over the validation samples, only if looked at
    tabs.setCurrentWidget(view)
    assert asked == [1] and view.mode == "classes" and view.epoch is None
    assert view.title.text() == "Validation samples, weights loaded from w.safetensors: 25 sample(s), 3 classes"
    tabs.setCurrentWidget(other)
    tabs.setCurrentWidget(view)
    assert asked == [1]  # made once

    def refuse():
        raise ValueError("1 problem(s) to fix first: 1 in the graph. Press Train to list them.")

    view.evaluate_later(refuse, "weights loaded from w.safetensors")
    assert view.mode == "empty"
    assert view.message.text() == ("The weights loaded from w.safetensors could not be evaluated: 1 problem(s) to "
                                   "fix first: 1 in the graph. Press Train to list them.")


def test_what_one_count_is_follows_the_data_set(qtbot):
    """A token task counts every position of every sequence, a graph every node; a GAN has nothing
    to count and the tab says what judges it instead."""
    from studio.data import load_dataset
    from studio.ui.training.evaluation_view import NO_REPORT_GAN

    view = shown_view(qtbot)
    for name, words in (("reverse", "25 position(s), 3 classes"), ("karate", "25 node(s), 3 classes"),
                        ("digits", "25 sample(s), 3 classes")):
        view.clear()
        view.set_data(load_dataset({"name": name}))
        view.feed([epoch(1, ClassReport(COUNTS, NAMES))])
        assert view.title.text().endswith(words), (name, view.title.text())
    view.clear()
    view.set_data(load_dataset({"name": "ring"}))
    view.catch_up()
    assert view.message.text() == NO_REPORT_GAN and "Samples" in NO_REPORT_GAN
