"""A node on the canvas: header with icon and title, block name, key
parameters, ports on both sides, parameter count, and its worst problem: red
for an error, amber for a warning, the message under the node, the port at
fault coloured, every problem of the node in the tooltip."""

from __future__ import annotations

import html
import math
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QCursor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem

from .. import icons, theme
from .detail import FAR_LOD, FULL, OVERVIEW_LOD
from .format import count_text, key_params_text

if TYPE_CHECKING:
    from studio.graph import Graph, Problem

GRID = 20.0
MIN_WIDTH = 160.0
MAX_WIDTH = 300.0
FAR_NAME_WIDTH = 270.0  # zoomed far out a node's name may reach into the gap of its 280 px column
FAR_NAME_GAP = 7.0  # pixels on screen kept between two neighbours' names (with their bands) zoomed far out
HEADER = 28.0
LINE = 17.0
PORT_ROW = 22.0
PORT_RADIUS = 5.5
PORT_HIT = 10.0
FOOTER = 18.0
RADIUS = 7.0
GROUP_STACK = 4.0  # how far the card behind a group node shows
INSET = 14.0  # body text from the node's sides

_title_font = QFont()
_title_font.setPointSizeF(9.5)
_title_font.setBold(True)
_body_font = QFont()
_body_font.setPointSizeF(8.5)
_small_font = QFont()
_small_font.setPointSizeF(7.5)


class PortItem(QGraphicsItem):
    """One input or output; the place a wire starts or ends."""

    def __init__(self, node: "NodeItem", name: str, is_output: bool):
        super().__init__(node)
        self.node = node
        self.name = name
        self.is_output = is_output
        self.problem = ""  # the kind of the worst problem at this port ("shape", "unconnected", "lint", ...)
        self.level = ""  # and its level: "error" or "warning"
        self.hovered = False
        self.setAcceptHoverEvents(True)
        self.setCursor(_cross_cursor())

    @property
    def node_id(self) -> str:
        return self.node.node_id

    def boundingRect(self) -> QRectF:
        return QRectF(-PORT_HIT, -PORT_HIT, 2 * PORT_HIT, 2 * PORT_HIT)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addEllipse(self.boundingRect())
        return path

    def scene_center(self) -> QPointF:
        return self.scenePos()

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget=None) -> None:
        # Zoomed out, ports are too small to aim at: they vanish (the scene usually stops asking, see detail.py).
        if option.levelOfDetailFromTransform(painter.worldTransform()) < FAR_LOD:
            return
        t = theme.current()
        color = QColor(t.port)
        if self.problem == "unconnected" or self.level == "warning":
            color = QColor(t.warning)
        elif self.problem:
            color = QColor(t.error)
        r = PORT_RADIUS + (1.5 if self.hovered else 0.0)
        painter.setPen(QPen(color, 2.0))
        painter.setBrush(QBrush(QColor(t.node_body) if self.problem == "unconnected" else color))
        painter.drawEllipse(QPointF(0, 0), r, r)

    def hoverEnterEvent(self, event) -> None:
        self.hovered = True
        self.update()

    def hoverLeaveEvent(self, event) -> None:
        self.hovered = False
        self.update()


