"""What users of any desktop editor reach for first: right-click menus on a
node, a wire and the canvas; the Help menu; File > Export; the Examples menu.
Driven through the whole window at its shipped size with real clicks and keys."""

from __future__ import annotations

import ast
import json
import time
from pathlib import Path

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMenu

import blocks
from person import (
    choose_in_menu, menu_texts, node_point, palette_drag, right_click, scene_agrees, type_into, view_point, wire,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def settle(n: int = 3) -> None:
    for _ in range(n):
        QApplication.processEvents()


def keys(window, key, modifiers=Qt.NoModifier) -> None:
    """A key press to whatever has the focus, as the keyboard sends it."""
    QTest.keyClick(QApplication.focusWidget() or window, key, modifiers)
    settle()


def undo(window) -> None:
    keys(window, Qt.Key_Z, Qt.ControlModifier)


def build_chain(window) -> None:
    """Input -> Linear -> ReLU, from the palette, wired port to port."""
    palette_drag(window, "Input", QPoint(140, 200))
    palette_drag(window, "Linear", QPoint(420, 200))
    palette_drag(window, "ReLU", QPoint(700, 200))
    wire(window, "input1", "linear1")
    wire(window, "linear1", "relu1")
    assert [str(e) for e in window.editor.graph.edges] == ["input1.out -> linear1.in", "linear1.out -> relu1.in"]
    window.view.setFocus()


def snapshot(window) -> dict:
    return window.editor.graph.snapshot()


def empty_point(window) -> QPoint:
    """A point of the canvas with nothing under it."""
    vp = window.view.viewport()
    for y in range(vp.height() - 40, 40, -40):
        for x in range(40, vp.width() - 40, 40):
            p = QPoint(x, y)
            if not window.view.items(p):
                return p
    raise AssertionError("no empty canvas in view")


def wire_point(window, edge_text: str) -> QPoint:
    """A point on the wire's curve, away from its shape label and its ports."""
    (edge,) = [e for e in window.scene.edges if str(e) == edge_text]
    item = window.scene.edges[edge]
    for t in (0.3, 0.7, 0.25, 0.75):
        p = item.path().pointAtPercent(t)
        if not item.label_rect().contains(p) and window.scene.node_at(p) is None:
            return view_point(window, p)
    raise AssertionError("the wire is all label")


# ---- on a node -------------------------------------------------------------------
def test_node_menu_offers_the_editing_verbs(window):
    build_chain(window)
    menu = right_click(window, node_point(window, "linear1"))
    assert menu_texts(menu) == ["Rename…", "Duplicate", "Delete", "Disconnect", "Help on Linear"]
    # Right-clicking a node selects it, so the menu acts on what the person sees chosen.
    assert window.scene.selected_node_ids() == ["linear1"]
    QTest.keyClick(menu, Qt.Key_Escape)


def test_disconnect_removes_every_wire_of_the_node_in_one_undo_step(window):
    build_chain(window)
    before = snapshot(window)
    choose_in_menu(right_click(window, node_point(window, "linear1")), "Disconnect")
    assert window.editor.graph.edges == []
    assert sorted(window.editor.graph.nodes) == ["input1", "linear1", "relu1"]
    undo(window)
    assert snapshot(window) == before
    scene_agrees(window)
    # A node without wires offers no Disconnect to choose.
    window.editor.disconnect_node("input1")
    menu = right_click(window, node_point(window, "input1"))
    (action,) = [a for a in menu.actions() if a.text().replace("&", "") == "Disconnect"]
    assert not action.isEnabled()
    QTest.keyClick(menu, Qt.Key_Escape)


def test_duplicate_and_delete_from_the_node_menu(window):
    build_chain(window)
    before = snapshot(window)
    choose_in_menu(right_click(window, node_point(window, "linear1")), "Duplicate")
    assert sorted(window.editor.graph.nodes) == ["input1", "linear1", "linear2", "relu1"]
    assert window.editor.graph.node("linear2").params == window.editor.graph.node("linear1").params
    undo(window)
    assert snapshot(window) == before
    choose_in_menu(right_click(window, node_point(window, "linear1")), "Delete")
    assert sorted(window.editor.graph.nodes) == ["input1", "relu1"]
    assert window.editor.graph.edges == []
    undo(window)
    assert snapshot(window) == before
    scene_agrees(window)


def test_the_node_menu_acts_on_the_whole_selection(window):
    build_chain(window)
    before = snapshot(window)
    window.scene.select_nodes(["linear1", "relu1"])
    menu = right_click(window, node_point(window, "linear1"))
    assert sorted(window.scene.selected_node_ids()) == ["linear1", "relu1"]
    choose_in_menu(menu, "Delete")
    assert list(window.editor.graph.nodes) == ["input1"]
    undo(window)
    assert snapshot(window) == before


def test_rename_types_the_new_label_and_enter_returns_to_the_canvas(window):
    build_chain(window)
    choose_in_menu(right_click(window, node_point(window, "linear1")), "Rename…")
    edit = window.inspector.label_edit
    assert QApplication.focusWidget() is edit
    QTest.keyClicks(edit, "hidden")
    QTest.keyClick(edit, Qt.Key_Return)
    settle()
    assert window.editor.graph.node("linear1").label == "hidden"
    assert window.scene.nodes["linear1"]._title == "hidden"
    assert QApplication.focusWidget() is window.view
    undo(window)
    assert window.editor.graph.node("linear1").label == ""


def test_help_on_a_node_opens_its_block_reference(window):
    build_chain(window)
    choose_in_menu(right_click(window, node_point(window, "relu1")), "Help on ReLU")
    ref = window.block_reference
    assert ref is not None and ref.isVisible()
    assert ref.current_block() == "ReLU"
    assert blocks.get("ReLU").doc in ref.page.toPlainText()


# ---- on a wire -----------------------------------------------------------------------
def test_insert_block_on_a_wire_splices_it_in_one_undo_step(window):
    build_chain(window)
    before = snapshot(window)
    menu = right_click(window, wire_point(window, "linear1.out -> relu1.in"))
    assert menu_texts(menu) == ["Insert Block…", "Delete Wire"]
    choose_in_menu(menu, "Insert Block…")
    search = window.view.quick_search
    assert search.isVisible()
    offered = [search.list.item(i).text() for i in range(search.list.count())]
    assert "Input" not in offered and "Dropout" in offered
    QTest.keyClicks(search.edit, "dropout")
    QTest.keyClick(search.edit, Qt.Key_Return)
    settle()
    graph = window.editor.graph
    assert sorted(str(e) for e in graph.edges) == [
        "dropout1.out -> relu1.in", "input1.out -> linear1.in", "linear1.out -> dropout1.in"]
    assert graph.shapes.output("dropout1") == graph.shapes.output("linear1")
    # Spliced into a short wire, the new block is put where it hides no neighbour.
    new = window.scene.nodes["dropout1"].sceneBoundingRect()
    assert not any(new.intersects(window.scene.nodes[n].sceneBoundingRect()) for n in ("linear1", "relu1"))
    assert QApplication.focusWidget() is window.view
    undo(window)
    assert snapshot(window) == before
    scene_agrees(window)


def test_delete_wire_from_its_menu(window):
    build_chain(window)
    before = snapshot(window)
    choose_in_menu(right_click(window, wire_point(window, "input1.out -> linear1.in")), "Delete Wire")
    assert [str(e) for e in window.editor.graph.edges] == ["linear1.out -> relu1.in"]
    undo(window)
    assert snapshot(window) == before


# ---- on empty canvas --------------------------------------------------------------------
def test_canvas_menu_adds_a_block_where_it_was_opened(window):
    build_chain(window)
    at = empty_point(window)
    menu = right_click(window, at)
    assert menu_texts(menu) == ["Add Block…", "Paste", "Auto-Layout", "Frame All"]
    choose_in_menu(menu, "Add Block…")
    search = window.view.quick_search
    assert search.isVisible()
    QTest.keyClicks(search.edit, "tanh")
    QTest.keyClick(search.edit, Qt.Key_Return)
    settle()
    item = window.scene.nodes["tanh1"]
    assert item.sceneBoundingRect().adjusted(-20, -20, 20, 20).contains(window.view.mapToScene(at))
    undo(window)
    assert "tanh1" not in window.editor.graph.nodes


def test_canvas_menu_pastes_at_the_click(window):
    build_chain(window)
    QTest.mouseClick(window.view.viewport(), Qt.LeftButton, Qt.NoModifier, node_point(window, "linear1"))
    keys(window, Qt.Key_C, Qt.ControlModifier)
    at = empty_point(window)
    choose_in_menu(right_click(window, at), "Paste")
    assert sorted(window.editor.graph.nodes) == ["input1", "linear1", "linear2", "relu1"]
    corner = QPointF(*window.editor.graph.node("linear2").position)
    assert (corner - window.view.mapToScene(at)).manhattanLength() <= 40
    undo(window)
    assert "linear2" not in window.editor.graph.nodes


def test_canvas_menu_lays_out_and_frames(window):
    build_chain(window)
    drag_far = window.editor.move({"relu1": (3000.0, 1800.0)})
    assert drag_far
    choose_in_menu(right_click(window, empty_point(window)), "Frame All")
    shown = window.view.mapToScene(window.view.viewport().rect()).boundingRect()
    assert all(shown.contains(i.sceneBoundingRect()) for i in window.scene.nodes.values())
    before = snapshot(window)
    choose_in_menu(right_click(window, empty_point(window)), "Auto-Layout")
    ys = {window.editor.graph.node(n).position[1] for n in window.editor.graph.nodes}
    assert len(ys) == 1  # a chain is laid out on one row
    undo(window)
    assert snapshot(window) == before


# ---- the Help menu ---------------------------------------------------------------------------
def test_keyboard_shortcuts_lists_every_shortcut_of_the_window(window):
    assert [a.text() for a in window.help_menu.actions() if not a.isSeparator()] == [
        "&Lessons", "&Keyboard Shortcuts", "&Block Reference", "&About Studio"]
    keys(window, Qt.Key_Slash, Qt.ControlModifier)
    dialog = window.shortcuts_dialog
    assert dialog is not None and dialog.isVisible()
    rows = dict(dialog.rows())
    from studio.ui.help import action_title

    with_keys = [a for a in window.actions() if a.shortcuts()]
    assert len(with_keys) >= 15
    for action in with_keys:
        first = action.shortcuts()[0].toString(QKeySequence.NativeText)
        assert first in rows[action_title(action)], action.text()
    assert rows["Undo"] == "Ctrl+Z"
    assert rows["Redo"] == "Ctrl+Shift+Z, Ctrl+Y"
    assert rows["Block Reference"] == "F1"
    assert rows["Lessons"] == "Ctrl+Shift+L"
    type_into(dialog.filter, "frame", then="enter")
    assert [name for name, _ in dialog.rows(visible_only=True)] == ["Frame Selected", "Frame All"]


def test_block_reference_is_searchable_and_shows_params(window):
    keys(window, Qt.Key_F1)
    ref = window.block_reference
    assert ref is not None and ref.isVisible()
    assert ref.names() == [s.name for s in blocks.all_blocks()]
    QTest.keyClicks(ref.search, "conv2")
    assert ref.current_block() == "Conv2d"
    text = ref.page.toPlainText()
    spec = blocks.get("Conv2d")
    assert spec.doc in text
    for p in spec.params:
        assert p.name in text and p.doc in text
    QTest.keyClicks(ref.search, "zzz")
    assert ref.names() == []


def test_about_names_the_versions(window, answers):
    window.act_about.trigger()
    import torch  # noqa: F401 - only to read its version
    from PySide6 import __version__ as pyside
    from PySide6.QtCore import qVersion

    (text,) = [m for kind, m in answers.asked if kind == "about"]
    assert "Studio 0.1.0" in text
    assert torch.__version__ in text
    assert f"Qt {qVersion()}" in text and pyside in text


# ---- File > Export ------------------------------------------------------------------------------
def file_menu_entries(window) -> list[str]:
    return [a.text() if not a.isSeparator() else "---" for a in window.file_menu.actions()]


def test_file_menu_has_export_followed_by_a_separator(window):
    entries = file_menu_entries(window)
    i = entries.index("E&xport")
    # After Export come the entries about this graph's results (others add them), then the separator.
    j = window.file_menu.actions().index(window.export_separator)
    assert j > i and entries[j] == "---" and "---" not in entries[i + 1:j]
    assert entries[j + 1:] == ["&Quit"]
    assert [a.text() for a in window.export_menu.actions()] == [
        "&PyTorch Source (.py)…", "&torchrun Training Script (.py)…", "P&rogram (.pt2)…", "&ONNX (.onnx)…",
        "ONNX with &int8 Copy…"]


def exported(window, kind: str) -> None:
    """File > Export > ``kind``, then wait while it writes on its own thread."""
    window.act_export[kind].trigger()
    deadline = time.monotonic() + 60
    while window.exporting and time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.01)
    assert not window.exporting


