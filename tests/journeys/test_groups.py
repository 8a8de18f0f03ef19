"""Groups, as a person builds and uses them: a residual block wired by hand, its
layers selected and grouped with Ctrl+G, the block renamed BasicBlock, used four
times in a chain, opened with a double-click, one inner Conv2d edited in the
Inspector (all four uses change), left with Esc, every step undone back to the
empty start, redone, saved with Ctrl+S and opened again."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from studio.files import dumps

from person import (
    choose_in_menu, click, drag, node_point, palette_drag, press, right_click, type_into, view_point, wire,
)


def settle(n: int = 4) -> None:
    for _ in range(n):
        QApplication.processEvents()


def keys(window, key, modifiers=Qt.NoModifier) -> None:
    press(QApplication.focusWidget() or window.view, key, modifiers)
    settle(2)


def select_by_clicks(window, node_ids) -> None:
    """Click the first, Ctrl+click the rest."""
    vp = window.view.viewport()
    QTest.mouseClick(vp, Qt.LeftButton, Qt.NoModifier, node_point(window, node_ids[0]))
    for n in node_ids[1:]:
        QTest.mouseClick(vp, Qt.LeftButton, Qt.ControlModifier, node_point(window, n))
    settle()


def set_param(window, node_id: str, name: str, text: str) -> None:
    click(window.view.viewport(), node_point(window, node_id))
    assert window.inspector.node_id == node_id
    type_into(window.inspector.editors[name].edit, text, then="enter")


def build_residual_block(window) -> None:
    """Input(16, 8, 8) -> Conv2d -> ReLU -> Conv2d -> Add, with the skip wire from the Input into Add."""
    width = window.view.viewport().width()
    for block, share, y in (("Input", 0.08, 120), ("Conv2d", 0.3, 120), ("ReLU", 0.52, 120),
                            ("Conv2d", 0.74, 120), ("Add", 0.74, 330)):
        assert palette_drag(window, block, QPoint(int(width * share), y)).isAccepted()
    graph = window.editor.graph
    assert list(graph.nodes) == ["input1", "conv2d1", "relu1", "conv2d2", "add1"]
    set_param(window, "input1", "shape", "16, 8, 8")
    set_param(window, "conv2d1", "padding", "1")
    set_param(window, "conv2d2", "padding", "1")
    wire(window, "input1", "conv2d1")
    wire(window, "conv2d1", "relu1")
    wire(window, "relu1", "conv2d2")
    wire(window, "conv2d2", "add1", dst_port="in1")
    wire(window, "input1", "add1", dst_port="in2")  # the skip
    assert len(graph.edges) == 5
    assert graph.shapes.output("add1", "out") == (16, 8, 8)


def test_a_residual_block_grouped_used_four_times_edited_once(window, qtbot, answers, tmp_path):
    graph = window.editor.document
    start = graph.snapshot()
    build_residual_block(window)
    flat_params = graph.total_params()
    assert flat_params == 2 * (16 * 16 * 9 + 16)

    # Ctrl+click the four layers, Ctrl+G: one group node, selected, with the block's ports and count.
    select_by_clicks(window, ["conv2d1", "relu1", "conv2d2", "add1"])
    keys(window, Qt.Key_G, Qt.ControlModifier)
    assert list(graph.nodes) == ["input1", "group1"]
    assert window.scene.selected_node_ids() == ["group1"]
    node = graph.node("group1")
    assert node.is_group and [p.name for p in node.input_ports()] == ["x"]
    assert graph.shapes.output("group1", "out") == (16, 8, 8)
    assert graph.param_count("group1") == flat_params
    item = window.scene.nodes["group1"]
    assert item.is_group and item.inputs.keys() == {"x"} and item.outputs.keys() == {"out"}
    qtbot.waitUntil(lambda: item.param_count == flat_params, timeout=3000)

    # Right-click > Rename Block…: a bad name is refused with the document's reason, then BasicBlock.
    menu = right_click(window, node_point(window, "group1"))
    choose_in_menu(menu, "Rename Block…")
    dialog = window.rename_dialog
    qtbot.waitUntil(dialog.isVisible, timeout=2000)
    # under a window manager the dialog takes the keyboard once it is the active window
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow, timeout=3000)
    type_into(dialog.edit, "Conv2d", then="enter")
    assert dialog.isVisible() and "built-in block" in dialog.error.text()
    type_into(dialog.edit, "BasicBlock", then="enter")
    assert not dialog.isVisible()
    assert graph.node("group1").block == "BasicBlock"
    assert list(graph.library.definitions) == ["BasicBlock"]

    # Three more uses: copy, paste three times, wire them into a chain.
    window.scene.select_nodes(["group1"])
    window.view.setFocus()
    keys(window, Qt.Key_C, Qt.ControlModifier)
    for _ in range(3):
        keys(window, Qt.Key_V, Qt.ControlModifier)
    uses = ["group1", "basic_block1", "basic_block2", "basic_block3"]
    assert list(graph.nodes) == ["input1", *uses], window.statusBar().currentMessage()
    assert all(graph.node(n).block == "BasicBlock" for n in uses)
    # spread them out in a row so each port can be reached by the mouse
    for i, n in enumerate(uses[1:], 1):
        start_at = node_point(window, n)
        target = view_point(window, (graph.node("group1").position[0] + 250 * i, graph.node("group1").position[1]))
        drag(window, start_at, target + (start_at - view_point(window, graph.node(n).position)))
    window.view.frame_all()
    settle()
    for a, b in zip(uses, uses[1:]):
        wire(window, a, b, "out", "x")
    assert len(graph.library.instances("BasicBlock")) == 4
    assert graph.shapes.output("basic_block3", "out") == (16, 8, 8)
    assert all(window.scene.nodes[n].uses == 4 for n in uses)

    # Double-click the second use: its inside is on the canvas, the breadcrumb says where and how far an edit reaches.
    zoom_outside = window.view.transform()
    QTest.mouseDClick(window.view.viewport(), Qt.LeftButton, Qt.NoModifier, node_point(window, "basic_block1"))
    qtbot.waitUntil(lambda: window.editor.path != [], timeout=2000)
    inside = window.editor.graph
    assert inside is graph.library.get("BasicBlock").graph
    assert set(window.scene.nodes) == {"x", "conv2d1", "relu1", "conv2d2", "add1"}
    assert window.breadcrumb.isVisible()
    assert window.breadcrumb.texts() == ["graph", "basic_block1 (BasicBlock)"]
    assert window.breadcrumb.notice.text() == "Editing BasicBlock: changes apply to all 4 uses"
    assert inside.shapes.output("add1", "out") == (16, 8, 8)

    # Type 32 into the inner Conv2d's out_channels, Enter: every use changes.
    set_param(window, "conv2d1", "out_channels", "32")
    assert inside.shapes.output("conv2d1", "out") == (32, 8, 8)
    per_use = (16 * 32 * 9 + 32) + (32 * 16 * 9 + 16)
    assert [graph.param_count(n) for n in uses] == [per_use] * 4
    assert graph.shapes.output("basic_block3", "out") == (16, 8, 8)
    qtbot.waitUntil(lambda: window.scene.nodes["conv2d1"].param_count == 16 * 32 * 9 + 32, timeout=3000)

    # A click on the empty canvas, Esc: back at the top, at the zoom it had, the uses showing their new count.
    click(window.view.viewport(), QPoint(8, 8))
    keys(window, Qt.Key_Escape)
    assert window.editor.path == [] and window.editor.graph is graph
    assert not window.breadcrumb.isVisible()
    assert window.view.transform() == zoom_outside
    assert window.scene.selected_node_ids() == ["basic_block1"]
    qtbot.waitUntil(lambda: all(window.scene.nodes[n].param_count == per_use for n in uses), timeout=3000)
    built = graph.snapshot()

    # Undo everything, back to the empty start (definitions included), then redo it all.
    stack = window.editor.undo_stack
    steps = stack.index()
    for _ in range(steps):
        keys(window, Qt.Key_Z, Qt.ControlModifier)
    assert graph.snapshot() == start
    assert len(window.scene.nodes) == 0
    for _ in range(steps):
        keys(window, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)
    assert graph.snapshot() == built
    assert [graph.param_count(n) for n in uses] == [per_use] * 4

    # Ctrl+S to a file, open it again: the same document.
    path = tmp_path / "resnet_block.json"
    answers.save_name = str(path)
    keys(window, Qt.Key_S, Qt.ControlModifier)
    assert path.exists() and not window.isWindowModified()
    saved = dumps(graph)
    assert window.open_path(path)
    again = window.editor.document
    assert dumps(again) == saved
    assert again.snapshot()["definitions"].keys() == {"BasicBlock"}
    assert [again.param_count(n) for n in uses] == [per_use] * 4
