"""Canvas journeys: what a person sees while building on the canvas of the whole
window at its shipped size, driven by real mouse and key input."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QPainterPathStroker
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from person import drag, mouse_move, palette_drag, port_point, scene_agrees, view_point

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def settle(n: int = 5) -> None:
    for _ in range(n):
        QApplication.processEvents()


def visible_rect(window):
    view = window.view
    return view.mapToScene(view.viewport().rect()).boundingRect()


def press_keys(window, key, modifiers=Qt.NoModifier) -> None:
    """A key press as the keyboard sends it: to whatever widget has the focus."""
    target = QApplication.focusWidget() or window
    QTest.keyClick(target, key, modifiers)
    settle(2)


# ---- the wire being drawn --------------------------------------------------
def test_the_wire_being_dragged_is_a_line_not_a_filled_shape(window):
    palette_drag(window, "Input", QPoint(200, 200))
    start = port_point(window, "input1", "out", True)
    end = start + QPoint(320, 220)
    vp = window.view.viewport()
    before = vp.grab().toImage()
    QTest.mousePress(vp, Qt.LeftButton, Qt.NoModifier, start)
    for i in range(1, 7):
        mouse_move(vp, start + (end - start) * (i / 6))
    settle()
    pending = window.scene.interaction.item
    path = pending.mapToScene(pending._path)
    outline = QPainterPathStroker()
    outline.setWidth(14)
    stroke = outline.createStroke(path)
    # Points inside the curve's closed area but well away from the stroke: a filled
    # path paints them, a wire leaves the canvas there as it was.
    inside = []
    a, b = view_point(window, path.pointAtPercent(0.0)), view_point(window, path.pointAtPercent(1.0))
    for fx in range(2, 19):
        for fy in range(2, 19):
            p = QPoint(a.x() + (b.x() - a.x()) * fx // 20, a.y() + (b.y() - a.y()) * fy // 20)
            s = window.view.mapToScene(p)
            if path.contains(s) and not stroke.contains(s) and window.scene.node_at(s) is None:
                inside.append(p)
    assert len(inside) > 10
    during = vp.grab().toImage()
    changed = [p for p in inside if during.pixelColor(p) != before.pixelColor(p)]
    assert changed == [], f"{len(changed)} of {len(inside)} points inside the wire's curve were painted"
    QTest.mouseRelease(vp, Qt.LeftButton, Qt.NoModifier, end)
    QTest.keyClick(window.view.quick_search.edit, Qt.Key_Escape)


# ---- the node face ---------------------------------------------------------
def test_add_node_labels_do_not_overlap_its_port_names(window):
    palette_drag(window, "Add", QPoint(300, 250))
    item = window.scene.nodes["add1"]
    texts = item.text_rects()
    labels = item.port_label_rects()
    assert [port.name for port, _ in labels] == ["in1", "in2"]
    for port, rect in labels:
        for text, where in texts:
            assert not rect.intersects(where), f"{text!r} overlaps port label {port.name!r}"
        assert item.box().contains(rect)
        assert abs(rect.center().y() - port.pos().y()) < 1
    for _, where in texts:
        assert item.box().contains(where)


@pytest.mark.parametrize("block", ["Concat", "Multiply"])
def test_multi_input_nodes_keep_text_clear_of_port_names(window, block):
    palette_drag(window, block, QPoint(300, 250))
    (node_id,) = window.editor.graph.nodes
    item = window.scene.nodes[node_id]
    assert len(item.port_label_rects()) >= 2
    for port, rect in item.port_label_rects():
        for text, where in item.text_rects():
            assert not rect.intersects(where), f"{text!r} overlaps port label {port.name!r}"


# ---- the quick search after a wire is dropped -------------------------------
def shown_blocks(search) -> list[str]:
    return [search.list.item(i).text() for i in range(search.list.count())]


def test_quick_search_from_an_output_offers_only_blocks_with_an_input(window):
    palette_drag(window, "Input", QPoint(200, 200))
    start = port_point(window, "input1", "out", True)
    drag(window, start, start + QPoint(260, 60))
    search = window.view.quick_search
    assert search.isVisible()
    offered = shown_blocks(search)
    assert "Input" not in offered
    assert "Linear" in offered and "ReLU" in offered
    QTest.keyClicks(search.edit, "input")
    assert "Input" not in shown_blocks(search)
    QTest.keyClick(search.edit, Qt.Key_Escape)
    # Tab on the canvas, no wire: every block, Input too.
    QTest.mouseMove(window.view.viewport(), QPoint(500, 300))
    window.view.setFocus()
    QTest.keyClick(window.view, Qt.Key_Tab)
    assert "Input" in shown_blocks(search)
    QTest.keyClick(search.edit, Qt.Key_Escape)


def test_quick_search_from_an_input_offers_only_blocks_with_an_output(window):
    palette_drag(window, "Linear", QPoint(500, 250))
    start = port_point(window, "linear1", "in", False)
    drag(window, start, start - QPoint(260, 40))
    search = window.view.quick_search
    assert search.isVisible()
    import blocks

    offered = shown_blocks(search)
    params_of = {s.name: s.defaults() for s in blocks.all_blocks()}
    assert all(blocks.get(n).output_ports(blocks.get(n).coerce_params(params_of[n])) for n in offered)
    assert "Input" in offered
    QTest.keyClicks(search.edit, "Input")
    QTest.keyClick(search.edit, Qt.Key_Return)
    assert [str(e) for e in window.editor.graph.edges] == ["input1.out -> linear1.in"]


# ---- keyboard focus after the quick search ----------------------------------
def test_tab_enter_then_ctrl_z_undoes_at_once(window):
    palette_drag(window, "Linear", QPoint(300, 250))
    assert list(window.editor.graph.nodes) == ["linear1"]
    QTest.mouseMove(window.view.viewport(), QPoint(600, 300))
    press_keys(window, Qt.Key_Tab)
    search = window.view.quick_search
    assert search.isVisible()
    QTest.keyClicks(search.edit, "relu")
    press_keys(window, Qt.Key_Return)
    assert sorted(window.editor.graph.nodes) == ["linear1", "relu1"]
    assert QApplication.focusWidget() is window.view
    press_keys(window, Qt.Key_Z, Qt.ControlModifier)
    assert list(window.editor.graph.nodes) == ["linear1"]
    press_keys(window, Qt.Key_Z, Qt.ControlModifier)
    assert list(window.editor.graph.nodes) == []


def test_escape_from_the_quick_search_gives_the_keys_back_to_the_canvas(window):
    palette_drag(window, "Linear", QPoint(300, 250))
    press_keys(window, Qt.Key_Tab)
    assert window.view.quick_search.isVisible()
    press_keys(window, Qt.Key_Escape)
    assert not window.view.quick_search.isVisible()
    press_keys(window, Qt.Key_Z, Qt.ControlModifier)
    assert list(window.editor.graph.nodes) == []


# ---- opening frames the whole graph -------------------------------------------
def all_nodes_shown(window) -> list[str]:
    shown = visible_rect(window)
    return [n for n, item in window.scene.nodes.items() if not shown.contains(item.sceneBoundingRect())]


@pytest.mark.parametrize("name", ["spiral_mlp", "lenet5", "transformer_sequence", "resnet18"])
def test_an_example_opens_with_every_node_in_view(window, name):
    assert window.size().toTuple() == (1400, 860)
    assert window.open_example(EXAMPLES / f"{name}.json")
    settle()
    assert all_nodes_shown(window) == []


def test_an_opened_file_is_framed_whole(window, tmp_path):
    import shutil

    path = tmp_path / "vanishing.json"
    shutil.copy(EXAMPLES / "vanishing_gradients.json", path)
    assert window.open_path(path)
    settle()
    assert all_nodes_shown(window) == []
    # Until the person moves the view, a resized window keeps the graph framed.
    window.resize(1100, 700)
    settle()
    assert all_nodes_shown(window) == []


def test_every_example_opens_whole_in_the_examples_menu(window):
    for action in window.examples_menu.actions():
        action.trigger()
        settle(3)
        assert window.editor.graph.nodes, action.text()
        assert all_nodes_shown(window) == [], action.text()
    scene_agrees(window)
