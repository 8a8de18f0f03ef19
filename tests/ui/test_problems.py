"""The Problems dock, the canvas and the status bar show one list: what the
doctor's ``standing`` finds in the document (with the loaded data set), after
every edit. Rows select their node, fix buttons apply one undo step that undoes
and redoes exactly, and a fix that no longer applies is refused, changing nothing."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from shiboken6 import isValid

from studio.doctor.lints import standing
from studio.files import dumps
from studio.graph.fixes import Fix, InsertOnWire
from studio.ui.problems import count_text, place_and_message

from person import click, right_click

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def open_file(window, qtbot, answers, path) -> None:
    """File > Open by its shortcut, then wait for the training panel's data set and the list."""
    qtbot.waitUntil(lambda: hasattr(window, "training_panel"), timeout=5000)
    answers.open_name = str(path)
    QTest.keyClick(window, Qt.Key_O, Qt.ControlModifier)
    chooser = window.training_panel.chooser
    qtbot.waitUntil(lambda: chooser.dataset is not None, timeout=10_000)
    settle(window, qtbot)


def settle(window, qtbot) -> None:
    """Let the debounced list catch up with the document and its parameter count."""
    window.counter.compute_now()
    qtbot.waitUntil(lambda: not window._status_timer.isActive(), timeout=5000)


def expected(window) -> list:
    return standing(window.editor.graph, window.training_panel.chooser.dataset, window.counter.total)


def test_the_dock_lists_what_standing_finds_and_its_fix_undoes_exactly(window, qtbot, answers):
    open_file(window, qtbot, answers, EXAMPLES / "vanishing_gradients.json")
    problems = window.problems
    assert problems.problems == expected(window)
    assert [(p.node, p.code, p.level) for p in problems.problems] == [("sigmoid1", "saturating-depth", "warning")]
    (row,) = problems.rows
    assert row.place == "sigmoid1" and "8 Sigmoid layers in a row" in row.message_label.text()
    assert [b.text() for b in row.fix_buttons] == ["Use ReLU, with a normalisation before each of the 8 layers",
                                                   "Put a normalisation before each of the 8 Sigmoid layers"]
    assert window.status_label.text().endswith("1 warning")
    assert window.scene.nodes["sigmoid1"].severity == "warning"
    assert window.scene.nodes["sigmoid2"].severity == ""
    assert not problems.empty_label.isVisible()

    # Clicking the row selects the node and brings it to the middle of the canvas.
    window.view.centerOn(QPointF(5000, 5000))
    qtbot.waitUntil(row.isVisible, timeout=5000)
    click(row, row.rect().topLeft() + row.rect().center() / 4)
    assert window.scene.selected_node_ids() == ["sigmoid1"]
    centre = window.view.viewport().rect().center()
    item = window.scene.nodes["sigmoid1"]
    at = window.view.mapFromScene(item.sceneBoundingRect().center())
    assert abs(at.x() - centre.x()) <= 2 and abs(at.y() - centre.y()) <= 2

    # The second fix: a BatchNorm1d before each Sigmoid, as one step; the row goes, its widgets later.
    graph = window.editor.graph
    before = dumps(graph)
    stack = window.editor.undo_stack
    steps = stack.count()
    button = row.fix_buttons[1]
    click(button)
    assert stack.count() == steps + 1 and stack.undoText() == button.text()
    norms = [n for n in graph.nodes if graph.node(n).block == "BatchNorm1d"]
    assert len(norms) == 8
    assert all(graph.edge_into(f"sigmoid{i}", "in").src in norms for i in range(1, 9))
    after = dumps(graph)
    settle(window, qtbot)
    assert problems.problems == expected(window) == []
    assert problems.empty_label.isVisible() and problems.empty_label.text() == "No problems."
    assert window.status_label.text().endswith("no problems")
    assert window.scene.nodes["sigmoid1"].severity == ""
    qtbot.waitUntil(lambda: not isValid(button), timeout=5000)  # deleted later, not in its own click

    # Undo and redo replay it exactly: the same file, byte for byte.
    QTest.keyClick(window.view, Qt.Key_Z, Qt.ControlModifier)
    assert dumps(graph) == before
    settle(window, qtbot)
    assert [p.code for p in problems.problems] == ["saturating-depth"]
    QTest.keyClick(window.view, Qt.Key_Y, Qt.ControlModifier)
    assert dumps(graph) == after