class NodeItem(QGraphicsItem):  # (not a QGraphicsObject: no signals, and a big graph makes thousands)
    def __init__(self, graph: "Graph", node_id: str):
        super().__init__()
        self.graph = graph
        self.node_id = node_id
        self.inputs: dict[str, PortItem] = {}
        self.outputs: dict[str, PortItem] = {}
        self.param_count: int | None = None
        # The shape rule's verdict, known at once after an edit; ``problems``, the window's list for
        # this node (the doctor's lints, dtypes, data fit), follows a moment later.
        self.problem: "Problem | None" = None
        self.problems: tuple = ()
        self.shown: "Problem | None" = None  # the worst of both: what the node is drawn with
        self.is_group = False
        self.port_role = ""  # inside a definition: "group input" or "group output" (and its name)
        self.uses = 0  # for a group node: how many nodes use its definition
        self._width = MIN_WIDTH
        self._height = HEADER
        self._error_lines: list[str] = []
        self._bounds = QRectF()
        self.setFlags(_NODE_FLAGS)
        # Panning blits the cached picture instead of redrawing every node's text.
        self.setCacheMode(QGraphicsItem.DeviceCoordinateCache)
        # z stays 0 (setting it costs two itemChange calls a node); wires sit below at -1
        self.setAcceptHoverEvents(True)
        self.refresh()

    def retarget(self, graph: "Graph", node_id: str) -> None:
        """Show another node (an item taken off the canvas, used again: making one costs more than
        re-reading everything it shows)."""
        self.graph = graph
        self.node_id = node_id
        self.param_count = None
        self.problems = ()
        self.setSelected(False)
        self.setToolTip("")
        for ports in (self.inputs, self.outputs):
            for port in ports.values():
                port.hovered = False
        self.refresh()

    # ---- following the model ------------------------------------------
    @property
    def node(self):
        return self.graph.node(self.node_id)

    def refresh(self) -> None:
        """Re-read everything shown from the model (params, label, ports, problem)."""
        node = self.node
        self.block_name = node.block
        self._title = node.title
        self._block = node.block if node.label == "" else f"{node.block}  ·  {node.id}"
        self.is_group = node.is_group
        if self.is_group:
            definition = node.spec.definition
            count = len(definition.graph) - len(definition.inputs)
            self._block = f"{self._block}  ·  {count} block{'s' * (count != 1)}"
            self.uses = len(self.graph.library.instances(node.block))
        # inside a definition: which of the group's ports this node is
        owner = self.graph.library.owner(self.graph) if self.graph.library.definitions else None
        self.port_role = ""
        if owner is not None:
            if self.node_id in owner.inputs:
                self.port_role = "group input"
            else:
                outs = [o.name for o in owner.outputs if o.node == self.node_id]
                if outs:
                    self.port_role = "group output" + ("" if outs == ["out"] else " " + ", ".join(outs))
        self._keys = key_params_text(node.params, node.spec.key_params)
        self._category = node.spec.category
        self.problem = self.graph.shapes.error(self.node_id)
        self._sync_ports(node)
        self._show_problems()

    def refresh_uses(self) -> None:
        """A group node's count of uses of its definition (drawn as ×N when above one)."""
        uses = len(self.graph.library.instances(self.node.block)) if self.is_group else 0
        if uses != self.uses:
            self.uses = uses
            self.update()

    def set_problems(self, problems: tuple) -> None:
        """This node's part of the window's problem list."""
        if problems != self.problems:
            self.problems = problems
            self._show_problems()

    def all_problems(self) -> list:
        """The list's problems and the shape rule's, once each."""
        found = list(self.problems)
        p = self.problem
        if p is not None and not any((q.port, q.message, q.kind) == (p.port, p.message, p.kind) for q in found):
            found.insert(0, p)
        return found

    @property
    def severity(self) -> str:
        """"error" (red), "warning" (amber), "unconnected" (an input still to wire) or ""."""
        p = self.shown
        if p is None:
            return ""
        if p.kind == "unconnected":
            return "unconnected"
        return "warning" if p.level == "warning" else "error"

    def _show_problems(self) -> None:
        found = self.all_problems()
        self.shown = worst(found)
        for ports in (self.inputs, self.outputs):
            for name, port in ports.items():
                at = worst([p for p in found if p.port == name and (ports is self.inputs or name not in self.inputs)])
                port.problem = at.kind if at is not None else ""
                port.level = at.level if at is not None else ""
                port.update()
        self._relayout()
        self.update()

    def set_param_count(self, count: int | None) -> None:
        if count != self.param_count:
            self.param_count = count
            # Zoomed out the count is not drawn: the cached picture stands (zooming in draws anew).
            scene = self.scene()
            if scene is None or getattr(scene, "detail", FULL) == FULL:
                self.update()

    def _sync_ports(self, node) -> None:
        wanted_in = [p.name for p in node.input_ports()]
        wanted_out = [p.name for p in node.output_ports()]
        for ports, wanted, is_out in ((self.inputs, wanted_in, False), (self.outputs, wanted_out, True)):
            for name in list(ports):
                if name not in wanted:
                    item = ports.pop(name)
                    item.setParentItem(None)
                    if item.scene() is not None:
                        item.scene().removeItem(item)
            for name in wanted:
                if name not in ports:
                    ports[name] = PortItem(self, name, is_out)
            # keep declaration order
            ordered = {n: ports[n] for n in wanted}
            ports.clear()
            ports.update(ordered)

    def _relayout(self) -> None:
        self.prepareGeometryChange()
        # Port names show where a side has several ports; they get a column of
        # their own, so the block name and parameters sit between, never over them.
        self._in_names_w = _names_width(self.inputs)
        self._out_names_w = _names_width(self.outputs)
        columns = self._in_names_w + self._out_names_w
        text_w = max(
            _advance(TITLE, self._title) + 40,
            _advance(BODY, self._block) + 2 * INSET + columns,
            _advance(BODY, self._keys) + 2 * INSET + columns,
            # inside a group, the footer holds the port role beside the parameter count (which comes later)
            (_advance(SMALL, self.port_role) + _advance(SMALL, "888.8k params") + 8
             + 2 * INSET) if self.port_role else 0,
        )
        self._width = min(MAX_WIDTH, max(MIN_WIDTH, _ceil_to(text_w, GRID)))
        # Always room for two lines, so nodes in a chain share one height and wires run straight.
        body = max(2 * LINE + 10, max(len(self.inputs), len(self.outputs)) * PORT_ROW + 6)
        self._height = _ceil_to(HEADER + body + FOOTER, GRID / 2)
        for ports in (self.inputs, self.outputs):
            n = len(ports)
            top = HEADER + (self._height - HEADER - FOOTER - n * PORT_ROW) / 2 + PORT_ROW / 2
            x = self._width if ports is self.outputs else 0.0
            for i, port in enumerate(ports.values()):
                port.setPos(x, top + i * PORT_ROW)
        self._error_lines = self._wrap_problem()
        extra = len(self._error_lines) * 14 + (6 if self._error_lines else 0)
        width = max(self._width, 220.0) if self._error_lines else self._width
        side = max(PORT_HIT, (FAR_NAME_WIDTH - self._width) / 2)  # room for the name drawn when zoomed far out
        self._bounds = QRectF(-side, -4, width + 2 * side, self._height + 8 + extra)

    def _wrap_problem(self) -> list[str]:
        p = self.shown
        if p is None:
            return []
        text = f"{p.port}: {p.message}" if p.port and not p.message.startswith(p.port) else p.message
        fm = _metrics()[SMALL]
        width = max(self._width, 220.0)
        words, lines, line = text.split(), [], ""
        for w in words:
            probe = f"{line} {w}".strip()
            if fm.horizontalAdvance(probe) > width and line:
                lines.append(line)
                line = w
            else:
                line = probe
        if line:
            lines.append(line)
        if len(lines) > 3:
            lines = lines[:3]
            lines[2] = fm.elidedText(lines[2] + " …", Qt.ElideRight, width)
        return lines

    def _tooltip(self) -> str:
        node = self.node
        spec = node.spec
        lines = [f"<b>{node.title}</b> — {spec.name}", spec.doc]
        for port, shape in self.graph.shapes.inputs(self.node_id).items():
            lines.append(f"in {port}: {list(shape) if shape else 'unknown'}")
        for port in (p.name for p in node.output_ports()):
            shape = self.graph.shapes.output(self.node_id, port)
            lines.append(f"out {port}: {list(shape) if shape else 'unknown'}")
        if self.is_group:
            uses = f", used {self.uses} times: an edit inside changes every use" if self.uses > 1 else ""
            lines.append(f"<i>A group{uses}. Double-click (or Enter) to open it.</i>")
        t = theme.current()
        for p in self.all_problems():
            color = t.warning if p.level == "warning" or p.kind == "unconnected" else t.error
            fixes = "".join(f"<br>&nbsp;&nbsp;fix: {html.escape(f.title)}" for f in p.fixes)
            lines.append(f"<span style='color:{color}'>{html.escape(str(p))}</span>{fixes}")
        return "<br>".join(lines)

    # ---- geometry and painting ----------------------------------------
    def text_rects(self) -> list[tuple[str, QRectF]]:
        """The block name and key-parameter lines and where they are drawn."""
        left = INSET + self._in_names_w
        width = self._width - left - INSET - self._out_names_w
        rows = [(self._block, QRectF(left, HEADER + 5, width, LINE))]
        if self._keys:
            rows.append((self._keys, QRectF(left, HEADER + 5 + LINE, width, LINE)))
        return rows

    def port_label_rects(self) -> list[tuple[PortItem, QRectF]]:
        """Where the port names are drawn (sides with several ports only)."""
        rects = []
        for ports, is_out in ((self.inputs, False), (self.outputs, True)):
            if len(ports) < 2:
                continue
            for name, port in ports.items():
                w = _advance(SMALL, name) + 2
                x = self._width - INSET - w if is_out else INSET
                rects.append((port, QRectF(x, port.pos().y() - 8, w, 16)))
        return rects

    @property
    def width(self) -> float:
        return self._width

    @property
    def height(self) -> float:
        return self._height

    def box(self) -> QRectF:
        return QRectF(0, 0, self._width, self._height)

    def boundingRect(self) -> QRectF:
        return self._bounds

    header_height = HEADER

    def header_color(self) -> QColor:
        """The header band's colour: the category's, red for an error, amber for a warning."""
        t = theme.current()
        marked = {"error": t.error, "warning": t.warning}.get(self.severity)
        return QColor(marked) if marked else QColor(t.category_color(self._category))

    def hoverEnterEvent(self, event) -> None:
        # Built on demand: shapes and problems change far more often than anyone hovers.
        self.setToolTip(self._tooltip())
        super().hoverEnterEvent(event)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(self.box(), RADIUS, RADIUS)
        return path

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget=None) -> None:
        t = theme.current()
        box = self.box()
        accent = t.category_color(self._category)
        severity = self.severity
        marked = {"error": t.error, "warning": t.warning}.get(severity)  # header and border colour
        painter.setRenderHint(QPainter.Antialiasing)

        # body; a group is a stack of cards, with a second border inside its first
        border = QColor(marked) if marked else QColor(t.node_border)
        if self.is_group:
            painter.setPen(QPen(border, 1.0))
            painter.setBrush(QColor(t.node_body).darker(115))
            painter.drawRoundedRect(box.translated(GROUP_STACK, GROUP_STACK), RADIUS, RADIUS)
        painter.setPen(QPen(border, 1.6 if marked else 1.0))
        painter.setBrush(QColor(t.node_body))
        painter.drawRoundedRect(box, RADIUS, RADIUS)
        if self.is_group:
            painter.setPen(QPen(accent, 1.0))
            painter.setBrush(Qt.NoBrush)
            painter.drawRoundedRect(box.adjusted(2.5, 2.5, -2.5, -2.5), RADIUS - 2, RADIUS - 2)

        # header band in the category colour (red for an error, amber for a warning)
        painter.setPen(Qt.NoPen)
        painter.setBrush(QColor(marked) if marked else accent)
        painter.drawPath(_header_path(box.width()))

        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        if lod < FAR_LOD:
            # Zoomed far out the text is unreadable: the coloured boxes are the picture, each with its
            # name in a font that keeps a readable size on screen (ResNet-18 framed, a group opened),
            # shortened to its column.
            if lod >= OVERVIEW_LOD:
                far = max(1, round(10 / lod))
                # a few pixels on screen between neighbours' names, and the name on a band of the
                # body's colour, so the wire through the node does not run across its letters
                wide = max(box.width(), FAR_NAME_WIDTH - FAR_NAME_GAP / lod)
                name = _elided(far, self._title, wide)
                text_w, text_h = _advance(far, name), 1.3 * far
                mid = HEADER + (box.height() - HEADER) / 2
                band = QRectF((box.width() - text_w) / 2 - 0.2 * far, mid - text_h / 2, text_w + 0.4 * far, text_h)
                painter.setBrush(QColor(t.node_body))
                painter.drawRoundedRect(band, 0.2 * far, 0.2 * far)
                painter.setFont(_far_font(far))
                painter.setPen(QColor(t.node_text))
                painter.drawText(band, Qt.AlignCenter, name)
            if self.isSelected():
                painter.setPen(QPen(QColor(t.selection), 3.0 / max(lod, 0.05)))
                painter.setBrush(Qt.NoBrush)
                painter.drawRoundedRect(box, RADIUS, RADIUS)
            return

        # drawn from a picture of as many pixels as the icon covers on the device (zoom and screen)
        device = painter.device()
        ratio = device.devicePixelRatioF() if device is not None else 1.0
        pixels = max(16, min(256, math.ceil(16 * lod * ratio)))
        icon = icons.category_pixmap(self._category, pixels)
        painter.drawPixmap(QRectF(7, 6, 16, 16), icon, QRectF(icon.rect()))
        painter.setFont(_title_font)
        painter.setPen(QColor("#ffffff"))
        title_rect = QRectF(28, 0, box.width() - 34, HEADER)
        painter.drawText(title_rect, Qt.AlignVCenter | Qt.AlignLeft, _elided(TITLE, self._title, title_rect.width()))

        # block name and key parameters, between the port-name columns
        painter.setFont(_body_font)
        for (text, rect), color in zip(self.text_rects(), (t.node_dim_text, t.node_text)):
            painter.setPen(QColor(color))
            painter.drawText(rect, Qt.AlignLeft | Qt.AlignVCenter, _elided(BODY, text, rect.width()))

        # port names, only where a node has several on one side
        painter.setFont(_small_font)
        painter.setPen(QColor(t.node_dim_text))
        for port, rect in self.port_label_rects():
            painter.drawText(rect, (Qt.AlignRight if port.is_output else Qt.AlignLeft) | Qt.AlignVCenter, port.name)

        # footer: parameter count
        inset = INSET
        text_w = box.width() - 2 * inset
        if self.param_count:
            painter.setPen(QColor(t.node_dim_text))
            painter.drawText(QRectF(inset, box.height() - FOOTER, text_w, FOOTER - 3),
                             Qt.AlignRight | Qt.AlignVCenter, f"{count_text(self.param_count)} params")
        if self.port_role:
            # left of the parameter count, shortened where the two would meet
            taken = _advance(SMALL, f"{count_text(self.param_count)} params") + 8 if self.param_count else 0
            painter.setPen(QColor(t.selection))
            painter.drawText(QRectF(inset, box.height() - FOOTER, text_w - taken, FOOTER - 3),
                             Qt.AlignLeft | Qt.AlignVCenter, _elided(SMALL, self.port_role, text_w - taken))
        if self.is_group:
            painter.setPen(QColor(t.node_dim_text))
            uses = f"group  ×{self.uses}" if self.uses > 1 else "group"
            painter.drawText(QRectF(inset, box.height() - FOOTER, text_w, FOOTER - 3),
                             Qt.AlignLeft | Qt.AlignVCenter, uses)

        # the problem, under the node
        if self._error_lines:
            painter.setPen(QColor(t.error if severity == "error" else t.warning))
            y = box.height() + 5
            for line in self._error_lines:
                painter.drawText(QRectF(0, y, max(box.width(), 220.0), 14), Qt.AlignLeft | Qt.AlignVCenter, line)
                y += 14

        if self.isSelected():
            painter.setPen(QPen(QColor(t.selection), 2.0))
            painter.setBrush(Qt.NoBrush)
            painter.drawRoundedRect(box.adjusted(-2, -2, 2, 2), RADIUS + 2, RADIUS + 2)

    # ---- moving --------------------------------------------------------
    def itemChange(self, change, value):
        # (the enum members are looked up once: a scene of hundreds of nodes makes thousands of calls)
        if change == _POSITION_CHANGE:
            scene = self.scene()
            if scene is not None and getattr(scene, "snapping", False) and getattr(scene, "user_dragging", False):
                return QPointF(round(value.x() / GRID) * GRID, round(value.y() / GRID) * GRID)
        elif change == _POSITION_HAS_CHANGED:
            scene = self.scene()
            if scene is not None:
                scene.node_item_moved(self)
        elif change == _SELECTED_HAS_CHANGED:
            self.update()
        return value  # (what the base class returns; calling it costs a trip into C++ for each of thousands)


