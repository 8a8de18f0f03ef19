"""Levels of detail on the canvas: zoomed out, ports and text vanish and wires run straight; far out,
one overview draws every node as a plain box; zoomed back in, all of it returns. An edit in a large
graph touches only the items it changes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QApplication, QGraphicsItem, QStyleOptionGraphicsItem

from studio.graph import Graph
from studio.ui import theme
from studio.ui.canvas.detail import FAR, FULL, OVERVIEW, detail_for
from studio.ui.canvas.edge_item import EdgeItem
from studio.ui.canvas.node_item import NodeItem
from studio.ui.canvas.scene import GraphScene
from studio.ui.canvas.view import GraphView
from studio.ui.document import GraphEditor

NO_CONTENTS = QGraphicsItem.ItemHasNoContents


def chain(n: int, label: str = "") -> Graph:
    """Input -> Linear -> ReLU -> Linear -> ... in rows of 12, ``n`` nodes."""
    g = Graph("chain")
    g.add_node("Input", {"shape": [8]}, (0, 0), "x")
    prev = "x"
    for i in range(1, n):
        block, params = ("Linear", {"out_features": 8}) if i % 2 else ("ReLU", {})
        nid = f"n{i}"
        g.add_node(block, params, ((i % 12) * 280.0, (i // 12) * 160.0), nid, label)
        g.connect(prev, "out", nid, "in")
        prev = nid
    return g


def paint(item, scale: float, size=(420, 260), at=(40, 60)) -> QImage:
    """``item`` painted alone at ``scale``, its origin at ``at`` pixels."""
    image = QImage(*size, QImage.Format_ARGB32_Premultiplied)
    image.fill(QColor("#000000"))
    p = QPainter(image)
    p.translate(*at)
    p.scale(scale, scale)
    item.paint(p, QStyleOptionGraphicsItem(), None)
    p.end()
    return image


def lit(image: QImage) -> int:
    """Pixels not black (what was painted)."""
    return int(pixels(image)[:, :, :3].any(axis=2).sum())


def test_the_level_of_detail_follows_the_scale():
    assert [detail_for(s) for s in (3.0, 1.0, 0.4, 0.39, 0.2, 0.12, 0.11, 0.02)] == [
        FULL, FULL, FULL, FAR, FAR, FAR, OVERVIEW, OVERVIEW]


def test_zoomed_far_out_a_node_draws_no_text_and_its_ports_vanish(qapp):
    short, long = chain(2, "a"), chain(2, "a longer name")
    a, b = NodeItem(short, "n1"), NodeItem(long, "n1")
    assert a.width == b.width
    # at 100% the names differ on screen; at 10% both are the same plain box
    assert paint(a, 1.0) != paint(b, 1.0)
    assert paint(a, 0.1) == paint(b, 0.1)
    assert lit(paint(a, 0.1)) > 50  # ... still drawn, not blank
    port = a.inputs["in"]
    assert lit(paint(port, 1.0, (40, 40), (20, 20))) > 20
    assert lit(paint(port, 0.3, (40, 40), (20, 20))) == 0


def test_zoomed_out_a_wire_is_straight(qapp):
    g = Graph("wire")
    g.add_node("Input", {"shape": [8]}, (0, 0), "x")
    g.add_node("ReLU", {}, (400.0, 200.0), "n1")
    g.connect("x", "out", "n1", "in")
    src, dst = NodeItem(g, "x"), NodeItem(g, "n1")
    dst.setPos(400, 200)
    wire = EdgeItem(g.edges[0], src.outputs["out"], dst.inputs["in"], "[8]")
    (a, b) = wire.ends()

    def on_line(image: QImage, scale: float, fraction: float) -> bool:
        """Is the straight line from a to b drawn ``fraction`` of the way along (the curve is not there)?"""
        q = (a + (b - a) * fraction) * scale
        return any(image.pixelColor(round(q.x()) + dx, round(q.y()) + dy) != QColor("#000000")
                   for dx in (-1, 0, 1) for dy in (-1, 0, 1))

    near = paint(wire, 1.0, (700, 500), (0, 0))
    far = paint(wire, 0.3, (700, 500), (0, 0))
    assert on_line(near, 1.0, 0.5) and not on_line(near, 1.0, 0.2)  # an S-curve through the middle
    assert on_line(far, 0.3, 0.2) and on_line(far, 0.3, 0.8)


def pixels(image: QImage) -> np.ndarray:
    """The image as rows of (blue, green, red, alpha)."""
    image = image.convertToFormat(QImage.Format_ARGB32)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return rows[:, :image.width() * 4].reshape(image.height(), image.width(), 4).copy()  # (the image goes)


def text_pixels(image: QImage) -> int:
    """Pixels about as bright as the nodes' text (white and near it; nothing else on the canvas is)."""
    return int((pixels(image)[:, :, :3] > 225).all(axis=2).sum())


