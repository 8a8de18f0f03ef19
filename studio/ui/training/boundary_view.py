"""The decision boundary of a 2-D classifier: its prediction field under the data points.

Redrawn at each probe, so the regions can be seen bending around the data as
the network learns. One image item and one scatter item, updated in place.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from studio.training.events import ProbeEvent

from .draw_budget import MeteredPlotWidget
from .plot_style import steady_plot, plot_colors
from .palette import class_color, prediction_field


class BoundaryView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot_widget = MeteredPlotWidget(background=plot_colors().background)
        self.plot: pg.PlotItem = self.plot_widget.getPlotItem()
        self.plot.setAspectLocked(True)
        self.plot.setLabel("bottom", "x₁")
        self.plot.setLabel("left", "x₂")
        self.plot.setTitle("Decision boundary")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.points = pg.ScatterPlotItem(size=5, pen=pg.mkPen("w", width=0.5))
        self.plot.addItem(self.points)
        self.caption = QLabel("For 2-D classification (spiral, moons, XOR): the colour is the class the "
                              "network predicts at each point, paler where it is unsure; dots are the data.")
        self.caption.setWordWrap(True)
        steady_plot(self.plot)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.plot_widget, 1)
        box.addWidget(self.caption)
        self.n_classes: int | None = None
        self.last_step: int | None = None
        self.redraws = 0
        self.field: np.ndarray | None = None  # the last RGB field drawn
        self._rect: QRectF | None = None

    def set_points(self, points: np.ndarray | None, labels: np.ndarray | None, n_classes: int | None = None) -> None:
        """The data drawn over the field (a sample of the training set)."""
        self.n_classes = n_classes
        if points is None or len(points) == 0:
            self.points.setData([], [])
            return
        points = np.asarray(points, dtype=float)
        labels = np.zeros(len(points), dtype=int) if labels is None else np.asarray(labels).astype(int)
        brushes = [pg.mkBrush(*class_color(c)) for c in labels]
        self.points.setData(points[:, 0], points[:, 1], brush=brushes)

    def clear(self) -> None:
        self.image.clear()
        self.field = None
        self.last_step = None

    def feed(self, events: Iterable[object]) -> None:
        latest = None
        for ev in events:
            if isinstance(ev, ProbeEvent) and ev.boundary is not None:
                latest = ev
        if latest is None:
            return
        grid = latest.boundary
        rgb = prediction_field(grid.classes, grid.confidence, self.n_classes)
        self.field = rgb  # before setImage, whose signal listeners may look at it
        self.last_step = latest.step
        self.image.setImage(rgb, autoLevels=False, levels=(0, 255))
        xs, ys = np.asarray(grid.xs, float), np.asarray(grid.ys, float)
        dx = (xs[-1] - xs[0]) / max(1, len(xs) - 1)
        dy = (ys[-1] - ys[0]) / max(1, len(ys) - 1)
        # Cell centres are at xs/ys: the image spans half a cell beyond them.
        rect = QRectF(xs[0] - dx / 2, ys[0] - dy / 2, dx * len(xs), dy * len(ys))
        self.image.setRect(rect)
        if rect != self._rect:  # the field's extent is the view: set once, not auto-ranged on every redraw
            self._rect = rect
            self.plot.setRange(rect, padding=0.02)
        self.redraws += 1
        self.plot.setTitle(f"Decision boundary at step {latest.step} (epoch {latest.epoch})")
