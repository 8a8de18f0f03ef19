"""Editing groups like a person expects: Ctrl+G and Ctrl+Shift+G are one undo step each and
ungrouping gives back exactly what was grouped; Enter or the right-click menu opens a group,
Esc and the breadcrumb go back up; shapes inside follow the wires outside; an undo that
takes away the group shown goes back up; Make Unique detaches one use; edits inside act on
the inside."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from person import choose_in_menu, click, menu_texts, press, right_click
from studio.graph import Graph

from .conftest import node_point, scene_agrees


def settle() -> None:
    for _ in range(3):
        QApplication.processEvents()


def mlp(window) -> Graph:
    """input1 -> linear1 -> relu1 -> linear2 -> relu2 -> linear3, opened as a document."""
    g = Graph("mlp")
    g.add_node("Input", {"shape": [8]}, (0, 0), "input1")
    prev = "input1"
    for i, block in enumerate(["Linear", "ReLU", "Linear", "ReLU", "Linear"], 1):
        params = {"out_features": 16} if block == "Linear" else {}
        nid = g.add_node(block, params, (220.0 * i, 0)).id
        g.connect(prev, "out", nid, "in")
        prev = nid
    window.set_document(g, None)
    settle()
    return g


def keys(window, key, modifiers=Qt.NoModifier) -> None:
    press(QApplication.focusWidget() or window.view, key, modifiers)
    settle()


def group_middle(window, g) -> str:
    window.scene.select_nodes(["linear1", "relu1", "linear2"])
    window.view.setFocus()
    keys(window, Qt.Key_G, Qt.ControlModifier)
    (group_id,) = [n for n in g.nodes if g.node(n).is_group]
    return group_id


def test_ctrl_g_then_ctrl_shift_g_gives_back_exactly_the_blocks_one_step_each(window):
    g = mlp(window)
    before = g.snapshot()
    stack = window.editor.undo_stack
    group_id = group_middle(window, g)
    assert stack.index() == 1 and window.scene.selected_node_ids() == [group_id]
    assert list(g.nodes) == ["input1", group_id, "relu2", "linear3"]
    assert g.shapes.output("linear3", "out") == (16,)
    assert window.scene.nodes[group_id].is_group
    scene_agrees(window)
    grouped = g.snapshot()
    keys(window, Qt.Key_G, Qt.ControlModifier | Qt.ShiftModifier)
    assert stack.index() == 2
    assert {n: v for n, v in g.snapshot()["nodes"].items()} == before["nodes"]
    assert set(g.edges) == set(before["edges"]) and not g.library.definitions
    assert sorted(window.scene.selected_node_ids()) == ["linear1", "linear2", "relu1"]
    scene_agrees(window)
    keys(window, Qt.Key_Z, Qt.ControlModifier)
    assert g.snapshot() == grouped
    scene_agrees(window)
    keys(window, Qt.Key_Z, Qt.ControlModifier)
    assert g.snapshot() == before
    scene_agrees(window)


def test_enter_opens_esc_and_the_breadcrumb_go_back_up(window, qtbot):
    g = mlp(window)
    group_id = group_middle(window, g)
    # a group inside the group: Enter, select two inner blocks, Ctrl+G
    keys(window, Qt.Key_Return)
    inside = window.editor.graph
    assert inside is g.library.get(g.node(group_id).block).graph
    assert window.breadcrumb.texts() == ["mlp", f"{group_id} (Group1)"]
    assert window.breadcrumb.notice.text() == "Editing Group1: changes apply to its one use"
    window.scene.select_nodes(["relu1", "linear2"])
    keys(window, Qt.Key_G, Qt.ControlModifier)
    (inner_group,) = [n for n in inside.nodes if inside.node(n).is_group]
    # right-click > Open Group goes one level deeper
    choose_in_menu(right_click(window, node_point(window, inner_group)), "Open Group")
    assert window.breadcrumb.texts() == ["mlp", f"{group_id} (Group1)", f"{inner_group} (Group2)"]
    assert set(window.scene.nodes) == {"x", "relu1", "linear2"}
    # shapes inside come from the wires outside: 8 features into the top Linear(16)
    assert window.editor.graph.shapes.output("x", "out") == (16,)
    keys(window, Qt.Key_Escape)
    assert window.editor.graph is inside and window.scene.selected_node_ids() == [inner_group]
    choose_in_menu(right_click(window, node_point(window, inner_group)), "Open Group")
    assert len(window.editor.path) == 2
    click(window.breadcrumb.crumbs[0])
    settle()
    assert window.editor.path == [] and window.editor.graph is g
    assert not window.breadcrumb.isVisible()
    scene_agrees(window)
    # the whole nest undoes back to the flat chain
    before_count = window.editor.undo_stack.index()
    for _ in range(before_count):
        keys(window, Qt.Key_Z, Qt.ControlModifier)
    assert [g.node(n).block for n in g.nodes] == ["Input", "Linear", "ReLU", "Linear", "ReLU", "Linear"]
    assert not g.library.definitions


def test_shapes_inside_follow_outside_and_an_undo_that_removes_the_group_goes_back_up(window):
    g = mlp(window)
    window.editor.set_params("input1", {"shape": [4]})
    group_id = group_middle(window, g)
    window.editor.enter(group_id)
    settle()
    inside = window.editor.graph
    assert inside.shapes.output("x", "out") == (4,)
    # Ctrl+Z while inside: the grouping goes, and with it the level shown
    keys(window, Qt.Key_Z, Qt.ControlModifier)
    assert window.editor.path == [] and window.editor.graph is g
    scene_agrees(window)
    keys(window, Qt.Key_Z, Qt.ControlModifier)  # the Input's shape back to 8
    keys(window, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)  # and to 4 again
    keys(window, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)  # grouped again, the same id
    assert g.node(group_id).is_group
    window.editor.enter(group_id)
    settle()
    assert window.editor.graph.shapes.output("x", "out") == (4,)
    # an edit outside while the inside is shown (the undo of the shape): the inside follows, live
    window.editor.document.set_params("input1", {"shape": [6]})
    assert window.editor.graph.shapes.output("x", "out") == (6,)
    assert window.scene.edges  # the canvas shows the inside's wires with their new labels
    scene_agrees(window)


def test_edits_inside_act_on_the_inside_and_reach_every_use(window):
    g = mlp(window)
    group_id = group_middle(window, g)
    window.scene.select_nodes([group_id])
    window.view.setFocus()
    keys(window, Qt.Key_D, Qt.ControlModifier)  # a second use
    uses = [n for n in g.nodes if g.node(n).is_group]
    assert len(uses) == 2 and g.node(uses[1]).block == g.node(group_id).block
    assert all(window.scene.nodes[n].uses == 2 for n in uses)
    window.editor.enter(group_id)
    settle()
    assert window.breadcrumb.notice.text() == "Editing Group1: changes apply to all 2 uses"
    inside = window.editor.graph
    added = window.editor.add_block("Dropout", (900, 0))
    assert added in inside and added not in g
    # an error inside marks every use outside, pointing into it
    assert f"inside Group1, {added}" in g.shapes.error(group_id).message
    window.scene.select_nodes([added])
    keys(window, Qt.Key_Delete)
    assert added not in inside and g.shapes.error(group_id) is None
    window.editor.set_params("linear2", {"out_features": 32})
    assert g.shapes.output(group_id, "out") == (32,) and g.shapes.error("relu2") is None
    window.editor.leave()
    settle()
    # right-click > Make Unique: one step; the second use keeps the old block
    copy = uses[1]  # the duplicate lies on top of the first use
    menu = right_click(window, node_point(window, copy))
    assert menu_texts(menu)[:4] == ["Open Group", "Ungroup", "Make Unique", "Rename Block…"]
    choose_in_menu(menu, "Make Unique")
    assert g.node(copy).block == "Group2" and g.node(group_id).block == "Group1"
    assert window.scene.nodes[copy].uses == 1 and window.scene.nodes[group_id].uses == 1
    keys(window, Qt.Key_Z, Qt.ControlModifier)
    assert g.node(copy).block == "Group1" and set(g.library.definitions) == {"Group1"}
    scene_agrees(window)
    QTest.qWait(0)


def test_the_runs_gradient_badges_stay_on_the_documents_nodes(window):
    """A run's badges name the document's nodes: inside a group (whose ids may repeat them)
    none are drawn, and after leaving they come back with the next probe."""
    g = mlp(window)
    canvas = window.training_panel.canvas_gradients
    canvas.show_flags({"linear3": "vanishing"})
    assert set(canvas.badges) == {"linear3"}
    group_id = group_middle(window, g)
    window.editor.enter(group_id)
    settle()
    canvas.show_flags({"linear1": "exploding"})  # linear1 is also an id inside the group
    canvas.show_norms({"linear1": 1e-9})
    assert canvas.badges == {}
    assert all(item.gradient_color is None for item in window.scene.edges.values())
    window.editor.leave()
    settle()
    canvas.show_flags({"linear3": "vanishing"})
    assert canvas.badges["linear3"].parentItem() is window.scene.nodes["linear3"]


def test_a_group_pasted_into_another_document_brings_its_block(window):
    g = mlp(window)
    group_id = group_middle(window, g)
    inside = g.library.get("Group1").snapshot()
    keys(window, Qt.Key_C, Qt.ControlModifier)
    keys(window, Qt.Key_V, Qt.ControlModifier)  # here: another use of the same block
    assert len(g.library.instances("Group1")) == 2 and list(g.library.definitions) == ["Group1"]
    other = Graph("other")
    window.set_document(other, None)
    settle()
    window.view.setFocus()
    keys(window, Qt.Key_V, Qt.ControlModifier)
    (pasted,) = list(other.nodes)
    assert other.node(pasted).block == "Group1" and other.library.get("Group1").snapshot() == inside
    assert window.scene.nodes[pasted].is_group and window.editor.undo_stack.index() == 1
    keys(window, Qt.Key_Z, Qt.ControlModifier)  # one step takes the node and its block
    assert len(other) == 0 and not other.library.definitions
    keys(window, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)
    assert other.node(pasted).block == "Group1"
    assert group_id  # the first document's group is untouched by all this


def test_a_problem_inside_a_group_opens_it_at_the_node_at_fault(window):
    g = mlp(window)
    group_id = group_middle(window, g)
    window.editor.enter(group_id)
    settle()
    # a Reshape inside that cannot take the 16 features: the fault marks the group outside
    bad = window.editor.add_block("Reshape", (900, 0), {"shape": [5]})
    window.editor.connect("linear2", "out", bad, "in")
    window.editor.leave()
    settle()
    problem = g.shapes.error(group_id)
    assert problem is not None and problem.message.startswith(f"inside Group1, {bad}:"), problem
    window.show_node(group_id)  # what a click on its row in the Problems dock does
    assert window.editor.path and window.editor.graph is g.library.get("Group1").graph
    assert window.scene.selected_node_ids() == [bad]
    assert window.scene.nodes[bad].problem is not None  # drawn red inside too


def test_going_back_up_keeps_the_level_s_items_and_catches_up_on_what_changed_meanwhile(window):
    """The level a group is opened from is set aside, not rebuilt: its items come back, and an
    edit made inside reaches them (the group's output shape on its node and its wire's label)."""
    g = mlp(window)
    group_id = group_middle(window, g)
    outer_items = dict(window.scene.nodes)
    wire = next(e for e in window.scene.edges if e.src == group_id)
    window.scene.select_nodes([group_id])
    window.view.setFocus()
    keys(window, Qt.Key_Return)
    assert window.editor.path and group_id not in window.scene.nodes
    window.editor.set_params("linear2", {"out_features": 5})  # the inner layer whose output leaves the group
    settle()
    keys(window, Qt.Key_Escape)
    assert not window.editor.path
    assert all(window.scene.nodes[n] is item for n, item in outer_items.items())
    assert g.shapes.output(group_id, "out") == (5,)
    assert "5" in window.scene.edges[wire].label
    scene_agrees(window)


def test_a_port_is_renamed_from_the_group_s_menu_on_every_use_wires_and_all(window):
    from PySide6.QtWidgets import QMenu

    g = mlp(window)
    group_id = group_middle(window, g)
    (port,) = [p.name for p in g.node(group_id).input_ports()]
    menu = right_click(window, node_point(window, group_id))
    choose_in_menu(menu, "Rename Port")
    settle()
    sub = menu.findChild(QMenu, "renamePortMenu")
    choose_in_menu(sub, f"{port}…")
    settle()
    dialog = window.rename_dialog
    QTest.keyClicks(dialog.edit, "1bad")
    QTest.keyClick(dialog.edit, Qt.Key_Return)
    settle()
    assert dialog.isVisible() and "letters, digits" in dialog.error.text()
    dialog.edit.selectAll()
    QTest.keyClicks(dialog.edit, "features")
    QTest.keyClick(dialog.edit, Qt.Key_Return)
    settle()
    assert not dialog.isVisible()
    assert [p.name for p in g.node(group_id).input_ports()] == ["features"]
    assert g.edge_into(group_id, "features").src == "input1"
    scene_agrees(window)
    window.editor.undo_stack.undo()
    settle()
    assert [p.name for p in g.node(group_id).input_ports()] == [port]
    scene_agrees(window)
