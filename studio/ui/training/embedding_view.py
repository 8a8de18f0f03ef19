"""The embedding space: an Embedding node's token vectors on their two principal axes, each point
labelled with its token, moving as the network learns. Tokens used alike gather together.

The plot is built when the tab is first shown. An axis's direction is kept from one frame to the
next (PCA may hand back either sign), so the cloud does not flip while it drifts, and the view
moves only when the cloud leaves it or shrinks well inside it. One item draws every point and
its token's text in one pass (a text item per token cost 25 ms a frame for 71 words, a scatter
item's update another millisecond); the words of a tight cluster share one label that lists
them. The probes fed are shown in turn (``FramePacer``), at most 2.5 a second.
"""

from __future__ import annotations

import time
import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPolygonF, QStaticText
from PySide6.QtWidgets import QWidget

from studio.training.events import EmbeddingPoints, ProbeEvent

from .draw_budget import MeteredPlotWidget
from .node_tab import NodeTab
from .plot_style import plot_colors, steady_plot

HINT = "Train to see the token vectors of an Embedding on their two main axes, labelled with their tokens."
CAPTION = ("Each point is a token's vector, projected onto the two directions along which the vectors differ "
           "most (PCA). Tokens the network uses alike move close together.")
POINT = "#4c9be8"
POINT_PX = 7
LABEL_OFFSET = QPointF(5, -16)  # pixels right of and above a point: a static text's top left corner
GROUP_PX = 10  # points this close on screen share one label: the words of a tight cluster, listed
WORDS_PER_LINE = 4
FRAME_S = 0.4  # a frame shown at most this often: 2.5 a second (a fast run probes five times a second)


def label_groups(px: np.ndarray, py: np.ndarray, near: float = GROUP_PX) -> list[np.ndarray]:
    """Indices of the points that share a label: chains of points each within ``near`` pixels of
    the next (a cluster's words stacked on one spot would be unreadable), in the points' order.
    Each point takes the smallest index among its neighbours until none changes (a few rounds of
    whole-array work: this runs on every paint)."""
    close = (px[:, None] - px[None, :]) ** 2 + (py[:, None] - py[None, :]) ** 2 <= near * near
    label = np.arange(len(px))
    while True:
        smaller = np.where(close, label[None, :], len(px)).min(axis=1)
        if np.array_equal(smaller, label):
            break
        label = smaller
    order = np.argsort(label, kind="stable")
    _, starts = np.unique(label[order], return_index=True)
    return np.split(order, starts[1:])


