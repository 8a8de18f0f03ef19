"""A quick look at a data set: a scatter plot for 2-D points, a grid of images,
a table for CSV, lines for series and text."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QStackedWidget, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from .plot_style import plot_colors
from .activation_view import tile_maps
from .colors import class_color


class DatasetPreview(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.stack = QStackedWidget()
        self.plot_widget = pg.PlotWidget(background=plot_colors().background)
        self.plot: pg.PlotItem = self.plot_widget.getPlotItem()
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.scatter = pg.ScatterPlotItem(size=5, pen=None)
        self.series = pg.PlotDataItem([], [], pen=pg.mkPen("#1f77b4", width=2))
        self.plot.addItem(self.scatter)
        self.plot.addItem(self.series)
        self.image_widget = pg.PlotWidget(background=plot_colors().background)
        self.image_plot: pg.PlotItem = self.image_widget.getPlotItem()
        self.image_plot.hideAxis("left")
        self.image_plot.hideAxis("bottom")
        self.image_plot.setAspectLocked(True)
        self.image_plot.invertY(True)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image_plot.addItem(self.image)
        self.table = QTableWidget()
        self.message = QLabel()
        self.message.setWordWrap(True)
        for w in (self.plot_widget, self.image_widget, self.table, self.message):
            self.stack.addWidget(w)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.stack)
        self.setMinimumHeight(160)
        self.kind: str | None = None

    def show_message(self, text: str) -> None:
        self.kind = None
        self.message.setText(text)
        self.stack.setCurrentWidget(self.message)

    def show_preview(self, preview) -> None:
        """``preview`` is a ``studio.data.Preview``."""
        self.kind = preview.kind
        if preview.kind == "scatter" and preview.points is not None:
            pts = np.asarray(preview.points, dtype=float)
            labels = preview.labels if preview.labels is not None else np.zeros(len(pts), int)
            brushes = [pg.mkBrush(*class_color(int(c))) for c in np.asarray(labels).reshape(-1)]
            self.series.setData([], [])
            self.scatter.setData(pts[:, 0], pts[:, 1], brush=brushes)
            self.plot.setAspectLocked(True)
            self.stack.setCurrentWidget(self.plot_widget)
        elif preview.kind == "series" and preview.points is not None:
            pts = np.asarray(preview.points, dtype=float)
            self.scatter.setData([], [])
            self.series.setData(pts[:, 0], pts[:, 1])
            self.plot.setAspectLocked(False)
            self.stack.setCurrentWidget(self.plot_widget)
        elif preview.kind == "images" and preview.images is not None:
            imgs = np.asarray(preview.images, dtype=float)
            grey = imgs.mean(axis=-1) if imgs.ndim == 4 else imgs
            self.image.setImage(tile_maps(grey, 36), autoLevels=False, levels=(0, 1))
            self.stack.setCurrentWidget(self.image_widget)
        elif preview.kind in ("table", "tokens"):
            self._fill_table(preview)
        elif preview.kind == "graph" and preview.adjacency is not None:
            adj = np.asarray(preview.adjacency, dtype=float)
            self.image.setImage(1.0 - adj, autoLevels=False, levels=(0, 1))
            self.stack.setCurrentWidget(self.image_widget)
        else:
            self.show_message(f"No preview for {preview.kind} data.")

    def _fill_table(self, preview) -> None:
        rows = list(preview.rows if preview.rows is not None else [])
        if preview.kind == "tokens":
            rows = [[r] for r in rows]
            columns = ["sample"]
        else:
            columns = list(preview.columns)
        self.table.clear()
        self.table.setColumnCount(len(columns))
        self.table.setHorizontalHeaderLabels([str(c) for c in columns])
        self.table.setRowCount(len(rows))
        for i, row in enumerate(rows):
            for j, value in enumerate(list(row)[: len(columns)]):
                text = f"{value:.4g}" if isinstance(value, (float, np.floating)) else str(value)
                self.table.setItem(i, j, QTableWidgetItem(text))
        self.stack.setCurrentWidget(self.table)
