"""The decision boundary of a 2-D classifier: its prediction field under the data points.

Every probe it is fed is shown in turn (``FramePacer``), so the regions can be
seen bending around the data as the network learns, and the title names the
step of the frame shown. One image item and one scatter item, updated in place.
A data set that is not 2-D points gets a message in place of an empty plot.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QLabel, QStackedWidget, QVBoxLayout, QWidget

from studio.training.events import ProbeEvent

from .draw_budget import MeteredPlotWidget
from .pacing import FramePacer
from .plot_style import steady_plot, plot_colors
from .colors import class_color, prediction_field


TITLE = "Decision boundary"
EMPTY = ("No decision boundary to draw for this data set.\n\nA decision boundary is drawn for "
         "classification of 2-D points (xor, spiral, moons, circles, blobs): the colour shows the class the "
         "network predicts at each point of the plane. For other data, the Activations and Gradient flow "
         "tabs show how the network learns.")


class BoundaryView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot_widget = MeteredPlotWidget(background=plot_colors().background)
        self.plot: pg.PlotItem = self.plot_widget.getPlotItem()
        self.plot.setAspectLocked(True)
        self.plot.setLabel("bottom", "x₁")
        self.plot.setLabel("left", "x₂")
        self.plot.setTitle(TITLE)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.points = pg.ScatterPlotItem(size=5, pen=pg.mkPen("w", width=0.5))
        self.plot.addItem(self.points)
        self.caption = QLabel("For 2-D classification (spiral, moons, XOR): the colour is the class the "
                              "network predicts at each point, paler where it is unsure; dots are the data.")
        self.caption.setWordWrap(True)
        steady_plot(self.plot)
        self.empty_label = QLabel(EMPTY)
        self.empty_label.setObjectName("boundary_empty")
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setMargin(24)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.plot_widget)
        self.stack.addWidget(self.empty_label)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.stack, 1)
        box.addWidget(self.caption)
        self.n_classes: int | None = None
        self.has_points = False
        self.last_step: int | None = None
        self.last_epoch: int | None = None
        self.redraws = 0  # frames drawn since the last clear()
        self.field: np.ndarray | None = None  # the last RGB field drawn
        self._rect: QRectF | None = None
        self.pacer = FramePacer(self._draw, self)
        self._show_state()

    @property
    def is_empty(self) -> bool:
        """Showing the message that this data set has no boundary to draw."""
        return self.stack.currentWidget() is self.empty_label

    def _show_state(self) -> None:
        self.stack.setCurrentWidget(self.plot_widget if self.has_points or self.field is not None
                                    else self.empty_label)

    def set_points(self, points: np.ndarray | None, labels: np.ndarray | None, n_classes: int | None = None) -> None:
        """The data drawn over the field (a sample of the training set); None: this data set
        is not 2-D points, and the view says so instead of showing an empty plot."""
        self.n_classes = n_classes
        if points is None or len(points) == 0:
            self.points.setData([], [])
            self.has_points = False
        else:
            points = np.asarray(points, dtype=float)
            labels = np.zeros(len(points), dtype=int) if labels is None else np.asarray(labels).astype(int)
            brushes = [pg.mkBrush(*class_color(c)) for c in labels]
            self.points.setData(points[:, 0], points[:, 1], brush=brushes)
            self.has_points = True
            if self.field is None:
                self._rect = None
                self.plot.enableAutoRange()
        self._show_state()

    def clear(self) -> None:
        """Back to no frame: the data alone under the title, or the message."""
        self.pacer.clear()
        self.image.clear()
        self.field = None
        self.last_step = self.last_epoch = None
        self.redraws = 0
        self._rect = None
        self.plot.setTitle(TITLE)
        self.plot.enableAutoRange()
        self._show_state()

    def feed(self, events: Iterable[object]) -> None:
        frames = [ev for ev in events if isinstance(ev, ProbeEvent) and ev.boundary is not None]
        self.pacer.push(frames, animate=self.isVisible())

    def catch_up(self) -> None:
        """Show the newest frame fed now, skipping any still waiting their turn."""
        self.pacer.finish()

    def _draw(self, probe: ProbeEvent) -> None:
        grid = probe.boundary
        rgb = prediction_field(grid.classes, grid.confidence, self.n_classes)
        self.field = rgb  # before setImage, whose signal listeners may look at it
        self.last_step, self.last_epoch = probe.step, probe.epoch
        self.image.setImage(rgb, autoLevels=False, levels=(0, 255))
        xs, ys = np.asarray(grid.xs, float), np.asarray(grid.ys, float)
        dx = (xs[-1] - xs[0]) / max(1, len(xs) - 1)
        dy = (ys[-1] - ys[0]) / max(1, len(ys) - 1)
        # Cell centres are at xs/ys: the image spans half a cell beyond them.
        rect = QRectF(xs[0] - dx / 2, ys[0] - dy / 2, dx * len(xs), dy * len(ys))
        self.image.setRect(rect)
        if self._rect is None or not _near(rect, self._rect):
            # the field's extent is the view: set once, not auto-ranged on every redraw (a coarser
            # grid spans the same box give or take half a cell)
            self._rect = rect
            self.plot.setRange(rect, padding=0.02)
        self.redraws += 1
        self.plot.setTitle(f"{TITLE} at step {probe.step} (epoch {probe.epoch})")
        if self.stack.currentWidget() is not self.plot_widget:
            self.stack.setCurrentWidget(self.plot_widget)


def _near(a: QRectF, b: QRectF) -> bool:
    tol = 0.05 * max(a.width(), a.height(), 1e-12)
    return all(abs(u - v) <= tol for u, v in ((a.left(), b.left()), (a.top(), b.top()),
                                               (a.right(), b.right()), (a.bottom(), b.bottom())))