_NODE_FLAGS = QGraphicsItem.ItemIsMovable | QGraphicsItem.ItemIsSelectable | QGraphicsItem.ItemSendsGeometryChanges
_POSITION_CHANGE = QGraphicsItem.ItemPositionChange
_POSITION_HAS_CHANGED = QGraphicsItem.ItemPositionHasChanged
_SELECTED_HAS_CHANGED = QGraphicsItem.ItemSelectedHasChanged


_shared: dict = {}


def _metrics() -> tuple[QFontMetricsF, QFontMetricsF, QFontMetricsF]:
    """The title, body and small fonts' metrics, made once (a scene of hundreds of nodes lays out each)."""
    found = _shared.get("metrics")
    if found is None:
        found = _shared["metrics"] = (QFontMetricsF(_title_font), QFontMetricsF(_body_font),
                                      QFontMetricsF(_small_font))
    return found


def _cross_cursor() -> QCursor:
    found = _shared.get("cross")
    if found is None:
        found = _shared["cross"] = QCursor(Qt.CrossCursor)
    return found


def worst(problems: list) -> "Problem | None":
    """Errors first, then an input still to wire, then warnings; the list's order within each."""
    rank = {"unconnected": 1}
    best = None
    for p in problems:
        r = 2 if p.level == "warning" else rank.get(p.kind, 0)
        if best is None or r < best[0]:
            best = (r, p)
    return best[1] if best is not None else None