def test_a_sound_network_has_no_problems(window, qtbot, answers):
    open_file(window, qtbot, answers, EXAMPLES / "spiral_mlp.json")
    assert window.problems.problems == expected(window) == []
    assert window.problems.rows == [] and window.problems.empty_label.isVisible()
    assert window.status_label.text().endswith("no problems")
    assert all(item.severity == "" for item in window.scene.nodes.values())


def test_the_loaded_data_set_is_checked_when_it_arrives(window, qtbot, answers, tmp_path):
    doc = json.loads((EXAMPLES / "spiral_mlp.json").read_text())
    doc["nodes"][0]["params"]["shape"] = [3]  # spiral points are 2-D
    path = tmp_path / "three_d.json"
    path.write_text(json.dumps(doc))
    open_file(window, qtbot, answers, path)
    graph = window.editor.graph
    assert window.editor.undo_stack.count() == 0  # no edit: the data set's arrival alone brought it
    assert standing(graph, None, window.counter.total) == []
    assert window.problems.problems == expected(window)
    (problem,) = window.problems.problems
    assert (problem.node, problem.kind, problem.level) == ("points", "data", "error")
    assert window.scene.nodes["points"].severity == "error"
    assert window.status_label.text().endswith("1 error")


def test_errors_and_warnings_are_counted_apart_and_drawn_on_their_nodes(window, qtbot):
    ed = window.editor
    ed.add_block("Input", (0, 0), {"shape": [1, 8, 8]})
    ed.add_block("Conv2d", (240, 0))
    ed.add_block("MaxPool2d", (480, 0))
    ed.add_block("Linear", (720, 0))
    for a, b in (("input1", "conv2d1"), ("conv2d1", "maxpool2d1"), ("maxpool2d1", "linear1")):
        ed.connect(a, "out", b, "in")
    ed.add_block("Input", (0, 300))
    ed.add_block("Embedding", (240, 300))
    ed.connect("input2", "out", "embedding1", "in")
    ed.add_block("Linear", (480, 300))
    settle(window, qtbot)
    listed = {(p.node, p.port, p.kind, p.level) for p in window.problems.problems}
    assert listed == {("linear2", "in", "unconnected", "error"), ("embedding1", "in", "dtype", "error"),
                      ("linear1", "in", "lint", "warning")}
    assert window.status_label.text().endswith("2 errors, 1 warning")
    assert "dtype-values-to-ids" in window.status_label.toolTip() or "Embedding" in window.status_label.toolTip()
    scene = window.scene
    assert scene.nodes["embedding1"].severity == "error" and scene.nodes["embedding1"].inputs["in"].level == "error"
    assert scene.nodes["linear1"].severity == "warning" and scene.nodes["linear1"].inputs["in"].level == "warning"
    assert scene.nodes["linear2"].severity == "unconnected"  # an input still to wire: marked, not red
    assert scene.nodes["input1"].severity == "" and scene.nodes["input1"].outputs["out"].problem == ""
    tip = scene.nodes["embedding1"]._tooltip()
    assert "Embedding looks up integer token ids" in tip and "fix: Set the dtype of input2 to long" in tip
    # Places as the dock shows them.
    by_node = {r.problem.node: r.place for r in window.problems.rows}
    assert by_node == {"linear2": "linear2.in", "embedding1": "embedding1.in", "linear1": "linear1.in"}
    # Another edit keeps the rows whose problem stays (a big graph's list is not rebuilt per edit).
    rows = {r.problem.node: r for r in window.problems.rows}
    ed.add_block("Linear", (720, 300))
    settle(window, qtbot)
    assert [r.problem.node for r in window.problems.rows].count("linear3") == 1
    assert all(window.problems.row_of(node) is row for node, row in rows.items())
    # Only the lints' fixes go into the node's menu, above its Help entry.
    menu = right_click(window, window.view.mapFromScene(scene.nodes["linear1"].mapToScene(QPointF(80, 40))))
    texts = [a.text() for a in menu.actions() if not a.isSeparator()]
    assert texts[-2:] == ["Fix: Insert Flatten before linear1", "&Help on Linear"]
    menu.close()


