"""Groups as a person reviews them in the window: ResNet-18 opened at the first window size
reads as named blocks (a stem, eight basic blocks, a head), not as a row of blank boxes."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QApplication

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def settle(n: int = 4) -> None:
    for _ in range(n):
        QApplication.processEvents()


def text_pixels(window) -> int:
    """Pixels of the canvas in the node text colour (#eef1f4 in the dark theme)."""
    image = window.view.viewport().grab().toImage()
    found = 0
    for y in range(0, image.height(), 2):
        for x in range(0, image.width(), 2):
            c = image.pixelColor(x, y)
            found += c.red() > 225 and c.green() > 225 and c.blue() > 225
    return found


def test_resnet18_framed_at_the_first_window_size_shows_its_blocks_names(window):
    assert window.open_path(EXAMPLES / "resnet18.json", ask=False)
    settle()
    assert window.view.transform().m11() < 0.4  # framed far out: the boxes are too small for their body text
    assert text_pixels(window) > 150  # ... but each box still shows its name


def test_a_groups_input_sits_a_whole_column_left_of_what_it_feeds(window):
    """Grouping the spiral's hidden layers: inside, the input x is a 280 px column left of hidden1, so
    the shape on its wire has room (it sat 220 px left, its [2] squeezed between the boxes)."""
    from person import press  # noqa: PLC0415
    from PySide6.QtCore import Qt

    assert window.open_path(EXAMPLES / "spiral_mlp.json", ask=False)
    settle()
    window.scene.select_nodes(["hidden1", "relu1", "hidden2"])
    press(window.view, Qt.Key_G, Qt.ControlModifier)
    settle()
    node = window.editor.document.node("group1")
    inside = node.spec.definition.graph
    assert inside.node("hidden1").position[0] - inside.node("x").position[0] == 280
    assert inside.node("x").position[1] == inside.node("hidden1").position[1]


def test_resnet18_blocks_shortcuts_do_not_run_through_their_main_line():
    """Opened, a BasicBlock shows its shortcut as a wire of its own: no wire runs level through
    a block standing between its ends (the identity shortcut from x to add used to)."""
    from studio.files import load  # noqa: PLC0415

    resnet = load(EXAMPLES / "resnet18.json")
    for definition in resnet.library.definitions.values():
        g = definition.graph
        for e in g.edges:
            (x0, y0), (x1, y1) = g.node(e.src).position, g.node(e.dst).position
            between = [n.id for n in g.nodes.values() if n.position[1] == y0 and x0 < n.position[0] < x1]
            assert y0 != y1 or not between, f"{definition.name}: {e.src} -> {e.dst} runs through {between}"


def test_keyboard_only_select_all_group_open_leave_undo(window):
    """Without the mouse: Ctrl+A, Ctrl+G groups every block after the Input (the Input stays
    outside rather than the whole selection being refused), Enter opens it, Esc leaves, Ctrl+Z undoes."""
    from person import press  # noqa: PLC0415
    from PySide6.QtCore import Qt

    assert window.open_path(EXAMPLES / "spiral_mlp.json", ask=False)
    settle()
    graph = window.editor.document
    start = graph.snapshot()
    window.view.setFocus()
    press(window.view, Qt.Key_A, Qt.ControlModifier)
    press(window.view, Qt.Key_G, Qt.ControlModifier)
    settle()
    assert list(graph.nodes) == ["points", "group1"]
    assert "Input stays outside" in window.statusBar().currentMessage()
    assert graph.shapes.output("group1", "out") == (3,)
    press(window.view, Qt.Key_Return)
    settle()
    assert window.editor.path  # inside the group
    press(window.view, Qt.Key_Escape)
    settle()
    assert not window.editor.path
    press(window.view, Qt.Key_Z, Qt.ControlModifier)
    settle()
    assert graph.snapshot() == start


def test_inside_a_group_the_output_tag_and_the_parameter_count_both_fit(window):
    """Opened, the block that is the group's output reads "group output" beside "4.2k params",
    neither shortened ("group out…" before)."""
    from person import press  # noqa: PLC0415
    from PySide6.QtCore import Qt
    from studio.ui.canvas.node_item import INSET, _metrics  # noqa: PLC0415

    assert window.open_path(EXAMPLES / "spiral_mlp.json", ask=False)
    settle()
    window.scene.select_nodes(["hidden1", "relu1", "hidden2"])
    press(window.view, Qt.Key_G, Qt.ControlModifier)
    press(window.view, Qt.Key_Return)
    settle()
    item = window.scene.nodes["hidden2"]
    assert item.port_role == "group output"
    small = _metrics()[2]
    need = small.horizontalAdvance("group output") + small.horizontalAdvance("4.2k params") + 8
    assert need <= item.box().width() - 2 * INSET