def open_xor(window) -> None:
    assert window.open_example(EXAMPLES / "xor_mlp.json")
    settle()


def test_export_pytorch_source(window, answers, tmp_path):
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    open_xor(window)
    answers.export_name = str(tmp_path / "xor.py")
    exported(window, "python")
    assert answers.errors() == []
    (asked,) = [m for kind, m in answers.asked if kind == "export_name"]
    assert asked.startswith("python: ") and asked.endswith(".py")
    text = (tmp_path / "xor.py").read_text()
    ast.parse(text)
    assert "class " in text and "nn.Module" in text and "def forward" in text
    assert list(tmp_path.iterdir()) == [tmp_path / "xor.py"]  # no temporary file left


def test_export_torchrun_script(window, answers, tmp_path):
    open_xor(window)
    answers.export_name = str(tmp_path / "train_xor.py")
    exported(window, "torchrun")
    assert answers.errors() == []
    text = (tmp_path / "train_xor.py").read_text()
    ast.parse(text)
    assert "torchrun" in text and "DistributedDataParallel" in text


def test_export_program(window, answers, tmp_path):
    open_xor(window)
    answers.export_name = str(tmp_path / "xor.pt2")
    exported(window, "program")
    assert answers.errors() == []
    import torch

    program = torch.export.load(str(tmp_path / "xor.pt2"))
    out = program.module()(torch.zeros(3, 2))
    assert tuple(out.shape) == (3, 2)