def test_a_fix_that_no_longer_applies_is_refused_and_pushes_nothing(window, qtbot):
    ed = window.editor
    ed.add_block("Input", (0, 0), {"shape": [1, 8, 8]})
    ed.add_block("Linear", (240, 0))
    stale = Fix("Insert Flatten before linear1", (InsertOnWire("Flatten", (), "input1", "out", "linear1", "in"),))
    before = dumps(ed.graph)
    steps = ed.undo_stack.count()
    reason = window.apply_fix(stale)
    assert reason is not None and "no longer there" in reason and "input1.out -> linear1.in" in reason
    assert ed.undo_stack.count() == steps and dumps(ed.graph) == before
    assert window.statusBar().currentMessage() == f"Refused: {reason}"
    # Wired, the same fix applies, and undoes to the graph it found.
    ed.connect("input1", "out", "linear1", "in")
    wired = dumps(ed.graph)
    assert window.apply_fix(stale) is None
    assert ed.undo_stack.count() == steps + 2 and ed.graph.node("flatten1").block == "Flatten"
    ed.undo_stack.undo()
    assert dumps(ed.graph) == wired


def test_counts_and_places_in_words():
    from studio.graph import Problem

    warn = Problem("fc1", "in", "w", "lint", "warning", "spatial-linear")
    err = Problem("fc1", None, "e", "shape")
    lr = Problem(None, None, "training.optimizer.lr: 10 is far too large for sgd", "lint", "warning", "lr-too-large")
    assert count_text([]) == "no problems"
    assert count_text([err]) == "1 error"
    assert count_text([err, warn, lr]) == "1 error, 2 warnings"
    assert count_text([warn]) == "1 warning"
    assert place_and_message(warn) == ("fc1.in", "w")
    assert place_and_message(err) == ("fc1", "e")
    assert place_and_message(lr) == ("training.optimizer.lr", "10 is far too large for sgd")
    assert place_and_message(Problem(None, None, "no rows", "data")) == ("data set", "no rows")


def test_a_data_set_that_does_not_load_is_listed_as_train_would_refuse_it(window, qtbot, answers, tmp_path):
    data = json.loads((EXAMPLES / "xor_mlp.json").read_text())
    data["training"]["dataset"] = {"name": "csv", "path": "nothere.csv", "target": "label"}
    path = tmp_path / "missing.json"
    path.write_text(json.dumps(data))
    qtbot.waitUntil(lambda: hasattr(window, "training_panel"), timeout=5000)
    answers.open_name = str(path)
    QTest.keyClick(window, Qt.Key_O, Qt.ControlModifier)
    chooser = window.training_panel.chooser
    qtbot.waitUntil(lambda: chooser.error is not None, timeout=10_000)
    settle(window, qtbot)
    (problem,) = window.problems.problems
    assert problem.kind == "data" and "nothere.csv" in problem.message and problem.message == chooser.error
    qtbot.waitUntil(lambda: window.status_label.text().endswith("1 error"), timeout=5000)
    assert "1 problem(s) to fix first" in window.training_panel.status_label.text() or \
        "did not load" in window.training_panel.status_label.text()
