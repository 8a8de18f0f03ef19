"""Levels of detail of the canvas, chosen by the view's scale.

- ``FULL`` (scale >= 0.4): everything: titles, body text, ports, curved wires with their shapes.
- ``FAR`` (0.12 - 0.4): the body text is too small to read: each node is its coloured box with its
  name in a font of a readable size on screen; no ports, no wire labels, wires straight, all drawn
  at once from one path under the nodes (in the view's cached background, so a pan copies them).
- ``OVERVIEW`` (below 0.12): plain boxes and straight wires, no text. Thousands of nodes can be in
  view, so the items do not paint themselves at all (a Python call per item per frame is what made a
  zoomed-out pan slow): :class:`Overview` draws them all in a few calls from paths built once per
  change.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPoint, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen

from .. import theme

FULL, FAR, OVERVIEW = "full", "far", "overview"
FAR_LOD = 0.4
OVERVIEW_LOD = 0.12
# The overview is kept as a picture at the view's scale while it is no larger than this
# (pixels): a pan then copies it instead of filling thousands of boxes again.
PICTURE_PIXELS = 16_000_000


def detail_for(scale: float) -> str:
    """The level of detail at this scale (1.0 is 100%)."""
    if scale >= FAR_LOD:
        return FULL
    return FAR if scale >= OVERVIEW_LOD else OVERVIEW


class Overview:
    """Every node as a plain box (its header band in its colour) and every wire as a straight line,
    drawn from paths built once and again only after something changed (``dirty``), and kept as a
    picture at the view's scale until the scale or the paths change."""

    def __init__(self) -> None:
        self.dirty = True
        self.builds = 0  # how many times the paths were built (tests count it)
        self._bodies = QPainterPath()
        self._headers: list[tuple[QColor, QPainterPath]] = []
        self._selected = QPainterPath()
        self._wires: list[tuple[QColor, float, QPainterPath]] = []  # colour, pixels wide, lines
        self._with_boxes = False
        self._bounds = QRectF()
        self._picture: QImage | None = None
        self._picture_key: tuple = ()

    def needs(self, boxes: bool) -> bool:
        """Must the paths be built again, to draw the wires (and the boxes when ``boxes``)?"""
        return self.dirty or (boxes and not self._with_boxes)

    def build(self, nodes, edges, boxes: bool = True) -> None:
        """``nodes``: the scene's node items; ``edges``: its wire items; the boxes only when ``boxes``."""
        t = theme.current()
        bodies, selected = QPainterPath(), QPainterPath()
        bodies.setFillRule(Qt.WindingFill)
        headers: dict[str, QPainterPath] = {}
        for item in nodes if boxes else ():
            p = item.pos()
            x, y, w, h = p.x(), p.y(), item.width, item.height
            bodies.addRect(x, y, w, h)
            color = item.header_color().name()
            path = headers.get(color)
            if path is None:
                path = headers[color] = QPainterPath()
                path.setFillRule(Qt.WindingFill)
            path.addRect(x, y, w, item.header_height)
            if item.isSelected():
                selected.addRect(x - 2, y - 2, w + 4, h + 4)
        # wires by look: the theme's, selected, or coloured by a run's gradients
        wires: dict[tuple[str, float], QPainterPath] = {}
        for item in edges:
            a, b = item.ends()
            if item.isSelected():
                key = (t.selection, 2.0)
            elif item.gradient_color is not None:
                key = (item.gradient_color.name(), 2.0)
            else:
                key = (t.wire, 0.0)
            path = wires.get(key)
            if path is None:
                path = wires[key] = QPainterPath()
            path.moveTo(a)
            path.lineTo(b)
        plain = wires.pop((t.wire, 0.0), None)
        self._wires = ([(QColor(t.wire), 0.0, plain)] if plain is not None else []) + [
            (QColor(c), w, p) for (c, w), p in wires.items()]
        self._bodies, self._selected, self._with_boxes = bodies, selected, boxes
        self._headers = [(QColor(c), p) for c, p in headers.items()]
        bounds = bodies.boundingRect()
        for _c, _w, path in self._wires:
            bounds = bounds.united(path.boundingRect())
        self._bounds = bounds
        self.dirty = False
        self.builds += 1
        self._picture = None

    def paint(self, painter: QPainter) -> None:
        """Draw onto ``painter``, whose transform maps the scene to the device."""
        m = painter.worldTransform()
        scale = m.m11()
        if self._bounds.isEmpty() or m.m12() or m.m21() or scale <= 0 or abs(m.m22() - scale) > 1e-9:
            self._draw(painter)
            return
        margin = 3.0 / scale
        bounds = self._bounds.adjusted(-margin, -margin, margin, margin)
        w, h = math.ceil(bounds.width() * scale), math.ceil(bounds.height() * scale)
        if w * h > PICTURE_PIXELS:
            self._draw(painter)
            return
        key = (scale, self.builds, id(theme.current()))
        if self._picture is None or self._picture_key != key:
            image = QImage(w, h, QImage.Format_ARGB32_Premultiplied)
            image.fill(Qt.transparent)
            p = QPainter(image)
            p.scale(scale, scale)
            p.translate(-bounds.left(), -bounds.top())
            self._draw(p)
            p.end()
            self._picture, self._picture_key = image, key
        at = m.map(bounds.topLeft())
        painter.save()
        painter.resetTransform()
        painter.drawImage(QPoint(round(at.x()), round(at.y())), self._picture)
        painter.restore()

    def paint_wires(self, painter: QPainter) -> None:
        """The wires alone, straight (the nodes draw themselves above them)."""
        painter.save()
        painter.setRenderHint(QPainter.Antialiasing, False)
        painter.setBrush(Qt.NoBrush)
        for color, width, path in self._wires:
            pen = QPen(color, width)
            pen.setCosmetic(True)  # so many pixels on screen at any scale (0: one)
            painter.setPen(pen)
            painter.drawPath(path)
        painter.restore()

    def _draw(self, painter: QPainter) -> None:
        t = theme.current()
        self.paint_wires(painter)
        painter.save()
        painter.setRenderHint(QPainter.Antialiasing, False)
        painter.setPen(QPen(QColor(t.node_border), 0))
        painter.setBrush(QColor(t.node_body))
        painter.drawPath(self._bodies)
        painter.setPen(Qt.NoPen)
        for color, path in self._headers:
            painter.setBrush(color)
            painter.drawPath(path)
        if not self._selected.isEmpty():
            painter.setBrush(Qt.NoBrush)
            pen = QPen(QColor(t.selection), 2.0)
            pen.setCosmetic(True)  # two pixels on screen, however far out
            painter.setPen(pen)
            painter.drawPath(self._selected)
        painter.restore()
