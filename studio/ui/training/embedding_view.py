"""The embedding space: an Embedding node's token vectors on their two principal axes, each point
labelled with its token, moving as the network learns. Tokens used alike gather together.

The plot is built when the tab is first shown. An axis's direction is kept from one frame to the
next (PCA may hand back either sign), so the cloud does not flip while it drifts. Each probe fed
is shown in turn (``FramePacer``).
"""

from __future__ import annotations

from typing import Iterable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from studio.training.events import EmbeddingPoints, ProbeEvent

from .draw_budget import MeteredPlotWidget
from .pacing import FramePacer
from .plot_style import plot_colors, steady_plot

HINT = "Train to see the token vectors of an Embedding on their two main axes, labelled with their tokens."
CAPTION = ("Each point is a token's vector, projected onto the two directions along which the vectors differ "
           "most (PCA). Tokens the network uses alike move close together.")
POINT = "#4c9be8"


class EmbeddingView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.node_box = QComboBox()
        self.node_box.setObjectName("embedding_node")
        self.node_box.setToolTip("The Embedding node whose vectors are shown")
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Node"))
        controls.addWidget(self.node_box, 1)
        self.caption = QLabel(HINT)
        self.caption.setWordWrap(True)
        self.box = QVBoxLayout(self)
        self.box.setContentsMargins(0, 0, 0, 0)
        self.box.addLayout(controls)
        self.box.addWidget(self.caption)
        # Made when the tab is first shown (``_ensure_plot``).
        self.plot_widget: MeteredPlotWidget | None = None
        self.labels: list[pg.TextItem] = []
        self.probe: ProbeEvent | None = None
        self.points: np.ndarray | None = None  # [tokens, 2] as drawn last (signs kept steady)
        self.shown_labels: list[str] = []
        self._shown_node: str | None = None
        self.redraws = 0
        self.pacer = FramePacer(self._take, self)
        self.node_box.currentIndexChanged.connect(self._redraw)

    # ---- building -----------------------------------------------------------
    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        self._ensure_plot()
        super().showEvent(event)
        self._redraw()

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and self.labels:
            text = plot_colors().text
            for item in self.labels:
                item.setColor(text)

    def _ensure_plot(self) -> None:
        if self.plot_widget is not None:
            return
        self.plot_widget = MeteredPlotWidget(background=plot_colors().background)
        self.plot_widget.setObjectName("embedding_plot")
        plot = self.plot = self.plot_widget.getPlotItem()
        plot.showGrid(x=True, y=True, alpha=0.2)
        plot.setLabel("left", "principal axis 2")
        plot.setLabel("bottom", "principal axis 1")
        self.scatter = pg.ScatterPlotItem(size=7, pen=None, brush=pg.mkBrush(POINT))
        plot.addItem(self.scatter)
        steady_plot(plot)
        self.box.insertWidget(1, self.plot_widget, 1)

    # ---- feeding ------------------------------------------------------------
    def clear(self) -> None:
        """No run yet: no nodes, no points, the hint."""
        self.pacer.clear()
        self.probe = None
        self.points = None
        self._shown_node = None
        self.redraws = 0
        self.node_box.clear()
        self.caption.setText(HINT)
        if self.plot_widget is not None:
            self.scatter.setData([], [])
            self._set_labels([])
            self.plot.setTitle("")

    def feed(self, events: Iterable[object]) -> None:
        frames = [ev for ev in events if isinstance(ev, ProbeEvent) and ev.embeddings]
        if not frames:
            return
        if self.isVisible():
            self.pacer.push(frames)
        else:  # drawn when the tab is shown
            self.pacer.clear()
            self.probe = frames[-1]

    def catch_up(self) -> None:
        """Show the newest probe fed now, skipping any still waiting their turn."""
        self.pacer.finish()

    def _take(self, probe: ProbeEvent) -> None:
        self.probe = probe
        self._redraw()

    # ---- drawing ------------------------------------------------------------
    def _chosen(self, probe: ProbeEvent) -> tuple[str, EmbeddingPoints] | None:
        nodes = list(probe.embeddings)
        if [self.node_box.itemText(i) for i in range(self.node_box.count())] != nodes:
            keep = self.node_box.currentText()
            self.node_box.blockSignals(True)
            self.node_box.clear()
            self.node_box.addItems(nodes)
            self.node_box.setCurrentIndex(nodes.index(keep) if keep in nodes else 0)
            self.node_box.blockSignals(False)
        node = self.node_box.currentText()
        return (node, probe.embeddings[node]) if node in probe.embeddings else None

    def _redraw(self, *_args) -> None:
        probe = self.probe
        if probe is None or self.plot_widget is None or not self.isVisible():
            return
        chosen = self._chosen(probe)
        if chosen is None:
            return
        node, found = chosen
        points = np.array(found.points, dtype=float)
        if self.points is not None and node == self._shown_node and self.points.shape == points.shape:
            # PCA's axes have no preferred sign: keep the one shown, so the cloud drifts, never flips
            flip = np.einsum("ij,ij->j", points, self.points) < 0
            points[:, flip] *= -1
        self.points, self._shown_node = points, node
        self.scatter.setData(points[:, 0], points[:, 1])
        if list(found.labels) != self.shown_labels:
            self._set_labels(list(found.labels))
        for item, (x, y) in zip(self.labels, points):
            item.setPos(x, y)
        self._fit(points)
        a, b = found.explained
        self.plot.setLabel("bottom", f"principal axis 1 ({a:.0%} of the variance)")
        self.plot.setLabel("left", f"principal axis 2 ({b:.0%})")
        self.plot.setTitle(f"{node}: {len(points)} tokens at step {probe.step} (epoch {probe.epoch})",
                           color=plot_colors().text)
        self.caption.setText(CAPTION)
        self.redraws += 1

    def _set_labels(self, labels: list[str]) -> None:
        for item in self.labels:
            self.plot.removeItem(item)
        text = plot_colors().text
        self.labels = [pg.TextItem(label, color=text, anchor=(0, 1)) for label in labels]
        for item in self.labels:
            self.plot.addItem(item, ignoreBounds=True)
        self.shown_labels = labels

    def _fit(self, points: np.ndarray) -> None:
        """The cloud in view, with room for the labels beside the points."""
        lo, hi = points.min(axis=0), points.max(axis=0)
        span = np.maximum(hi - lo, 1e-6)
        self.plot.setRange(xRange=(lo[0] - 0.05 * span[0], hi[0] + 0.15 * span[0]),
                           yRange=(lo[1] - 0.05 * span[1], hi[1] + 0.1 * span[1]), padding=0)
