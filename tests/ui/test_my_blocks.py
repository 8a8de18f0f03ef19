"""My blocks, as a person uses them: a group's definition in the palette, dragged in
again; the Inspector of a group node and, inside a definition, a parameter exposed as
the group's own and a second one bound to it; blocks exported to a file, a new document,
the file imported (one undo step) and a block dragged from it."""

from __future__ import annotations

import json

from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from studio.graph.groups import group_nodes
from studio.ui import block_library
from studio.ui.inspector import group_params
from studio.ui.document.commands import JournalCommand

from person import choose_in_menu, click, node_point, palette_drag, type_into
from graph_helpers import residual

PER_USE = 2 * (8 * 8 * 9 + 8)  # two 3x3 Conv2d of 8 channels




def settle(n: int = 4) -> None:
    for _ in range(n):
        QApplication.processEvents()


def grouped_window(window) -> str:
    """The residual block open, its four inner layers grouped as BasicBlock (one undo step)."""
    window.set_document(residual(), None)
    graph = window.editor.graph
    command = JournalCommand(graph, "Group", lambda: group_nodes(graph, ["conv1", "relu1", "conv2", "add"],
                                                                  "BasicBlock")[0])
    window.editor.undo_stack.push(command)
    window.view.frame_opened()
    settle()
    return next(n for n in graph.nodes if graph.node(n).is_group)


def group_by_keys(window) -> str:
    """The residual block open; its four inner layers clicked (Ctrl+click) and grouped with Ctrl+G,
    the block renamed BasicBlock (each one undo step)."""
    window.set_document(residual(), None)
    vp = window.view.viewport()
    ids = ["conv1", "relu1", "conv2", "add"]
    QTest.mouseClick(vp, Qt.LeftButton, Qt.NoModifier, node_point(window, ids[0]))
    for n in ids[1:]:
        QTest.mouseClick(vp, Qt.LeftButton, Qt.ControlModifier, node_point(window, n))
    QTest.keyClick(window.view, Qt.Key_G, Qt.ControlModifier)
    settle()
    assert my_blocks(window) == ["Group1  ×1"]
    assert window.editor.rename_definition("Group1", "BasicBlock") is None
    settle()
    return window.scene.selected_node_ids()[0]


def my_blocks(window) -> list[str]:
    cat = window.palette.my_blocks
    return [] if cat.isHidden() else [cat.child(i).text(0) for i in range(cat.childCount())]


