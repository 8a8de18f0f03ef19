"""The network doctor at wiring time, as a learner meets it: a network built by
mouse from the palette shows its mistake the moment the wrong wire lands (the
node turns amber or red, the Problems dock lists it with its fix), one click on
the fix mends it as one undo step, and Ctrl+Z brings the mistake back."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from person import choose, choose_in_menu, click, menu_texts, node_point, palette_drag, right_click, type_into, wire


def drop_row(window, blocks: list[str], y: int = 160) -> None:
    """Drag each block from the palette onto the canvas, left to right, with room between."""
    width = window.view.viewport().width()
    for i, block in enumerate(blocks):
        x = int(width * (0.04 + 0.92 * i / max(1, len(blocks))))
        assert palette_drag(window, block, QPoint(x, y)).isAccepted()


def listed(window) -> list[tuple[str | None, str, str]]:
    """The Problems dock's rows as (node, code, level)."""
    return [(r.problem.node, r.problem.code, r.problem.level) for r in window.problems.rows]


def fix_button(window, qtbot, node: str, code: str, title: str):
    row = window.problems.row_of(node, code)
    assert row is not None, f"no row for {node} {code}: {listed(window)}"
    (button,) = [b for b in row.fix_buttons if b.text() == title]
    qtbot.waitUntil(button.isVisible, timeout=5000)  # a new row shows on the next turn of the event loop
    window.problems.scroll.ensureWidgetVisible(button)  # the person scrolls the dock to it
    assert button.isVisible() and button.width() > 40 and button.height() >= button.fontMetrics().height()
    return button


def press_keys(window, key, modifiers) -> None:
    QTest.keyClick(window.view, key, modifiers)


def test_a_missing_flatten_is_caught_when_the_wire_lands_and_fixed_in_one_undoable_click(window, qtbot):
    assert window.problems_dock.isVisible() and not window.problems_dock.visibleRegion().isEmpty()
    drop_row(window, ["Input", "Conv2d", "MaxPool2d", "Linear"])
    graph = window.editor.graph
    assert list(graph.nodes) == ["input1", "conv2d1", "maxpool2d1", "linear1"]
    # The Input's shape typed into the inspector: one 8x8 channel.
    click(window.view.viewport(), node_point(window, "input1"))
    assert window.inspector.node_id == "input1"
    type_into(window.inspector.editors["shape"].edit, "1, 8, 8", then="enter")
    assert tuple(graph.node("input1").params["shape"]) == (1, 8, 8)
    wire(window, "input1", "conv2d1")
    wire(window, "conv2d1", "maxpool2d1")
    linear = window.scene.nodes["linear1"]
    qtbot.waitUntil(lambda: linear.severity == "unconnected", timeout=5000)  # not yet wired: no warning
    wire(window, "maxpool2d1", "linear1")
    assert len(graph.edges) == 3
    # Right after the last wire: amber Linear, its input port amber, the dock lists the warning with its fix.
    qtbot.waitUntil(lambda: window.problems.row_of("linear1", "spatial-linear") is not None, timeout=5000)
    assert linear.severity == "warning" and linear.shown.code == "spatial-linear"
    assert linear.inputs["in"].level == "warning"
    assert "feature map" in " ".join(linear._error_lines)
    assert "warning" in window.status_label.text()
    button = fix_button(window, qtbot, "linear1", "spatial-linear", "Insert Flatten before linear1")

    steps = window.editor.undo_stack.count()
    click(button)
    assert window.editor.undo_stack.count() == steps + 1
    assert window.editor.undo_stack.undoText() == "Insert Flatten before linear1"
    (flatten,) = [n for n in graph.nodes if graph.node(n).block == "Flatten"]
    assert graph.edge_into("linear1", "in").src == flatten
    pooled = graph.shapes.output("maxpool2d1")
    assert len(pooled) == 3 and graph.shapes.inputs("linear1")["in"] == (pooled[0] * pooled[1] * pooled[2],)
    qtbot.waitUntil(lambda: window.problems.row_of("linear1", "spatial-linear") is None, timeout=5000)
    assert linear.severity == ""
    assert flatten in window.scene.nodes

    # Ctrl+Z brings the warning back; Ctrl+Shift+Z and Ctrl+Y apply the fix again.
    press_keys(window, Qt.Key_Z, Qt.ControlModifier)
    assert flatten not in graph.nodes and graph.edge_into("linear1", "in").src == "maxpool2d1"
    qtbot.waitUntil(lambda: window.problems.row_of("linear1", "spatial-linear") is not None, timeout=5000)
    assert linear.severity == "warning"
    press_keys(window, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)
    assert graph.edge_into("linear1", "in").src == flatten
    qtbot.waitUntil(lambda: window.problems.row_of("linear1", "spatial-linear") is None, timeout=5000)
    press_keys(window, Qt.Key_Z, Qt.ControlModifier)
    qtbot.waitUntil(lambda: window.problems.row_of("linear1", "spatial-linear") is not None, timeout=5000)
    press_keys(window, Qt.Key_Y, Qt.ControlModifier)
    assert graph.edge_into("linear1", "in").src == flatten
    qtbot.waitUntil(lambda: window.problems.row_of("linear1", "spatial-linear") is None, timeout=5000)
    assert len(graph.shapes.inputs("linear1")["in"]) == 1


def test_float_values_into_an_embedding_turn_it_red_and_its_menu_sets_the_dtype(window, qtbot):
    drop_row(window, ["Input", "Embedding"])
    graph = window.editor.graph
    assert graph.node("input1").params["dtype"] == "float"
    wire(window, "input1", "embedding1")
    embedding = window.scene.nodes["embedding1"]
    qtbot.waitUntil(lambda: embedding.severity == "error", timeout=5000)
    assert embedding.inputs["in"].problem == "dtype" and embedding.inputs["in"].level == "error"
    row = window.problems.row_of("embedding1")
    assert row is not None and row.problem.level == "error" and row.problem.kind == "dtype"
    assert "1 error" in window.status_label.text()

    menu = right_click(window, node_point(window, "embedding1"))
    texts = menu_texts(menu)
    fix_entry = "Fix: Set the dtype of input1 to long (token ids)"
    assert fix_entry in texts and texts.index(fix_entry) < texts.index("Help on Embedding")
    choose_in_menu(menu, fix_entry)
    assert graph.node("input1").params["dtype"] == "long"
    assert window.editor.undo_stack.undoText() == "Set the dtype of input1 to long (token ids)"
    qtbot.waitUntil(lambda: embedding.severity == "", timeout=5000)
    assert window.problems.row_of("embedding1") is None
    # The Inspector shows the Input's new dtype when the person looks at it.
    click(window.view.viewport(), node_point(window, "input1"))
    assert window.inspector.editors["dtype"].combo.currentText() == "long"
    choose(window.inspector.editors["dtype"].combo, "float")  # back by hand: the error is back
    qtbot.waitUntil(lambda: embedding.severity == "error", timeout=5000)
