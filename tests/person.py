"""Driving Studio the way a person does: real mouse presses, moves and releases,
key presses into the focused widget, and waiting on what the window shows.
Shared by the UI tests and the journeys (``tests/journeys``)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QComboBox, QLineEdit, QWidget

from studio.ui import dialogs


@pytest.fixture(autouse=True)
def _private_settings(tmp_path, monkeypatch):
    # Never the user's settings or recovery files.
    monkeypatch.setenv("STUDIO_CONFIG_DIR", str(tmp_path / "config"))


class Answers:
    """Stands in for the person answering the window's questions; records each one."""

    def __init__(self):
        self.save_changes = "discard"
        self.recover = True
        self.open_name = ""
        self.save_name = ""
        self.export_name = ""  # File > Export's save dialog
        self.allow_outside = False  # may a graph use a place outside its folder?
        self.asked: list[tuple[str, str]] = []

    def install(self, monkeypatch):
        def ask_save_changes(parent, name):
            self.asked.append(("save_changes", name))
            return self.save_changes

        def show_error(parent, title, message):
            self.asked.append(("error", message))

        def ask_recover(parent, description):
            self.asked.append(("recover", description))
            return self.recover

        monkeypatch.setattr(dialogs, "ask_save_changes", ask_save_changes)
        monkeypatch.setattr(dialogs, "show_error", show_error)
        monkeypatch.setattr(dialogs, "ask_recover", ask_recover)

        def ask_outside(parent, graph_name, written, resolved, folder):
            self.asked.append(("outside", f"{graph_name}: {written} -> {resolved}"))
            return self.allow_outside

        monkeypatch.setattr(dialogs, "ask_outside", ask_outside)
        monkeypatch.setattr(dialogs, "open_file_name", lambda parent, d="": self.open_name)
        monkeypatch.setattr(dialogs, "save_file_name", lambda parent, s="": self.save_name)

        def export_file_name(parent, kind, suggested=""):
            self.asked.append(("export_name", f"{kind}: {suggested}"))
            return self.export_name

        def show_about(parent, title, text):
            self.asked.append(("about", text))

        monkeypatch.setattr(dialogs, "export_file_name", export_file_name)
        monkeypatch.setattr(dialogs, "show_about", show_about)

    def errors(self) -> list[str]:
        return [m for kind, m in self.asked if kind == "error"]


@pytest.fixture
def answers(monkeypatch) -> Answers:
    a = Answers()
    a.install(monkeypatch)
    return a


@pytest.fixture
def config_dir(tmp_path):
    return tmp_path / "config"


@pytest.fixture
def make_window(qtbot, answers, config_dir):
    from studio.ui.main_window import MainWindow
    from studio.ui.settings import AppSettings

    def make(size=(1280, 800), **kwargs):
        """``size=None``: the window's own first size, as a person gets it."""
        window = MainWindow(AppSettings(config_dir), **kwargs)
        qtbot.addWidget(window)
        if size is not None:
            window.resize(*size)
        window.show()
        qtbot.waitExposed(window)
        if on_real_window_system():
            qtbot.wait(600)  # the window manager places the window: its screen position settles
        # Shortcuts need an active window with the canvas focused, as after a click.
        window.activateWindow()
        qtbot.waitUntil(window.isActiveWindow, timeout=2000)
        window.view.setFocus()
        return window

    return make


# ---- real mouse input on the canvas ---------------------------------------
def view_point(window, scene_pos) -> QPoint:
    return window.view.mapFromScene(QPointF(*scene_pos) if isinstance(scene_pos, tuple) else scene_pos)


def mouse_move(widget, pos: QPoint, buttons=Qt.LeftButton, modifiers=Qt.NoModifier) -> None:
    """A move with the button held (QTest.mouseMove does not carry button state)."""
    p = QPointF(pos)
    event = QMouseEvent(QEvent.MouseMove, p, widget.mapToGlobal(p), Qt.NoButton, buttons, modifiers)
    QApplication.sendEvent(widget, event)


def drag(window, start: QPoint, end: QPoint, steps: int = 6, button=Qt.LeftButton, modifiers=Qt.NoModifier):
    vp = window.view.viewport()
    QTest.mousePress(vp, button, modifiers, start)
    for i in range(1, steps + 1):
        mouse_move(vp, start + (end - start) * (i / steps), button, modifiers)
    QTest.mouseRelease(vp, button, modifiers, end)


def port_point(window, node_id: str, port: str, output: bool) -> QPoint:
    item = window.scene.nodes[node_id]
    ports = item.outputs if output else item.inputs
    return view_point(window, ports[port].scenePos())


def node_point(window, node_id: str) -> QPoint:
    """A point on the node's body (below the header, away from the ports)."""
    item = window.scene.nodes[node_id]
    return view_point(window, item.mapToScene(QPointF(item.width / 2, 40)))


