"""Editing like a person expects: undo/redo restore the exact document, a
multi-node drag or a paste is one step, delete brings wires back on undo,
selection, zoom, pan, frame, auto-layout and snapping."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from .conftest import drag, node_point, scene_agrees, view_point, wire


def build_mlp(window):
    ed = window.editor
    ed.add_block("Input", (0, 0), {"shape": [2]})
    ed.add_block("Linear", (240, 0), {"out_features": 16})
    ed.add_block("ReLU", (480, 0))
    ed.add_block("Linear", (720, 0), {"out_features": 3})
    window.view.frame_all()
    wire(window, "input1", "linear1")
    wire(window, "linear1", "relu1")
    wire(window, "relu1", "linear2")
    assert len(ed.graph.edges) == 3


def test_undo_and_redo_restore_the_exact_document(window):
    stack = window.editor.undo_stack
    states = [window.editor.graph.snapshot()]
    build_mlp(window)
    states.append(window.editor.graph.snapshot())
    drag(window, node_point(window, "relu1"), node_point(window, "relu1") + QPoint(0, 80))
    window.inspector.show_node("linear1")
    window.inspector.editors["out_features"].edit.setText("32")
    window.inspector.commit("out_features")
    window.scene.select_nodes(["relu1"])
    QTest.keyClick(window.view, Qt.Key_Delete)
    final = window.editor.graph.snapshot()
    assert "relu1" not in final["nodes"]
    n = stack.count()
    for _ in range(n):
        QTest.keyClick(window.view, Qt.Key_Z, Qt.ControlModifier)
        scene_agrees(window)
    assert window.editor.graph.snapshot() == states[0]
    for _ in range(n):
        QTest.keyClick(window.view, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)
        scene_agrees(window)
    assert window.editor.graph.snapshot() == final


def test_delete_then_undo_restores_node_and_its_wires(window):
    build_mlp(window)
    before = window.editor.graph.snapshot()
    window.scene.select_nodes(["relu1"])
    window.act_delete.trigger()
    graph = window.editor.graph
    assert "relu1" not in graph and len(graph.edges) == 1
    assert graph.shapes.error("linear2").kind == "unconnected"
    window.act_undo.trigger()
    assert graph.snapshot() == before
    assert graph.shapes.output("linear2") == (3,)
    scene_agrees(window)


def test_dragging_many_nodes_is_one_move_step_and_snaps(window):
    build_mlp(window)
    stack = window.editor.undo_stack
    steps = stack.count()
    window.scene.select_nodes(["linear1", "relu1"])
    start = node_point(window, "linear1")
    # Cursor moves of an odd number of scene units: snapping puts nodes back on the grid.
    zoom = window.view.zoom()
    end = start + QPoint(int(37 * zoom), int(93 * zoom))
    vp = window.view.viewport()
    QTest.mousePress(vp, Qt.LeftButton, Qt.NoModifier, start)
    from .conftest import mouse_move

    for i in range(1, 7):
        mouse_move(vp, start + (end - start) * (i / 6))
        assert stack.count() == steps  # nothing is pushed while dragging
    QTest.mouseRelease(vp, Qt.LeftButton, Qt.NoModifier, end)
    assert stack.count() == steps + 1
    graph = window.editor.graph
    for node_id in ("linear1", "relu1"):
        x, y = graph.node(node_id).position
        assert x % 20 == 0 and y % 20 == 0
    assert graph.node("linear1").position[1] > 0
    assert graph.node("input1").position == (0.0, 0.0)
    window.act_undo.trigger()
    assert graph.node("linear1").position == (240.0, 0.0) and graph.node("relu1").position == (480.0, 0.0)
    scene_agrees(window)


def test_copy_paste_duplicate_cut_are_single_steps(window):
    build_mlp(window)
    graph = window.editor.graph
    stack = window.editor.undo_stack
    window.scene.select_nodes(["linear1", "relu1"])
    QTest.keyClick(window.view, Qt.Key_C, Qt.ControlModifier)
    steps = stack.count()
    QTest.keyClick(window.view, Qt.Key_V, Qt.ControlModifier)
    assert stack.count() == steps + 1
    assert set(window.scene.selected_node_ids()) == {"linear3", "relu2"}
    assert graph.node("linear3").params["out_features"] == 16
    assert graph.node("linear3").position == (280.0, 40.0)
    assert "linear3.out -> relu2.in" in [str(e) for e in graph.edges]  # the wire between copies comes too
    QTest.keyClick(window.view, Qt.Key_D, Qt.ControlModifier)
    assert stack.count() == steps + 2
    assert {"linear4", "relu3"} <= set(graph.nodes)
    window.scene.select_nodes(["linear4", "relu3"])
    QTest.keyClick(window.view, Qt.Key_X, Qt.ControlModifier)
    assert "linear4" not in graph and stack.count() == steps + 3
    QTest.keyClick(window.view, Qt.Key_V, Qt.ControlModifier)
    assert len(graph) == 8
    for _ in range(4):
        window.act_undo.trigger()
    assert set(graph.nodes) == {"input1", "linear1", "relu1", "linear2"}
    scene_agrees(window)


def test_paste_of_foreign_text_says_why(window):
    from PySide6.QtWidgets import QApplication

    QApplication.clipboard().setText("hello")
    assert window.paste() == []
    assert "Nothing to paste" in window.statusBar().currentMessage()
    QApplication.clipboard().setText('{"format": "studio-fragment", "nodes": [{"id": "a", "block": "Nope"}]}')
    assert window.paste() == []
    assert "clipboard: $.nodes[0]: unknown block 'Nope'" in window.statusBar().currentMessage()


def test_select_all_and_rubber_band(window):
    build_mlp(window)
    QTest.keyClick(window.view, Qt.Key_A, Qt.ControlModifier)
    assert len(window.scene.selected_node_ids()) == 4
    window.scene.clearSelection()
    # Drag a band from empty canvas around the first two nodes.
    a = view_point(window, (-30, -40))
    b = view_point(window, (window.scene.nodes["linear1"].sceneBoundingRect().right() - 20, 110))
    drag(window, a, b)
    assert set(window.scene.selected_node_ids()) == {"input1", "linear1"}
    assert window.editor.undo_stack.count() == 7  # selecting is not an edit


def test_zoom_keeps_the_point_under_the_cursor(window):
    build_mlp(window)
    from PySide6.QtCore import QPoint as P
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    view = window.view
    at = QPointF(200, 150)
    before = view.mapToScene(at.toPoint())
    zoom = view.zoom()
    event = QWheelEvent(at, view.viewport().mapToGlobal(at), P(0, 0), P(0, 120), Qt.NoButton, Qt.NoModifier,
                        Qt.NoScrollPhase, False)
    QApplication.sendEvent(view.viewport(), event)
    assert abs(view.zoom() / zoom - 1.15) < 1e-6
    after = view.mapToScene(at.toPoint())
    assert abs(after.x() - before.x()) < 2 / view.zoom() + 1 and abs(after.y() - before.y()) < 2 / view.zoom() + 1


def test_middle_drag_pans_without_moving_nodes(window):
    build_mlp(window)
    view = window.view
    centre = view.mapToScene(view.viewport().rect().center())
    drag(window, QPoint(300, 300), QPoint(200, 250), button=Qt.MiddleButton)
    moved = view.mapToScene(view.viewport().rect().center())
    z = view.zoom()
    assert abs((moved.x() - centre.x()) * z - 100) <= 2 and abs((moved.y() - centre.y()) * z - 50) <= 2
    assert window.editor.undo_stack.count() == 7


def test_frame_all_and_frame_selected(window):
    build_mlp(window)
    view = window.view
    view.zoom_by(0.2)
    view.pan_by(5000, 5000)
    window.act_frame_all.trigger()
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    for item in window.scene.nodes.values():
        assert visible.contains(item.sceneBoundingRect())
    window.scene.select_nodes(["relu1"])
    QTest.keyClick(view, Qt.Key_F)
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    assert visible.contains(window.scene.nodes["relu1"].sceneBoundingRect())
    assert not visible.contains(window.scene.nodes["input1"].sceneBoundingRect())


def test_auto_layout_is_left_to_right_and_one_step(window):
    ed = window.editor
    ed.add_block("Linear", (0, 500))
    ed.add_block("Input", (900, 0), {"shape": [4]})
    ed.add_block("ReLU", (-300, 200))
    ed.connect("input1", "out", "linear1", "in")
    ed.connect("linear1", "out", "relu1", "in")
    steps = ed.undo_stack.count()
    QTest.keyClick(window.view, Qt.Key_L, Qt.ControlModifier)
    assert ed.undo_stack.count() == steps + 1
    pos = {n: ed.graph.node(n).position for n in ed.graph.nodes}
    assert pos["input1"][0] < pos["linear1"][0] < pos["relu1"][0]
    assert pos["input1"][1] == pos["linear1"][1] == pos["relu1"][1]
    scene_agrees(window)


def test_snap_can_be_turned_off(window, config_dir):
    window.act_snap.trigger()
    assert not window.scene.snapping
    window.editor.add_block("ReLU", (0, 0))
    window.view.frame_all()
    start = node_point(window, "relu1")
    z = window.view.zoom()
    drag(window, start, start + QPoint(int(round(33 * z)), 0))
    x = window.editor.graph.node("relu1").position[0]
    assert x % 20 != 0 and abs(x - 33) <= 2


def two_inputs_into_a_concat(window):
    ed = window.editor
    ed.add_block("Input", (0, 0), {"shape": [2]})
    ed.add_block("Input", (0, 160), {"shape": [3]})
    ed.add_block("Concat", (240, 80))
    window.view.frame_all()
    wire(window, "input1", "concat1", dst_port="in1")
    wire(window, "input2", "concat1", dst_port="in2")


def test_delete_then_undo_keeps_the_order_of_the_networks_inputs(window):
    from studio.compile import compile_graph

    two_inputs_into_a_concat(window)
    graph = window.editor.graph
    before = graph.snapshot()
    assert "def forward(self, input1, input2):" in compile_graph(graph).code
    window.scene.select_nodes(["input1"])
    QTest.keyClick(window.view, Qt.Key_Delete)
    assert "input1" not in graph.nodes
    QTest.keyClick(window.view, Qt.Key_Z, Qt.ControlModifier)
    scene_agrees(window)
    assert list(graph.nodes) == ["input1", "input2", "concat1"]
    assert "def forward(self, input1, input2):" in compile_graph(graph).code  # not (input2, input1)
    assert graph.snapshot() == before


def test_a_wire_removed_and_put_back_keeps_its_place(window):
    two_inputs_into_a_concat(window)
    graph = window.editor.graph
    before = graph.snapshot()
    window.scene.select_nodes(["input2"])
    QTest.keyClick(window.view, Qt.Key_Delete)
    window.scene.select_nodes(["input1"])
    QTest.keyClick(window.view, Qt.Key_Delete)
    for _ in range(2):
        QTest.keyClick(window.view, Qt.Key_Z, Qt.ControlModifier)
    assert graph.snapshot() == before
    assert list(graph.edges) == before["edges"]
