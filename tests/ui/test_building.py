"""Building a network the way a person does: palette drags, port-to-port
wires, Tab search, and wires dropped on empty canvas."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from .conftest import drag, mouse_move, palette_drag, port_point, scene_agrees, view_point, wire


def test_drag_from_palette_creates_node_under_cursor(window):
    target = QPoint(300, 250)
    drop = palette_drag(window, "Linear", target)
    assert drop.isAccepted()
    graph = window.editor.graph
    assert list(graph.nodes) == ["linear1"]
    node = graph.node("linear1")
    assert node.params == {"out_features": 10, "bias": True}
    # The node is on the grid and under the cursor.
    assert node.position[0] % 20 == 0 and node.position[1] % 20 == 0
    item = window.scene.nodes["linear1"]
    assert item.sceneBoundingRect().contains(window.view.mapToScene(target))
    assert window.scene.selected_node_ids() == ["linear1"]
    assert window.editor.undo_stack.count() == 1
    scene_agrees(window)


def test_drop_of_foreign_data_is_ignored(window):
    from PySide6.QtCore import QMimeData

    mime = QMimeData()
    mime.setText("Linear")
    enter = QDragEnterEvent(QPoint(100, 100), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(window.view.viewport(), enter)
    assert not enter.isAccepted()
    assert len(window.editor.graph) == 0


def test_drag_from_output_to_input_draws_a_wire_with_its_shape(window):
    ed = window.editor
    ed.add_block("Input", (0, 0), {"shape": [4]})
    ed.add_block("Linear", (300, 0), {"out_features": 3})
    window.view.frame_all()
    wire(window, "input1", "linear1")
    edges = window.editor.graph.edges
    assert [str(e) for e in edges] == ["input1.out -> linear1.in"]
    assert window.scene.edges[edges[0]].label == "[4]"
    assert window.editor.graph.shapes.output("linear1") == (3,)
    # Dragging the other way (input to output) draws the same kind of wire.
    ed.add_block("ReLU", (600, 0))
    window.view.frame_all()
    drag(window, port_point(window, "relu1", "in", False), port_point(window, "linear1", "out", True))
    assert window.scene.edges[window.editor.graph.edge_into("relu1", "in")].label == "[3]"
    scene_agrees(window)


def test_invalid_wires_are_refused_with_the_reason(window):
    ed = window.editor
    ed.add_block("Input", (0, 0), {"shape": [4]})
    ed.add_block("Input", (0, 200), {"shape": [4]})
    ed.add_block("Linear", (300, 0))
    ed.add_block("ReLU", (600, 0))
    window.view.frame_all()
    wire(window, "input1", "linear1")
    wire(window, "linear1", "relu1")
    before = window.editor.graph.snapshot()
    steps = window.editor.undo_stack.count()

    wire(window, "input2", "linear1")  # a second wire into a single input
    assert window.scene.last_refusal == "linear1.in already takes input1.out"
    assert "Refused: linear1.in already takes input1.out" in window.statusBar().currentMessage()

    ed.add_block("ReLU", (300, 300))
    ed.add_block("ReLU", (600, 300))
    window.view.frame_all()
    wire(window, "relu2", "relu3")
    steps += 3
    wire(window, "relu3", "relu2")  # back into its own source
    assert window.scene.last_refusal == "relu3.out -> relu2.in would make a cycle"
    wire(window, "linear1", "input2", dst_port="out")  # output to output
    assert window.scene.last_refusal == "input2.out is an output too: wire an output to an input"

    assert window.editor.undo_stack.count() == steps
    graph = window.editor.graph
    assert len(graph.edges) == len(before["edges"]) + 1


def test_refused_wire_is_red_with_reason_while_drawn(window):
    ed = window.editor
    ed.add_block("Input", (0, 0), {"shape": [4]})
    ed.add_block("Linear", (300, 0))
    ed.add_block("ReLU", (600, 0))
    window.view.frame_all()
    wire(window, "input1", "linear1")
    wire(window, "linear1", "relu1")
    vp = window.view.viewport()
    start = port_point(window, "relu1", "out", True)
    QTest.mousePress(vp, Qt.LeftButton, Qt.NoModifier, start)
    mouse_move(vp, port_point(window, "linear1", "in", False))
    pending = window.scene.interaction.item
    assert pending.refused == "linear1.in already takes input1.out"
    mouse_move(vp, start + QPoint(0, 120))
    assert pending.refused == ""
    QTest.keyClick(window.view, Qt.Key_Escape)
    assert window.scene.interaction is None
    assert pending.scene() is None


def test_tab_opens_quick_search_and_enter_adds_block(window, qtbot):
    view = window.view
    view.setFocus()
    QTest.mouseMove(view.viewport(), QPoint(400, 300))
    QTest.keyClick(view, Qt.Key_Tab)
    search = view.quick_search
    assert search.isVisible()
    QTest.keyClicks(search.edit, "conv2")
    assert search.list.currentItem().text() == "Conv2d"
    QTest.keyClick(search.edit, Qt.Key_Return)
    assert not search.isVisible()
    graph = window.editor.graph
    assert [n.block for n in graph.nodes.values()] == ["Conv2d"]
    assert window.editor.undo_stack.count() == 1


def test_quick_search_arrow_keys_and_escape(window):
    view = window.view
    view.setFocus()
    QTest.mouseDClick(view.viewport(), Qt.LeftButton, Qt.NoModifier, QPoint(300, 300))
    search = view.quick_search
    assert search.isVisible()
    QTest.keyClicks(search.edit, "relu")
    names = [search.list.item(i).text() for i in range(search.list.count())]
    assert names[:3] == ["ReLU", "ReLU6", "LeakyReLU"]  # a name starting with the words first
    QTest.keyClick(search.edit, Qt.Key_Down)
    assert search.list.currentItem().text() == "ReLU6"
    QTest.keyClick(search.edit, Qt.Key_Escape)
    assert not search.isVisible()
    assert len(window.editor.graph) == 0


def test_wire_dropped_on_empty_canvas_adds_the_chosen_block_wired(window):
    ed = window.editor
    ed.add_block("Input", (0, 0), {"shape": [8]})
    window.view.frame_all()
    start = port_point(window, "input1", "out", True)
    drag(window, start, start + QPoint(250, 40))
    search = window.view.quick_search
    assert search.isVisible()
    QTest.keyClicks(search.edit, "Linear")
    QTest.keyClick(search.edit, Qt.Key_Return)
    graph = window.editor.graph
    assert [str(e) for e in graph.edges] == ["input1.out -> linear1.in"]
    assert graph.shapes.output("linear1") == (10,)
    # Adding and wiring is one undo step.
    assert ed.undo_stack.count() == 2
    ed.undo_stack.undo()
    assert list(graph.nodes) == ["input1"] and graph.edges == []
    scene_agrees(window)


def test_palette_search_filters_and_shows_docs(window):
    palette = window.palette
    QTest.keyClicks(palette.search, "conv")
    visible = palette.visible_blocks()
    assert "Conv2d" in visible and "Linear" not in visible
    assert "ConvTranspose2d" in visible
    tip = palette.item("Linear").toolTip(0)
    assert "y = x W^T + b" in tip and "out_features" in tip
    palette.search.clear()
    assert "Linear" in palette.visible_blocks()
    # Enter in the search box adds the first match at the canvas centre.
    QTest.keyClicks(palette.search, "tanh")
    QTest.keyClick(palette.search, Qt.Key_Return)
    assert [n.block for n in window.editor.graph.nodes.values()] == ["Tanh"]