class TokenCloud(pg.GraphicsObject):
    """Every token as a dot with its text beside it, drawn in one pass in pixel space (the same
    size at any zoom); tokens on one spot share a label that lists them."""

    def __init__(self) -> None:
        super().__init__()
        self.points = np.zeros((0, 2))
        self.texts: list[str] = []
        self.lines: list[tuple[float, float, str]] = []  # the label lines of the last paint, in pixels
        self._static: dict[str, tuple[QStaticText, float]] = {}  # each piece laid out once (and its width)
        self.color = QColor(plot_colors().text)

    def set_data(self, points: np.ndarray, texts: list[str]) -> None:
        if texts != self.texts:
            self._static = {}
        self.points, self.texts = points, texts
        self.update()

    def set_color(self, color: str) -> None:
        self.color = QColor(color)
        self.update()

    def _static_text(self, line: str) -> tuple[QStaticText, float]:
        found = self._static.get(line)
        if found is None:
            static = QStaticText(line)
            found = self._static[line] = (static, static.size().width())
        return found

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt name)
        # the whole visible area: texts reach past their points by a number of pixels, not of units
        rect = self.viewRect()
        return QRectF() if rect is None else QRectF(rect)  # a copy: handing back pyqtgraph's own crashed Qt

    def viewRangeChanged(self) -> None:  # noqa: N802 (pyqtgraph name)
        self.prepareGeometryChange()

    def paint(self, painter: QPainter, *_args) -> None:
        if not self.texts:
            return
        t = painter.transform()  # item to pixels, as the view set it up for this paint
        x, y = self.points[:, 0], self.points[:, 1]
        px, py = t.m11() * x + t.m21() * y + t.m31(), t.m12() * x + t.m22() * y + t.m32()
        painter.save()
        painter.resetTransform()
        painter.setPen(QPen(QColor(POINT), POINT_PX, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        xs, ys = px.tolist(), py.tolist()
        painter.drawPoints(QPolygonF(list(map(QPointF, xs, ys))))
        painter.setPen(self.color)
        metrics = painter.fontMetrics()
        step, space = metrics.lineSpacing(), metrics.horizontalAdvance(" ")
        dx, dy = LABEL_OFFSET.x(), LABEL_OFFSET.y()
        texts = self.texts
        self.lines = []
        placed: list[tuple[float, float, float, float]] = []  # left, top, right, bottom of labels drawn
        for group in label_groups(px, py):
            members = group.tolist()
            # each word drawn on its own, "cat," and "dog" laid out once: a group's words change
            # from frame to frame, and laying out each new list of them cost more than drawing
            last = len(members) - 1
            pieces = [self._static_text(texts[i] + ("," if n < last else "")) for n, i in enumerate(members)]
            rows = [pieces[k:k + WORDS_PER_LINE] for k in range(0, len(pieces), WORDS_PER_LINE)]
            left, top = xs[members[0]] + dx, ys[members[0]] + dy
            right = left + max(sum(w for _, w in row) + space * (len(row) - 1) for row in rows)
            height = step * len(rows)
            for _ in range(3):  # moved below a label already there, a few times at most
                below = [b for lo, tp, hi, b in placed if lo < right and hi > left and tp < top + height and b > top]
                if not below:
                    break
                top = max(below) + 1
            placed.append((left, top, right, top + height))
            for k, row in enumerate(rows):
                x, y = left, top + step * k
                for static, w in row:
                    painter.drawStaticText(QPointF(x, y), static)
                    x += w + space
                self.lines.append((left, y, ", ".join(texts[i] for i in members[k * WORDS_PER_LINE:
                                                                                 (k + 1) * WORDS_PER_LINE])))
        painter.restore()


class EmbeddingView(NodeTab):
    HINT = HINT
    CAPTION = CAPTION

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("embedding", "The Embedding node whose vectors are shown", (), parent)
        self.points: np.ndarray | None = None  # [tokens, 2] as drawn last (signs kept steady)
        self.shown_labels: list[str] = []
        self._shown_node: str | None = None
        self._range: tuple[float, float, float, float] | None = None  # x0, x1, y0, y1 in view
        self._fed_at: float | None = None  # when frames were last handed to the pacer

    def holds(self, probe: ProbeEvent) -> bool:
        return bool(probe.embeddings)

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and self.plot_widget is not None:
            self.cloud.set_color(plot_colors().text)

    def build_plot(self) -> None:
        self.plot_widget = MeteredPlotWidget(background=plot_colors().background)
        plot = self.plot = self.plot_widget.getPlotItem()
        # fixed names: a name that changed with the variance shares laid the axes out on every frame
        plot.setLabel("left", "principal axis 2")
        plot.setLabel("bottom", "principal axis 1")
        self.cloud = TokenCloud()
        plot.addItem(self.cloud, ignoreBounds=True)
        steady_plot(plot)

    def forget(self) -> None:
        self.points = None
        self._shown_node = None
        self._range = None
        self._fed_at = None
        self.shown_labels = []
        if self.plot_widget is not None:
            self.cloud.set_data(np.zeros((0, 2)), [])

    def pace(self, frames: list[ProbeEvent]) -> list[ProbeEvent]:
        # as many of the newest frames as fit the time since the last hand-over, evenly spread
        now = time.monotonic()
        room = max(1, round((now - self._fed_at) / FRAME_S)) if self._fed_at is not None else 1
        self._fed_at = now
        return frames[::-1][::max(1, -(-len(frames) // room))][::-1]

    # ---- drawing ------------------------------------------------------------
    def draw(self, probe: ProbeEvent) -> bool:
        node = self.choose_node(list(probe.embeddings))
        found: EmbeddingPoints | None = probe.embeddings.get(node)
        if found is None:
            return False
        points = np.array(found.points, dtype=float)
        if self.points is not None and node == self._shown_node and self.points.shape == points.shape:
            # PCA's axes have no preferred sign: keep the one shown, so the cloud drifts, never flips
            flip = np.einsum("ij,ij->j", points, self.points) < 0
            points[:, flip] *= -1
        self.points, self._shown_node = points, node
        self.shown_labels = list(found.labels)
        self.cloud.set_data(points, self.shown_labels)
        self._fit(points)
        a, b = found.explained
        title = f"{node}: {len(points)} tokens"
        if self.plot.titleLabel.text != title:
            self.plot.setTitle(title, color=plot_colors().text)
        self.step_label.setText(f"step {probe.step} (epoch {probe.epoch}), the axes hold {a:.0%} + {b:.0%} "
                                "of the variance")
        return True

    def _fit(self, points: np.ndarray) -> None:
        """The cloud in view, with room for the labels right of and above the points. The view
        moves when the cloud leaves it or fills under a third of it, not on every frame (a moved
        view draws its axes again); a cloud that grows as it learns gets room to grow."""
        lo, hi = points.min(axis=0), points.max(axis=0)
        span = np.maximum(hi - lo, 1e-6)
        margin = 0.2
        if self._range is not None:
            x0, x1, y0, y1 = self._range
            inside = x0 <= lo[0] and hi[0] <= x1 and y0 <= lo[1] and hi[1] <= y1
            if inside and span[0] > (x1 - x0) / 3 and span[1] > (y1 - y0) / 3:
                return
            if not inside:
                margin = 0.35
        # a margin each side, more on the right and at the top for the texts
        self._range = (lo[0] - margin * span[0], hi[0] + (margin + 0.15) * span[0],
                       lo[1] - margin * span[1], hi[1] + (margin + 0.1) * span[1])
        x0, x1, y0, y1 = self._range
        self.plot.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
