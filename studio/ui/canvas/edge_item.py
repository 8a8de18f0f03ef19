"""A wire from an output port to an input port, labelled with the tensor
shape that flows along it."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsItem

from .. import theme
from .detail import FAR_LOD

LABEL_PORT_CLEARANCE = 10.0  # px kept free around each port
_label_font = QFont()
_label_font.setPointSizeF(7.5)
_shared: dict = {}
_widths: dict[str, float] = {}


def _metrics() -> QFontMetricsF:
    found = _shared.get("metrics")
    if found is None:
        found = _shared["metrics"] = QFontMetricsF(_label_font)
    return found


def _label_width(text: str) -> float:
    """The label's width in the label font; the same few shapes label most wires, so each is measured once."""
    found = _widths.get(text)
    if found is None:
        if len(_widths) > 4096:
            _widths.clear()
        found = _widths[text] = _metrics().horizontalAdvance(text)
    return found


def _wire_pen(color: str) -> QPen:
    found = _shared.get(("pen", color))
    if found is None:
        found = _shared[("pen", color)] = QPen(QColor(color), 1.8, Qt.SolidLine, Qt.RoundCap)
    return found


def _reach(a: QPointF, b: QPointF) -> float:
    """How far the S-curve's control points lie out from its ends."""
    return max(40.0, abs(b.x() - a.x()) * 0.5)


def wire_path(a: QPointF, b: QPointF) -> QPainterPath:
    """A horizontal S-curve, as wires leave outputs to the right and enter inputs from the left."""
    dx = _reach(a, b)
    path = QPainterPath(a)
    path.cubicTo(QPointF(a.x() + dx, a.y()), QPointF(b.x() - dx, b.y()), b)
    return path


class EdgeItem(QGraphicsItem):  # (not a QGraphicsObject: no signals, and a big graph makes thousands)
    def __init__(self, edge, src_port, dst_port, label: str = ""):
        super().__init__()
        self.edge = edge
        self.src_port = src_port
        self.dst_port = dst_port
        self.label = label  # given here, the path is laid out once, not again for the label
        self.hovered = False
        self._gradient_color: QColor | None = None
        self._path: QPainterPath | None = None  # made when first drawn or hit: a big graph opens zoomed out
        self._a, self._b = QPointF(), QPointF()
        self._label_rect = QRectF()
        self._bounds = QRectF()
        self.setFlags(QGraphicsItem.ItemIsSelectable)
        self.setAcceptHoverEvents(True)
        self.setZValue(-1)  # under the nodes (at 0)
        self.update_path()

    def retarget(self, edge, src_port, dst_port, label: str) -> None:
        """Join other ports (an item taken off the canvas, used again)."""
        self.edge, self.src_port, self.dst_port, self.label = edge, src_port, dst_port, label
        self.hovered = False
        self._gradient_color = None
        self.setSelected(False)
        self.setToolTip("")
        self.update_path()

    @property
    def gradient_color(self) -> "QColor | None":
        """Set by the training panel while a run trains: the wire drawn in it."""
        return self._gradient_color

    @gradient_color.setter
    def gradient_color(self, color: "QColor | None") -> None:
        self._gradient_color = color
        scene = self.scene()
        if scene is not None and hasattr(scene, "wires_changed"):
            scene.wires_changed()  # zoomed out the scene draws the wires: it must know

    def set_label(self, text: str) -> None:
        if text != self.label:
            self.label = text
            self.update_path()

    def update_path(self) -> None:
        self.prepareGeometryChange()
        a = self.src_port.scenePos()
        b = self.dst_port.scenePos()
        self._a, self._b = a, b
        self._path = None
        # the S-curve is symmetric about its middle, which is the middle of its ends
        mid = (a + b) / 2
        w = _label_width(self.label) + 10 if self.label else 0.0
        h = _metrics().height() + 4
        y = mid.y() - h / 2
        if w > abs(b.x() - a.x()) - 2 * LABEL_PORT_CLEARANCE:
            y -= h / 2 + 4  # too short a wire: sit above it instead of over the ports
        self._label_rect = QRectF(mid.x() - w / 2, y, w, h)
        # the curve lies inside its control points' box (its y runs from one end's to the other's)
        dx = _reach(a, b)
        left, right = min(a.x(), b.x() - dx), max(b.x(), a.x() + dx)
        top, bottom = min(a.y(), b.y()), max(a.y(), b.y())
        curve = QRectF(left, top, right - left, bottom - top)
        self._bounds = curve.adjusted(-4, -4, 4, 4).united(self._label_rect.adjusted(-1, -1, 1, 1))
        self.update()

    def path(self) -> QPainterPath:
        """The wire's curve."""
        if self._path is None:
            self._path = wire_path(self._a, self._b)
        return self._path

    def label_rect(self) -> QRectF:
        return QRectF(self._label_rect)

    def ends(self) -> tuple[QPointF, QPointF]:
        """Where the wire starts and ends (its ports' centres)."""
        return self._a, self._b

    def boundingRect(self) -> QRectF:
        return self._bounds

    def shape(self) -> QPainterPath:
        stroker = QPainterPathStroker()
        stroker.setWidth(10)
        path = stroker.createStroke(self.path())
        path.addRect(self._label_rect)
        return path

    def paint(self, painter: QPainter, option, widget=None) -> None:
        t = theme.current()
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        # Far out, hundreds of wires are hairlines: skip antialiasing and labels.
        painter.setRenderHint(QPainter.Antialiasing, lod >= FAR_LOD)
        if self.isSelected():
            color, width = QColor(t.selection), 2.6
        elif self.hovered:
            color, width = QColor(t.wire_hover), 2.4
        elif self.gradient_color is not None:
            color, width = QColor(self.gradient_color), 3.0
        else:
            color, width = None, 1.8  # the common case: the theme's wire pen, made once
        painter.setPen(_wire_pen(t.wire) if color is None else QPen(color, width, Qt.SolidLine, Qt.RoundCap))
        painter.setBrush(Qt.NoBrush)
        if lod < FAR_LOD:
            painter.drawLine(self._a, self._b)  # zoomed out: straight, like the ports it joins, gone
            return
        painter.drawPath(self.path())
        if self.label:
            painter.setPen(QPen(QColor(t.wire) if color is None else color, 1.0))
            painter.setBrush(QColor(t.label_bg))
            painter.drawRoundedRect(self._label_rect, 4, 4)
            painter.setFont(_label_font)
            painter.setPen(QColor(t.label_text))
            painter.drawText(self._label_rect, Qt.AlignCenter, self.label)

    def hoverEnterEvent(self, event) -> None:
        self.hovered = True
        self.update()

    def hoverLeaveEvent(self, event) -> None:
        self.hovered = False
        self.update()


