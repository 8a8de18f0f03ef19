"""An activation block's curve f(x) and slope f'(x) in the inspector, over the inputs it receives.

Behind the curves, shaded, is the histogram of the node's inputs from the run's
newest probe (the output of the node wired into it), the saturated or dead part
of it in the warning colour; the x range follows those inputs. Beside it, the
share of inputs where the slope is flat (saturated) or 0 (dead). Before any run
the curves span [-6, 6]. Built the first time an activation is shown.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem, QLabel, QVBoxLayout, QWidget

from studio.training.activation_curve import (
    DEFAULT_RANGE, FLAT_SHARE, ActivationFunction, InputShares, input_band,
)

from ..training.draw_budget import MeteredPlotWidget
from ..training.plot_style import CACHE, PlotColors, plot_colors, steady_plot, style_plot

BEFORE_RUN = "Train to see the inputs it receives."
PLOT_HEIGHT = 190
BAND_HEIGHT = 0.9  # of the curves' y span: the tallest bin stays below the top edge
AXIS_WIDTH = 34  # the left axis of so narrow a plot: ticks such as "0.25" fit
SLACK = 1.0  # of the inputs' width, left either side of them when the x range has to move
MIN_FILL = 0.2  # the inputs' least share of the x range before it closes in on them


class _InspectorPlot(MeteredPlotWidget):
    def wheelEvent(self, event) -> None:  # noqa: N802 (Qt name)
        event.ignore()  # on to the inspector, which scrolls: a wheel over the plot zooms nothing


class ActivationCurveView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot_widget = _InspectorPlot(background=plot_colors().background)
        self.plot_widget.setMinimumHeight(PLOT_HEIGHT)
        self.plot_widget.setMaximumHeight(PLOT_HEIGHT + 60)
        plot = self.plot = self.plot_widget.getPlotItem()
        # A small figure inside a scrolling panel: nothing drags or zooms it.
        plot.setMouseEnabled(False, False)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.showGrid(x=True, y=True, alpha=0.2)
        plot.setLabel("bottom", "input x")
        # Plain path items, not pyqtgraph curves: a band changes with every probe, and a curve's
        # data and paint go through Python each time; a path is made once and painted by Qt.
        self.band = QGraphicsPathItem()
        self.flat_band = QGraphicsPathItem()
        for item in (self.band, self.flat_band):
            item.setPen(QPen(Qt.PenStyle.NoPen))
            item.setZValue(-10)
            plot.addItem(item)
        self.value_curve = plot.plot([], [])
        self.slope_curve = plot.plot([], [])
        for item in (self.value_curve, self.slope_curve):
            item.curve.setCacheMode(CACHE)  # drawn again only when the x range moves, not per probe
        steady_plot(plot)
        plot.getAxis("left").setWidth(AXIS_WIDTH)
        self.note = QLabel(BEFORE_RUN)
        self.note.setObjectName("activation_inputs")
        self.note.setWordWrap(True)
        self.note.setTextFormat(Qt.TextFormat.RichText)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(4)
        # The key in words above the plot: a legend inside so small a plot covers the band.
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.title.setWordWrap(True)  # the inspector may be narrow: never wider than it
        box.addWidget(self.title)
        box.addWidget(self.plot_widget)
        box.addWidget(self.note)
        self.function: ActivationFunction | None = None
        self.inputs: tuple[np.ndarray, np.ndarray] | None = None  # (counts, edges) of the band shown
        self.shares: InputShares | None = None
        self._where = ""
        self.x_range = DEFAULT_RANGE
        self._curve_range: tuple[float, float] | None = None  # the x range f and f' were drawn over
        self._y_span: tuple[float, float] | None = None  # the curves' y span, as the axis shows it
        self.redraws = 0
        self.apply_colors()

    def apply_colors(self, colors: PlotColors | None = None) -> None:
        """Curves, band and axes in the current theme's colours."""
        c = self.colors = colors or plot_colors()
        self.plot_widget.setBackground(c.background)
        style_plot(self.plot, c)
        self.value_curve.setPen(pg.mkPen(c.train, width=2))
        self.slope_curve.setPen(pg.mkPen(c.val, width=2, style=Qt.PenStyle.DashLine))
        band = pg.mkColor(c.dim_text)
        band.setAlpha(90)
        self.band.setBrush(pg.mkBrush(band))
        flat = pg.mkColor(c.warn)
        flat.setAlpha(110)
        self.flat_band.setBrush(pg.mkBrush(flat))
        self.title.setText(f"<b>Curve <span style='color:{c.train}'>f(x)</span> and slope "
                           f"<span style='color:{c.val}'>f′(x)</span></b> (dashed) over the inputs it receives "
                           f"(shaded, <span style='color:{c.warn}'>red</span> where f′ is about 0)")

    def set_function(self, function: ActivationFunction) -> None:
        """The block to draw (its module built with the node's parameters); the band stays."""
        self.function = function
        self._curve_range = None
        self._draw()

    def show_inputs(self, counts: np.ndarray | None, edges: np.ndarray | None, where: str = "") -> None:
        """The histogram of the inputs (``counts`` per bin between ``edges``), or None before any
        run; ``where`` says what they are ("the outputs of fc3"), or why there are none."""
        self.inputs = None if counts is None or edges is None else (np.asarray(counts), np.asarray(edges))
        self._where = where
        self._draw()

    def _draw(self) -> None:
        if self.function is None:
            return
        if self.inputs is None:
            self.x_range, self.shares = DEFAULT_RANGE, None
        else:
            self.x_range = follow(self.x_range, input_band(*self.inputs))
            self.shares = self.function.input_shares(*self.inputs)
        if self._curve_range != self.x_range:
            self._draw_curve()
        lo, hi = self._y_span
        if self.inputs is None:
            self.band.setPath(QPainterPath())
            self.flat_band.setPath(QPainterPath())
        else:
            counts, edges = self.inputs
            scale = BAND_HEIGHT * (hi - lo) / max(float(counts.max()), 1.0)
            self.band.setPath(step_path(edges, counts * scale, lo))
            self.flat_band.setPath(step_path(edges, counts * self.shares.flat_per_bin * scale, lo))
        text = self._note_text()
        if text != self.note.text():
            self.note.setText(text)
        self.redraws += 1

    def _draw_curve(self) -> None:
        """f and f' over the x range, and the axes to fit them: only when the range moves, so the
        axes (cached pixmaps) are drawn again a few times a run, not on every probe."""
        curve = self.function.curve(*self.x_range)
        self.value_curve.setData(curve.xs, curve.ys)
        self.slope_curve.setData(curve.xs, curve.slopes)
        # 0 and the steepest slope always in view: in a tail both curves then lie flat on 0, as they
        # are, instead of filling the plot at a scale of 1e-4
        finite = np.concatenate([curve.ys[np.isfinite(curve.ys)], curve.slopes[np.isfinite(curve.slopes)],
                                 [0.0, self.function.peak]])
        lo, hi = float(finite.min()), float(finite.max())
        span = (lo, hi if hi > lo else lo + 1.0)
        self.plot.setXRange(*self.x_range, padding=0)
        if span != self._y_span:  # a sigmoid's [0, 1] stays, and its axis is not drawn again
            self.plot.setYRange(*span, padding=0.05)
        self._y_span = span
        self._curve_range = self.x_range

    def _note_text(self) -> str:
        if self.shares is None:
            return self._where or BEFORE_RUN
        s = self.shares
        peak = self.function.peak
        warn = self.colors.warn
        flat = f"{s.saturated:.0%} saturated (f′ below {FLAT_SHARE:.0%} of its peak {peak:.3g})"
        dead = f"{s.dead:.0%} dead (f′ = 0)"
        flat = f"<span style='color:{warn}'>{flat}</span>" if s.saturated >= 0.5 else flat
        dead = f"<span style='color:{warn}'>{dead}</span>" if s.dead >= 0.5 else dead
        return (f"Inputs: {self._where}.<br>{flat}, {dead}.<br>"
                f"A gradient passing back is multiplied by f′ at each input: ×{s.mean_slope:.2g} on average.")


def step_path(edges: np.ndarray, heights: np.ndarray, base: float) -> QPainterPath:
    """A histogram's outline as one closed path: each bin a step ``heights`` above ``base``."""
    edges = np.asarray(edges, dtype=np.float64)
    xs = np.concatenate([edges[:1], np.repeat(edges, 2)[1:-1], edges[-1:]])
    ys = np.concatenate([[base], base + np.repeat(heights, 2), [base]])
    path = pg.arrayToQPath(xs, ys)
    path.closeSubpath()
    return path


def follow(shown: tuple[float, float], wanted: tuple[float, float]) -> tuple[float, float]:
    """The x range to draw next: the one ``shown`` while it holds the ``wanted`` band and the band
    fills at least ``MIN_FILL`` of it, else the band with ``SLACK`` of its width either side. A
    band that drifts or spreads moves the axis once each time it doubles, not on every probe (a
    moved axis is drawn again in Python, and its curve computed again)."""
    lo, hi = shown
    width = wanted[1] - wanted[0]
    if lo <= wanted[0] and wanted[1] <= hi and width >= MIN_FILL * (hi - lo):
        return shown
    return wanted[0] - SLACK * width, wanted[1] + SLACK * width