def free_point(window) -> QPoint:
    vp = window.view.viewport()
    return QPoint(vp.width() // 2, vp.height() - 80)


def test_my_blocks_follows_the_library_and_a_drag_adds_a_use(window):
    assert my_blocks(window) == []  # an empty document has no blocks of its own
    gid = group_by_keys(window)
    palette = window.palette
    assert palette.tree.topLevelItem(0) is palette.my_blocks  # at the top of the palette
    assert my_blocks(window) == ["BasicBlock  ×1"]
    tip = palette.definition_tooltip("BasicBlock")
    assert "4 blocks inside; used 1 time" in tip and f"{PER_USE:,} parameters in {gid}, its first use" in tip

    assert palette_drag(window, "BasicBlock", free_point(window)).isAccepted()
    graph = window.editor.graph
    new = [n for n in graph.nodes if graph.node(n).block == "BasicBlock" and n != gid]
    assert new == ["basic_block1"]
    settle()
    assert my_blocks(window) == ["BasicBlock  ×2"]
    graph.connect("x", "out", "basic_block1", "x")
    assert graph.shapes.output("basic_block1") == (8, 16, 16) and graph.param_count("basic_block1") == PER_USE

    palette.search.setText("basic")
    assert palette.visible_blocks()[0] == "BasicBlock"
    palette.search.setText("")
    # inside BasicBlock (a double-click on it), BasicBlock cannot be dragged in: it would contain itself
    QTest.mouseDClick(window.view.viewport(), Qt.LeftButton, Qt.NoModifier, node_point(window, gid))
    settle()
    assert window.editor.graph is graph.library.get("BasicBlock").graph
    assert not palette.item("BasicBlock").flags() & Qt.ItemIsEnabled
    assert "BasicBlock cannot go inside BasicBlock" in palette.definition_tooltip("BasicBlock")
    window.editor.leave()
    settle()
    assert palette.item("BasicBlock").flags() & Qt.ItemIsDragEnabled
    # undo: the use goes (the wire with it), then the grouping: My blocks is empty again
    stack = window.editor.undo_stack
    graph.disconnect(graph.in_edges("basic_block1")[0])
    stack.undo()
    settle()
    assert my_blocks(window) == ["BasicBlock  ×1"]
    stack.undo()
    settle()
    assert my_blocks(window) == ["Group1  ×1"]
    stack.undo()
    settle()
    assert my_blocks(window) == [] and "conv1" in graph


def pick_from_button(button, text: str) -> None:
    """Click a tool button whose menu pops up, and choose ``text`` in it with the keyboard."""
    QTimer.singleShot(50, lambda: choose_in_menu(QApplication.activePopupWidget(), text))
    QTest.mouseClick(button, Qt.LeftButton)
    settle()


def test_a_group_node_in_the_inspector_and_a_parameter_exposed_from_inside(window, monkeypatch):
    gid = grouped_window(window)
    graph = window.editor.graph
    second = graph.add_node("BasicBlock", {}, (1000, 200)).id
    graph.connect("x", "out", second, "x")
    settle()
    click(window.view.viewport(), node_point(window, gid))
    inspector = window.inspector
    assert inspector.node_id == gid
    assert inspector.group_label.text() == ("BasicBlock: used 2 times; editing inside changes all 2. "
                                            "4 blocks inside.")

    # inside the definition (a double-click on the group): expose conv1.out_channels as channels
    definition = graph.library.get("BasicBlock")
    QTest.mouseDClick(window.view.viewport(), Qt.LeftButton, Qt.NoModifier, node_point(window, gid))
    settle()
    assert window.editor.graph is definition.graph
    port = definition.inputs[0]  # the group's input port: its shape comes from outside, nothing to expose
    click(window.view.viewport(), node_point(window, port))
    assert inspector.node_id == port and not inspector.group_buttons
    click(window.view.viewport(), node_point(window, "conv1"))
    assert inspector.node_id == "conv1"
    asked = []
    monkeypatch.setattr(group_params, "ask_parameter_name",
                        lambda parent, default, d: asked.append(default) or "channels")
    pick_from_button(inspector.group_buttons["out_channels"], "Expose as group parameter…")
    assert asked == ["out_channels"]  # the name offered is the parameter's own
    assert [(e.name, e.targets, e.default) for e in definition.exposed] == [
        ("channels", (("conv1", "out_channels"),), 8)]
    assert graph.node(gid).params == graph.node(second).params == {"channels": 8}
    settle()
    assert inspector.bound_notes["out_channels"].text() == "set by channels"
    assert not inspector.editors["out_channels"].isEnabled()
    # conv2's width binds to the same parameter: one value sets both
    click(window.view.viewport(), node_point(window, "conv2"))
    pick_from_button(inspector.group_buttons["out_channels"], "Bind to group parameter channels")
    assert definition.exposed[0].targets == (("conv1", "out_channels"), ("conv2", "out_channels"))
    # a second parameter of the same name is refused where the person is looking, and changes nothing
    settle()
    steps = window.editor.undo_stack.count()
    pick_from_button(inspector.group_buttons["kernel_size"], "Expose as group parameter…")
    assert "already has a parameter 'channels'" in inspector.errors["kernel_size"].text()
    assert window.editor.undo_stack.count() == steps and len(definition.exposed) == 1
    # freed and bound again: two more steps
    pick_from_button(inspector.group_buttons["out_channels"], "Stop setting from channels")
    assert definition.exposed[0].targets == (("conv1", "out_channels"),)
    settle()
    assert inspector.editors["out_channels"].isEnabled()
    pick_from_button(inspector.group_buttons["out_channels"], "Bind to group parameter channels")
    assert len(definition.exposed[0].targets) == 2

    # outside, the group node has a channels field like any block's parameter
    window.editor.leave()
    settle()
    assert inspector.node_id == gid  # the group left is selected, and inspected
    assert list(inspector.editors) == ["channels"]
    type_into(inspector.editors["channels"].edit, "16", then="enter")
    assert graph.node(gid).params == {"channels": 16}
    # 16 channels from both convolutions meet the 8 of the skip wire: this use is at fault, naming where inside
    assert "inside BasicBlock, add" in inspector.shapes_label.text()
    assert graph.param_count(second) == PER_USE  # the other use keeps its own value
    # one undo each: the value, the binding again, the freeing, the binding, the exposing
    stack = window.editor.undo_stack
    stack.undo()
    assert graph.shapes.error(gid) is None and graph.param_count(gid) == PER_USE
    stack.undo()
    stack.undo()
    assert len(definition.exposed[0].targets) == 2
    stack.undo()
    assert definition.exposed[0].targets == (("conv1", "out_channels"),)
    stack.undo()
    assert not definition.exposed
    settle()
    assert list(inspector.editors) == [] and graph.param_count(gid) == PER_USE


def from_file_menu(window, qtbot, text: str) -> None:
    """Open the File menu and choose ``text`` with the keyboard."""
    menu = window.file_menu
    menu.popup(window.mapToGlobal(QPoint(0, 0)))
    qtbot.waitUntil(menu.isVisible)
    choose_in_menu(menu, text)
    settle()


def test_export_blocks_then_import_them_into_a_new_document_and_use_one(window, answers, monkeypatch, tmp_path,
                                                                       qtbot):
    gid = grouped_window(window)
    click(window.view.viewport(), node_point(window, gid))
    path = tmp_path / "resnet.blocks.json"
    monkeypatch.setattr(block_library, "library_save_name", lambda parent, suggested="": str(path))
    from_file_menu(window, qtbot, "Export Blocks…")
    assert [d["name"] for d in json.loads(path.read_text())["definitions"]] == ["BasicBlock"]

    answers.save_changes = "discard"
    window.new_document()
    assert my_blocks(window) == []
    stack = window.editor.undo_stack
    monkeypatch.setattr(block_library, "library_open_name", lambda parent, d="": str(path))
    from_file_menu(window, qtbot, "Import Blocks…")
    assert my_blocks(window) == ["BasicBlock  ×0"] and stack.count() == 1
    assert "Imported 1 block from resnet.blocks.json" in window.statusBar().currentMessage()
    assert palette_drag(window, "Input", QPoint(120, 120)).isAccepted()
    assert palette_drag(window, "BasicBlock", free_point(window)).isAccepted()
    graph = window.editor.graph
    graph.set_params("input1", {"shape": [8, 16, 16]})
    graph.connect("input1", "out", "basic_block1", "x")
    assert graph.shapes.output("basic_block1") == (8, 16, 16) and graph.total_params() == PER_USE
    # the same file again adds nothing and makes no undo step
    window.act_import_blocks.trigger()
    assert stack.count() == 3 and "already in this graph" in window.statusBar().currentMessage()
    while stack.canUndo():
        stack.undo()
    settle()
    assert my_blocks(window) == [] and not graph.library.definitions and len(graph) == 0
    stack.redo()
    settle()
    assert my_blocks(window) == ["BasicBlock  ×0"]


def right_click_entry(window, name: str):
    """Right-click a palette entry; returns the menu that pops up."""
    from PySide6.QtGui import QContextMenuEvent

    tree = window.palette.tree
    pos = tree.visualItemRect(window.palette.item(name)).center()
    QApplication.sendEvent(tree.viewport(), QContextMenuEvent(QContextMenuEvent.Mouse, pos,
                                                              tree.viewport().mapToGlobal(pos)))
    settle()
    return QApplication.activePopupWidget()


def test_an_unused_block_can_be_removed_from_its_palette_menu_and_a_used_one_cannot(window):
    gid = grouped_window(window)
    menu = right_click_entry(window, "BasicBlock")
    texts = [a.text() for a in menu.actions()]
    assert texts == ["Export BasicBlock…", "Remove BasicBlock (used 1 time)"] and not menu.actions()[1].isEnabled()
    menu.close()
    stack = window.editor.undo_stack
    window.editor.delete([gid])
    settle()
    menu = right_click_entry(window, "BasicBlock")
    choose_in_menu(menu, "Remove BasicBlock")
    settle()
    assert my_blocks(window) == [] and not window.editor.graph.library.definitions
    stack.undo()
    settle()
    assert my_blocks(window) == ["BasicBlock  ×0"]


def test_a_hostile_library_file_is_refused_naming_its_place_and_changes_nothing(window, answers, monkeypatch, tmp_path,
                                                                               qtbot):
    path = tmp_path / "loop.blocks.json"
    entry = {"inputs": ["x"], "outputs": {"out": "x.out"}, "edges": []}
    path.write_text(json.dumps({"format": "studio-blocks", "version": 1, "definitions": [
        {"name": "A", **entry, "nodes": [{"id": "x", "block": "Input"}, {"id": "b", "block": "B"}]},
        {"name": "B", **entry, "nodes": [{"id": "x", "block": "Input"}, {"id": "a", "block": "A"}]},
    ]}))
    monkeypatch.setattr(block_library, "library_open_name", lambda parent, d="": str(path))
    from_file_menu(window, qtbot, "Import Blocks…")
    assert answers.errors() == [f"{path}: definitions[0].nodes: A contains itself: A > B > A"]
    assert not window.editor.graph.library.definitions and window.editor.undo_stack.count() == 0
    assert my_blocks(window) == []