class PendingWireItem(QGraphicsItem):
    """The wire being drawn; red with its reason while the target would be refused."""

    def __init__(self, start: QPointF, from_output: bool):
        super().__init__()
        self.start = start
        self.end = start
        self.from_output = from_output
        self.refused = ""
        self._path = QPainterPath()
        self.setZValue(3)

    def set_end(self, end: QPointF, refused: str = "") -> None:
        self.prepareGeometryChange()
        self.end = end
        self.refused = refused
        a, b = (self.start, end) if self.from_output else (end, self.start)
        self._path = wire_path(a, b)
        self.update()

    def boundingRect(self) -> QRectF:
        rect = self._path.boundingRect().adjusted(-4, -4, 4, 4)
        if self.refused:
            rect = rect.united(QRectF(self.end.x() + 10, self.end.y() + 10, 420, 22))
        return rect

    def paint(self, painter: QPainter, option, widget=None) -> None:
        t = theme.current()
        painter.setRenderHint(QPainter.Antialiasing)
        color = QColor(t.wire_refused if self.refused else t.wire_hover)
        painter.setPen(QPen(color, 2.0, Qt.DashLine, Qt.RoundCap))
        # The view does not save painter state between items: without this the
        # last item's brush fills the curve.
        painter.setBrush(Qt.NoBrush)
        painter.drawPath(self._path)
        if self.refused:
            painter.setFont(_label_font)
            fm = QFontMetricsF(_label_font)
            rect = QRectF(self.end.x() + 12, self.end.y() + 12, fm.horizontalAdvance(self.refused) + 12, 18)
            painter.setPen(QPen(color, 1.0))
            painter.setBrush(QColor(t.label_bg))
            painter.drawRoundedRect(rect, 4, 4)
            painter.drawText(rect, Qt.AlignCenter, self.refused)