def colour_pixels(image: QImage, color: QColor) -> int:
    return int((pixels(image)[:, :, :3] == (color.blue(), color.green(), color.red())).all(axis=2).sum())


@pytest.fixture
def shown(qapp):
    editor = GraphEditor(chain(120))
    scene = GraphScene(editor)
    view = GraphView(scene)
    view.resize(900, 600)
    view.show()
    QApplication.processEvents()
    yield editor, scene, view
    view.close()


def test_far_out_the_overview_draws_the_boxes_and_zooming_in_restores_the_items(shown):
    editor, scene, view = shown
    view.scale(1.0 / view.zoom(), 1.0 / view.zoom())
    view.centerOn(scene.nodes["n1"])
    near = view.viewport().grab().toImage()
    assert scene.detail == FULL and text_pixels(near) > 20
    # zoomed out: the wires are drawn under the nodes from one path, in the background
    view.zoom_by(0.3 / view.zoom())
    view.centerOn(scene.nodes["n1"])
    out = scene.nodes["x"].outputs["out"].scenePos()
    middle = view.mapFromScene((out + scene.nodes["n1"].inputs["in"].scenePos()) / 2)
    assert middle.x() >= 0  # (the wire's middle is in view)
    image = view.viewport().grab().toImage()
    assert scene.detail == FAR
    assert all(item.flags() & NO_CONTENTS for item in scene.edges.values())
    assert not any(item.flags() & NO_CONTENTS for item in scene.nodes.values())
    assert image.pixelColor(middle) == QColor(theme.current().wire)
    wire = scene.edges[next(e for e in scene.edges if e.src == "x")]
    wire.gradient_color = QColor("#ff0000")  # a run colours it: the scene redraws it so
    assert view.viewport().grab().toImage().pixelColor(middle) == QColor("#ff0000")
    view.zoom_by(0.1 / view.zoom())
    view.centerOn(scene.nodes["n60"])
    far = view.viewport().grab().toImage()
    assert scene.detail == OVERVIEW
    assert all(item.flags() & NO_CONTENTS for item in scene.nodes.values())
    assert all(item.flags() & NO_CONTENTS for item in scene.edges.values())
    assert text_pixels(far) == 0
    boxes = colour_pixels(far, QColor(theme.current().node_body))
    assert boxes > 100  # 120 boxes of about 8 x 4 pixels, drawn by the overview
    # a box far out is still a node to click: selecting it marks it, and an edit shows at once
    builds = scene.overview.builds
    scene.select_nodes(["n5"])
    editor.set_params("n5", {"out_features": 9})
    view.viewport().grab()
    assert scene.overview.builds == builds + 1  # rebuilt once for both, on the next paint
    view.zoom_by(1.0 / view.zoom())
    view.centerOn(scene.nodes["n1"])
    again = view.viewport().grab().toImage()
    assert scene.detail == FULL
    assert not any(item.flags() & NO_CONTENTS for item in scene.nodes.values())
    assert not any(port.flags() & NO_CONTENTS for port in scene.nodes["n1"].inputs.values())
    assert text_pixels(again) > 20


def test_one_edit_in_a_large_graph_touches_only_its_items(qapp, monkeypatch):
    counts = {"nodes": 0, "wires": 0, "problems": 0}
    refresh, update_path, set_problems = NodeItem.refresh, EdgeItem.update_path, NodeItem.set_problems

    def counted_refresh(self):
        counts["nodes"] += 1
        refresh(self)

    def counted_path(self):
        counts["wires"] += 1
        update_path(self)

    def counted_problems(self, problems):
        counts["problems"] += 1
        set_problems(self, problems)

    touched = []
    for n in (60, 600):
        editor = GraphEditor(chain(n))
        scene = GraphScene(editor)
        scene.set_problems({})
        monkeypatch.setattr(NodeItem, "refresh", counted_refresh)
        monkeypatch.setattr(EdgeItem, "update_path", counted_path)
        monkeypatch.setattr(NodeItem, "set_problems", counted_problems)
        counts.update(nodes=0, wires=0, problems=0)
        editor.set_params("n21", {"out_features": 5})  # n21, the ReLU n22 and the Linear n23 re-inferred
        scene.set_problems({"n23": (_a_problem("n23"),)})  # the window's list: one node's entry changed
        touched.append(dict(counts))
        monkeypatch.undo()
        assert scene.edges[next(e for e in scene.edges if e.src == "n21")].label == "[5]"
    assert touched[0] == touched[1]  # the same items at 60 and at 600 nodes
    # (n21 follows its parameters, then its shape: its two wires are laid out twice)
    assert touched[0] == {"nodes": 4, "wires": 10, "problems": 1}