def wire(window, src: str, dst: str, src_port="out", dst_port="in"):
    dst_is_output = dst_port in window.scene.nodes[dst].outputs and dst_port not in window.scene.nodes[dst].inputs
    drag(window, port_point(window, src, src_port, True), port_point(window, dst, dst_port, dst_is_output))


def scene_agrees(window) -> None:
    """The canvas shows exactly the document: same nodes, positions, wires, labels."""
    graph = window.editor.graph
    scene = window.scene
    assert set(scene.nodes) == set(graph.nodes)
    assert set(scene.edges) == set(graph.edges)
    for node_id, item in scene.nodes.items():
        node = graph.node(node_id)
        assert (item.pos().x(), item.pos().y()) == node.position
        assert list(item.inputs) == [p.name for p in node.input_ports()]
        assert item.problem == graph.shapes.error(node_id)
        assert item.scene() is scene
    from studio.ui.canvas.format import shape_text

    for edge, item in scene.edges.items():
        assert item.label == shape_text(graph.shapes.output(edge.src, edge.src_port))
    from studio.ui.canvas.edge_item import EdgeItem
    from studio.ui.canvas.node_item import NodeItem

    assert sum(isinstance(i, NodeItem) for i in scene.items()) == len(graph)
    assert sum(isinstance(i, EdgeItem) for i in scene.items()) == len(graph.edges)


class _RealDrop:
    def __init__(self, accepted: bool):
        self._accepted = accepted

    def isAccepted(self) -> bool:  # noqa: N802 (as QDropEvent)
        return self._accepted


def _real_pointer_drag(window, start: QPoint, to: QPoint) -> _RealDrop:
    """On a real X server a drag is the window system's: the X pointer itself is pressed,
    moved and released (xdotool), while this thread turns the event loop Qt's drag runs in."""
    import subprocess
    import time

    tree = window.palette.tree
    a = tree.viewport().mapToGlobal(start)
    b = window.view.viewport().mapToGlobal(to)
    steps = [f"mousemove --sync {a.x() + dx} {a.y()} sleep 0.05" for dx in (0, 5, 20, 40)]
    steps += [f"mousemove --sync {int(a.x() + (b.x() - a.x()) * i / 8)} {int(a.y() + (b.y() - a.y()) * i / 8)} "
              "sleep 0.05" for i in range(1, 9)]
    script = (f"mousemove --sync {a.x()} {a.y()} sleep 0.1 mousedown 1 sleep 0.1 " + " ".join(steps[1:])
              + " sleep 0.1 mouseup 1")
    before = len(window.editor.graph)
    proc = subprocess.Popen(["xdotool", *script.split()])
    deadline = time.monotonic() + 20
    while proc.poll() is None and time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.01)
    for _ in range(20):
        QApplication.processEvents()
    return _RealDrop(len(window.editor.graph) == before + 1)


def on_real_window_system() -> bool:
    from PySide6.QtGui import QGuiApplication

    return QGuiApplication.platformName() == "xcb"


