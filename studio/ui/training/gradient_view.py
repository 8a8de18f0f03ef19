"""Gradient flow: every node's gradient norm over the run, on one log-scale plot.

A node whose gradients shrink towards nothing (vanishing) or blow up
(exploding) is flagged here and through ``flagsChanged``, so the canvas can
mark the node; ``normsChanged`` carries the latest norm per node for the
canvas to colour the wires.
"""

from __future__ import annotations

import math
from typing import Iterable

import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from studio.training.events import ProbeEvent

from .steady import SteadyLabel
from .draw_budget import MeteredPlotWidget
from .plot_style import GrowingYRange, steady_plot, plot_colors
from studio.session.buffer import GrowingBuffer
from .colors import CLASS_COLORS, gradient_flag


class GradientView(QWidget):
    normsChanged = Signal(dict)  # node id -> latest gradient L2 norm
    flagsChanged = Signal(dict)  # node id -> "vanishing" | "exploding" (only flagged nodes)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot_widget = MeteredPlotWidget(background=plot_colors().background)
        self.plot: pg.PlotItem = self.plot_widget.getPlotItem()
        self.plot.setLogMode(y=True)
        self.plot.setTitle("Gradient norm per node (log scale)")
        self.plot.setLabel("bottom", "step")
        self.plot.setLabel("left", "‖gradient‖")
        self.plot.getAxis("left").enableAutoSIPrefix(False)  # log ticks read as plain norms
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.addLegend(offset=(-10, 10))
        self.flags_label = SteadyLabel("Gradients appear here once training runs.", lines=3)
        steady_plot(self.plot)
        self.y_range = GrowingYRange(self.plot, log=True)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.plot_widget, 1)
        box.addWidget(self.flags_label)
        self.buffers: dict[str, GrowingBuffer] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.latest: dict[str, float] = {}
        self.flags: dict[str, str] = {}
        self._stale: set[str] = set()  # curves fed while hidden, drawn when shown

    def set_run_length(self, steps: int | None) -> None:
        """Fix the step axis to the whole run (see LossView.set_run_length)."""
        for p in (self.plot,):
            if steps:
                p.setXRange(0, steps, padding=0.01)
            else:
                p.enableAutoRange(x=True)

    def clear(self) -> None:
        """Back to the empty state: no curves and no legend entries (a new document's nodes are not
        the last one's), no flags."""
        for node, curve in self.curves.items():
            if self.plot.legend is not None:
                self.plot.legend.removeItem(curve)
            self.plot.removeItem(curve)
        self.buffers = {}
        self.curves = {}
        self.latest = {}
        self._stale = set()
        self.y_range.reset()
        if self.flags:
            self.flags = {}
            self.flagsChanged.emit({})
        self.flags_label.setText("Gradients appear here once training runs.")

    def _curve(self, node: str) -> pg.PlotDataItem:
        curve = self.curves.get(node)
        if curve is None:  # once per node, never per update
            r, g, b = CLASS_COLORS[len(self.curves) % len(CLASS_COLORS)]
            curve = self.plot.plot([], [], pen=pg.mkPen((int(r), int(g), int(b)), width=2), name=node)
            curve.setDownsampling(auto=True, method="peak")
            curve.setClipToView(True)
            self.curves[node] = curve
            self.buffers[node] = GrowingBuffer(256)
        return curve

    def _draw_curves(self) -> None:
        for node in self._stale:
            buf = self.buffers[node]
            ys = buf.y
            self.curves[node].setData(buf.x, ys)
            if len(ys):  # every point since the last draw, not only the newest, must fit
                self.y_range.fit(float(ys.min()), float(ys.max()))
        self._stale = set()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        self._draw_curves()

    def feed(self, events: Iterable[object]) -> None:
        touched: set[str] = set()
        for ev in events:
            if not isinstance(ev, ProbeEvent) or not ev.grad_norms:
                continue
            for node, norm in ev.grad_norms.items():
                self._curve(node)
                # Log axes cannot show 0 or inf: draw them at the flag thresholds' far side.
                shown = norm if math.isfinite(norm) and norm > 0 else (1e-12 if norm == 0 else 1e12)
                self.buffers[node].append(ev.step, shown)
                self.latest[node] = float(norm)
                touched.add(node)
        if not touched:
            return
        self._stale |= touched
        if self.isVisible():
            self._draw_curves()
        flags = {n: f for n, v in self.latest.items() if (f := gradient_flag(v)) is not None}
        if flags != self.flags:
            self.flags = flags
            self.flagsChanged.emit(dict(flags))
        self.normsChanged.emit(dict(self.latest))
        if flags:
            words = [f"{n}: {f} ({self.latest[n]:.1e})" for n, f in sorted(flags.items())]
            self.flags_label.setText("⚠ " + "; ".join(words) + ". Vanishing gradients stop a layer from "
                                     "learning; exploding ones make the loss jump or turn NaN.")
        else:
            self.flags_label.setText("Gradient norms look healthy: none vanishing (< 1e-5) or exploding (> 1e2).")