def test_export_of_an_invalid_graph_says_what_to_fix_and_writes_nothing(window, answers, tmp_path):
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    palette_drag(window, "Linear", QPoint(400, 300))  # its input is not wired
    answers.export_name = str(tmp_path / "broken.py")
    exported(window, "python")
    (message,) = answers.errors()
    assert "linear1" in message and "invalid" in message
    assert list(tmp_path.iterdir()) == []


def test_cancelled_export_writes_nothing(window, answers, tmp_path):
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    open_xor(window)
    answers.export_name = ""
    exported(window, "program")
    assert answers.errors() == [] and list(tmp_path.iterdir()) == []


# ---- the Examples menu --------------------------------------------------------------------------
def test_examples_menu_shows_titles_and_descriptions(window):
    actions = window.examples_menu.actions()
    files = sorted(EXAMPLES.glob("*.json"))
    assert len(actions) == len(files)
    for action, path in zip(actions, files):
        doc = json.loads(path.read_text())
        assert action.text() == doc["name"]
        assert "_" not in action.text()
        assert action.toolTip() == doc["description"].strip()
        assert action.statusTip() == doc["description"].strip()
    assert window.examples_menu.toolTipsVisible()
    # Choosing one opens it as an untitled copy.
    (xor,) = [a for a in actions if a.text() == "XOR MLP"]
    xor.trigger()
    settle()
    assert window.path is None and sorted(window.editor.graph.nodes) == sorted(
        n["id"] for n in json.loads((EXAMPLES / "xor_mlp.json").read_text())["nodes"])


def test_a_menu_is_a_real_popup(window):
    menu = right_click(window, empty_point(window))
    assert isinstance(QApplication.activePopupWidget(), QMenu) and menu.isVisible()
    QTest.keyClick(menu, Qt.Key_Escape)
    settle()
    assert QApplication.activePopupWidget() is None
