"""A square pad to draw on with the mouse: thick white strokes on black.

The strokes go into a grey image of fixed resolution (``SIDE`` pixels a side,
whatever the widget's size), which ``gray()`` hands over as floats in 0..1,
1 where there is ink. ``strokeChanged`` is emitted on every segment drawn and
once more when the button is released (``strokeEnded``). An image file dropped
on the pad, or shown with ``show_image``, replaces the drawing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

SIDE = 256  # the drawing's resolution, in pixels a side
STROKE = 0.14  # pen width as a share of the side: a digit's stroke, once the drawing is fitted to its frame
MIN_PX = 220  # the pad on screen, at least
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".pgm", ".ppm", ".tif", ".tiff", ".webp")


def fit_to_frame(gray: np.ndarray, margin: float = 0.06, threshold: float = 0.05) -> np.ndarray:
    """The ink's bounding box, centred in a square with ``margin`` of its side free around it: a digit
    drawn small or in a corner looks like the centred, frame-filling digits a network learnt from.
    A blank drawing comes back unchanged."""
    ys, xs = np.nonzero(gray > threshold)
    if len(ys) == 0:
        return gray
    top, bottom, left, right = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    ink = gray[top:bottom, left:right]
    h, w = ink.shape
    side = int(np.ceil(max(h, w) / (1 - 2 * margin)))
    out = np.zeros((side, side), dtype=gray.dtype)
    y0, x0 = (side - h) // 2, (side - w) // 2
    out[y0:y0 + h, x0:x0 + w] = ink
    return out


def grey_of(image: QImage) -> np.ndarray:
    """[H, W] float32 in 0..1 of any QImage."""
    g = image.convertToFormat(QImage.Format.Format_Grayscale8)
    h, w, stride = g.height(), g.width(), g.bytesPerLine()
    buf = np.frombuffer(g.constBits(), dtype=np.uint8, count=stride * h).reshape(h, stride)[:, :w]
    return buf.astype(np.float32) / 255.0


class DrawPad(QWidget):
    strokeChanged = Signal()  # a segment was drawn (or the drawing cleared or replaced)
    strokeEnded = Signal()  # the mouse button went up
    imageDropped = Signal(str)  # the path of an image file dropped on the pad

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("draw_pad")
        self.canvas = QImage(SIDE, SIDE, QImage.Format.Format_Grayscale8)
        self.canvas.fill(0)
        self.shown: QImage | None = None  # an opened image, shown in place of the drawing
        self.strokes = 0  # segments drawn since the last clear
        self._last: QPointF | None = None
        self.setMinimumSize(MIN_PX, MIN_PX)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAcceptDrops(True)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip("Draw with the mouse (left button). Drop an image file here to try it instead.")

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        return QSize(MIN_PX + 40, MIN_PX + 40)

    # ---- what others call ----------------------------------------------------
    @property
    def is_blank(self) -> bool:
        return self.shown is None and self.strokes == 0

    def clear(self) -> None:
        self.canvas.fill(0)
        self.shown = None
        self.strokes = 0
        self._last = None
        self.update()
        self.strokeChanged.emit()

    def gray(self) -> np.ndarray:
        """The drawing, [SIDE, SIDE] floats 0..1 (1: ink)."""
        return grey_of(self.canvas)

    def show_image(self, image: QImage) -> None:
        """Show an opened image on the pad; drawing on it starts a new drawing."""
        self.shown = image
        self.canvas.fill(0)
        self.strokes = 0
        self.update()

    # ---- drawing ---------------------------------------------------------------
    def _square(self) -> QRectF:
        side = min(self.width(), self.height())
        return QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)

    def _to_canvas(self, pos: QPointF) -> QPointF:
        sq = self._square()
        return QPointF((pos.x() - sq.left()) * SIDE / sq.width(), (pos.y() - sq.top()) * SIDE / sq.height())

    def _segment(self, a: QPointF, b: QPointF) -> None:
        painter = QPainter(self.canvas)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(QColor(255, 255, 255), STROKE * SIDE, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                   Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        painter.drawLine(a, b)
        painter.end()
        self.strokes += 1
        self.update()
        self.strokeChanged.emit()

    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt name)
        if event.button() != Qt.MouseButton.LeftButton:
            return super().mousePressEvent(event)
        if self.shown is not None:
            self.shown = None  # drawing over an opened image starts a fresh drawing
        p = self._to_canvas(event.position())
        self._last = p
        self._segment(p, p)  # a click leaves a dot

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 (Qt name)
        if self._last is None or not (event.buttons() & Qt.MouseButton.LeftButton):
            return super().mouseMoveEvent(event)
        p = self._to_canvas(event.position())
        self._segment(self._last, p)
        self._last = p

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 (Qt name)
        if event.button() != Qt.MouseButton.LeftButton or self._last is None:
            return super().mouseReleaseEvent(event)
        p = self._to_canvas(event.position())
        if p != self._last:
            self._segment(self._last, p)
        self._last = None
        self.strokeEnded.emit()

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt name)
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().window())
        sq = self._square()
        painter.fillRect(sq, QColor(0, 0, 0))
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        if self.shown is not None:
            img = self.shown
            scale = min(sq.width() / max(1, img.width()), sq.height() / max(1, img.height()))
            w, h = img.width() * scale, img.height() * scale
            painter.drawImage(QRectF(sq.center().x() - w / 2, sq.center().y() - h / 2, w, h), img)
        else:
            painter.drawImage(sq, self.canvas)
        painter.setPen(QPen(QColor(128, 128, 128), 1))
        painter.drawRect(sq.adjusted(0, 0, -1, -1))
        painter.end()

    # ---- image files dropped on the pad ------------------------------------------
    @staticmethod
    def _image_path(event) -> str | None:
        mime = event.mimeData()
        if not mime.hasUrls():
            return None
        for url in mime.urls():
            if url.isLocalFile() and Path(url.toLocalFile()).suffix.lower() in IMAGE_SUFFIXES:
                return url.toLocalFile()
        return None

    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt name)
        if self._image_path(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802 (Qt name)
        self.dragEnterEvent(event)

    def dropEvent(self, event) -> None:  # noqa: N802 (Qt name)
        path = self._image_path(event)
        if path:
            event.acceptProposedAction()
            self.imageDropped.emit(path)
        else:
            event.ignore()