def _header_path(width: float) -> QPainterPath:
    """The header band: the top of the node's rounded box, square below (made once per width)."""
    key = ("header", width)
    found = _shared.get(key)
    if found is None:
        header = QPainterPath()
        header.addRoundedRect(QRectF(0, 0, width, HEADER + RADIUS), RADIUS, RADIUS)
        clip = QPainterPath()
        clip.addRect(QRectF(0, 0, width, HEADER))
        found = _shared[key] = header.intersected(clip)
    return found


def _names_width(ports: dict) -> float:
    if len(ports) < 2:
        return 0.0
    return max(_advance(SMALL, name) for name in ports) + 2 + 6


TITLE, BODY, SMALL = 0, 1, 2  # the fonts of _metrics(); a positive number is the far name's pixel size
_measured: dict = {}


def _far_font(pixels: int) -> QFont:
    found = _shared.get(("far", pixels))
    if found is None:
        found = _shared[("far", pixels)] = QFont(_title_font)
        found.setPixelSize(pixels)
    return found


def _font_metrics(font: int) -> QFontMetricsF:
    if font <= SMALL:
        return _metrics()[font]
    found = _shared.get(("far metrics", font))
    if found is None:
        found = _shared[("far metrics", font)] = QFontMetricsF(_far_font(font))
    return found


def _advance(font: int, text: str) -> float:
    """``text``'s width in ``font``. The same block names, parameters and port names recur on hundreds
    of nodes: each is measured once (making a node item was mostly measuring text)."""
    key = (font, text)
    found = _measured.get(key)
    if found is None:
        if len(_measured) > 20_000:
            _measured.clear()
        found = _measured[key] = _font_metrics(font).horizontalAdvance(text)
    return found


def _elided(font: int, text: str, width: float) -> str:
    """``text`` shortened with an ellipsis to ``width`` in ``font``, worked out once per text and width."""
    key = (font, text, width)
    found = _measured.get(key)
    if found is None:
        if len(_measured) > 20_000:
            _measured.clear()
        found = _measured[key] = _font_metrics(font).elidedText(text, Qt.ElideRight, width)
    return found


def _ceil_to(x: float, step: float) -> float:
    return -(-x // step) * step