def palette_drag(window, block: str, to: QPoint):
    """Press on the palette entry and move past the drag distance: the palette
    starts its drag. The offscreen platform cannot carry a drag between
    widgets, so the drag's own mime data is delivered to the canvas as the
    window system would: enter, move, drop. On a real X server the pointer
    does it all."""
    tree = window.palette.tree
    item = window.palette.item(block)
    tree.scrollToItem(item)
    start = tree.visualItemRect(item).center()
    assert window.view.viewport().rect().contains(to), f"{to} is off the canvas: a person cannot drop there"
    if on_real_window_system():
        return _real_pointer_drag(window, start, to)
    tree.last_drag_mime = None
    QTest.mousePress(tree.viewport(), Qt.LeftButton, Qt.NoModifier, start)
    for dx in (5, 20, 40):
        mouse_move(tree.viewport(), start + QPoint(dx, 0))
    QTest.mouseRelease(tree.viewport(), Qt.LeftButton, Qt.NoModifier, start + QPoint(40, 0))
    mime = tree.last_drag_mime
    assert mime is not None, "the palette did not start a drag"
    vp = window.view.viewport()
    p = QPointF(to)
    enter = QDragEnterEvent(to, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(vp, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(vp, QDragMoveEvent(to, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier))
    drop = QDropEvent(p, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(vp, drop)
    return drop


def right_click(window, pos: QPoint):
    """Right-click on the canvas at ``pos`` (viewport coordinates); returns the menu that pops up."""
    from PySide6.QtGui import QContextMenuEvent
    from PySide6.QtWidgets import QMenu

    vp = window.view.viewport()
    QTest.mousePress(vp, Qt.RightButton, Qt.NoModifier, pos)
    QTest.mouseRelease(vp, Qt.RightButton, Qt.NoModifier, pos)
    menu = QApplication.activePopupWidget()
    if not isinstance(menu, QMenu):
        # Platforms that do not turn a right click into a context-menu event: send the one they would.
        QApplication.sendEvent(vp, QContextMenuEvent(QContextMenuEvent.Mouse, pos, vp.mapToGlobal(pos)))
        menu = QApplication.activePopupWidget()
    assert isinstance(menu, QMenu), "no menu popped up"
    return menu


def menu_texts(menu) -> list[str]:
    return [a.text().replace("&", "").split("\t")[0] for a in menu.actions() if not a.isSeparator()]


def choose_in_menu(menu, text: str) -> None:
    """Pick a menu entry with the keyboard: Down until it is highlighted, then Enter."""
    wanted = [a for a in menu.actions() if a.text().replace("&", "").split("\t")[0] == text]
    assert wanted, f"the menu has no {text!r}: {menu_texts(menu)}"
    assert wanted[0].isEnabled(), f"{text!r} is disabled"
    for _ in range(len(menu.actions()) + 1):
        if menu.activeAction() is wanted[0]:
            break
        QTest.keyClick(menu, Qt.Key_Down)
    assert menu.activeAction() is wanted[0]
    QTest.keyClick(menu, Qt.Key_Return)
    QApplication.processEvents()


# ---- keyboard into form fields ----------------------------------------------
def editor_of(widget: QWidget) -> QWidget:
    """The widget that takes the keys: a spin box's or combo box's line edit, or the widget."""
    if isinstance(widget, QAbstractSpinBox):
        return widget.findChild(QLineEdit) or widget
    if isinstance(widget, QComboBox) and widget.isEditable():
        return widget.lineEdit()
    line = getattr(widget, "line", None)  # a path row: line edit plus Browse
    return line if isinstance(line, QLineEdit) else widget


def click(widget: QWidget, pos: QPoint | None = None, button=Qt.LeftButton) -> None:
    widget.window().activateWindow()
    QTest.mouseClick(widget, button, Qt.NoModifier, pos if pos is not None else widget.rect().center())


def type_into(widget: QWidget, text: str, then: str = "tab") -> None:
    """Click into the field, select what is there, type ``text``, then press Tab or Enter."""
    target = editor_of(widget)
    target.setFocus(Qt.MouseFocusReason)
    click(target)
    QTest.keyClick(target, Qt.Key_A, Qt.ControlModifier)
    QTest.keyClicks(target, text)
    key = {"tab": Qt.Key_Tab, "enter": Qt.Key_Return}[then]
    QTest.keyClick(QApplication.focusWidget() or target, key)
    QApplication.processEvents()


def choose(combo: QComboBox, text: str, must_take: bool = True) -> None:
    """Pick an entry of a combo box with the keyboard: focus it, then arrow keys until it shows.
    ``must_take=False``: the form may refuse the choice and put the box back."""
    index = combo.findText(text)
    assert index >= 0, f"{combo.objectName()} offers no {text!r}: {[combo.itemText(i) for i in range(combo.count())]}"
    combo.setFocus(Qt.MouseFocusReason)
    for _ in range(combo.count() + 1):
        if combo.currentIndex() == index:
            break
        was = combo.currentIndex()
        QTest.keyClick(combo, Qt.Key_Down if combo.currentIndex() < index else Qt.Key_Up)
        if combo.currentIndex() == was and not must_take:
            break
    assert combo.currentIndex() == index or not must_take
    QApplication.processEvents()


def press(widget: QWidget, key, modifiers=Qt.NoModifier) -> None:
    """One key press and release into ``widget`` (a shortcut reaches the window's actions)."""
    QTest.keyClick(widget, key, modifiers)
    QApplication.processEvents()


# ---- the training dock ------------------------------------------------------
def open_example_copy(window, answers, qtbot, tmp_path, example: str, **training):
    """File > Open (Ctrl+O) of a copy of ``examples/<example>`` with ``training`` settings changed
    (fewer epochs, say), once its data set has loaded; the training panel."""
    import json
    from pathlib import Path

    data = json.loads((Path(__file__).resolve().parents[1] / "examples" / example).read_text())
    data["training"].update(training)
    path = tmp_path / example
    path.write_text(json.dumps(data))
    answers.open_name = str(path)
    QTest.keyClick(window, Qt.Key_O, Qt.ControlModifier)
    panel = window.training_panel
    qtbot.waitUntil(lambda: panel.chooser.dataset is not None, timeout=10_000)
    return panel


def train_to_the_end(panel, qtbot) -> None:
    """Train pressed, and the run watched to its end."""
    click(panel.controls.train_button)
    qtbot.waitUntil(lambda: not panel.running, timeout=60_000)