def _a_problem(node_id: str):
    from studio.graph import Problem

    return Problem(node=node_id, port="", message="a warning for the test", kind="lint", level="warning")


def agrees(scene: GraphScene) -> None:
    """Every item shows its own node or wire (items are used again for other nodes)."""
    graph = scene.graph
    assert set(scene.nodes) == set(graph.nodes) and set(scene.edges) == set(graph.edges)
    for node_id, item in scene.nodes.items():
        node = graph.node(node_id)
        assert (item.node_id, item.graph, item.block_name) == (node_id, graph, node.block)
        assert list(item.inputs) == [p.name for p in node.input_ports()]
        assert list(item.outputs) == [p.name for p in node.output_ports()]
        assert item.scene() is scene and not item.isSelected()
    for edge, item in scene.edges.items():
        assert item.edge == edge
        assert item.src_port is scene.nodes[edge.src].outputs[edge.src_port]
        assert item.dst_port is scene.nodes[edge.dst].inputs[edge.dst_port]
        assert item.ends() == (item.src_port.scenePos(), item.dst_port.scenePos())


def test_items_taken_off_show_other_nodes_when_a_group_opens_and_its_grouping_is_undone(qapp):
    editor = GraphEditor(chain(40))
    scene = GraphScene(editor)
    members = [f"n{i}" for i in range(10, 20)]
    before = {id(scene.nodes[n]) for n in members}
    gid, refusal = editor.group(members, "Stretch")
    assert refusal is None
    agrees(scene)
    assert editor.enter(gid)
    agrees(scene)
    assert {id(item) for item in scene.nodes.values()} & before  # the grouped nodes' items, again
    editor.leave()
    agrees(scene)
    editor.undo_stack.undo()
    agrees(scene)
    assert scene.nodes["n12"].graph is editor.document


def test_zoomed_out_names_sit_on_a_band_the_wires_do_not_cross(make_window, answers, qtbot):
    # A person opens VGG-16 (framed whole: plain boxes) and zooms in with Ctrl+plus until the nodes
    # are named boxes. A name is wider than its box and reaches into the gap the wire crosses: it is
    # drawn over the body's colour, so the wire does not run through its letters.
    from PySide6.QtCore import QPointF
    from PySide6.QtTest import QTest

    window = make_window()
    answers.open_name = str(Path(__file__).resolve().parents[2] / "examples" / "vgg16.json")
    QTest.keyClick(window, Qt.Key_O, Qt.ControlModifier)
    window.view.setFocus()
    for _ in range(12):
        if window.view.zoom() >= 0.19:
            break
        QTest.keyClick(window.view, Qt.Key_Plus, Qt.ControlModifier)
    image = window.view.viewport().grab().toImage()
    assert window.scene.detail == FAR  # (the scene takes the level as it paints)
    ratio = image.devicePixelRatio()
    wire = QColor(theme.current().wire).rgb()

    def px(x: int, y: int) -> int:
        return image.pixel(int(x * ratio), int(y * ratio))

    seen = window.view.mapToScene(window.view.viewport().rect().center())
    node = min((n for n in window.scene.nodes.values() if n.node_id.startswith("conv")),
               key=lambda n: (n.sceneBoundingRect().center() - seen).manhattanLength())  # one in the middle
    mid_y = node.height / 2 + 10
    right = window.view.mapFromScene(node.mapToScene(QPointF(node.width, mid_y)))
    # the wire's rows: where it shows in the open gap between this node's name and the next one's
    rows = [y for y in range(right.y() - 8, right.y() + 9) if px(right.x() + 14, y) == wire]
    assert rows, "no wire beside the node: the check below would look at nothing"
    crossed = [(x, y) for x in range(right.x() + 1, right.x() + 5) for y in rows if px(x, y) == wire]
    assert not crossed, crossed


def test_zoomed_in_a_nodes_icon_is_drawn_from_a_picture_as_large_as_it_shows(qapp, monkeypatch):
    # At 300% the 16-unit icon covers 48 pixels: drawn from a 16-pixel picture it was blurred.
    from studio.ui import icons

    asked = []
    real = icons.category_pixmap
    monkeypatch.setattr(icons, "category_pixmap", lambda category, pixels: asked.append(pixels) or real(category, pixels))
    item = NodeItem(chain(2, "a"), "n1")
    paint(item, 1.0)
    paint(item, 3.0)
    assert asked == [16, 48]
