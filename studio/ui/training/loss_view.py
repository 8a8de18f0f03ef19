"""Loss, accuracy and learning rate of one run, per step and per epoch, drawn from the run's
``LossCurves`` (``studio.session``).

The x axis is in epochs (a step at 2.5 is halfway through the third), so the
smoothed per-step curve and the per-epoch points share one axis. Curves are
existing items given the run's growing buffers; nothing is created per update.
"""

from __future__ import annotations

import math
from typing import Iterable

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QGraphicsPathItem, QVBoxLayout, QWidget

from studio.session.curves import LossCurves

from .steady import SteadyLabel
from .draw_budget import MeteredLayoutWidget
from .plot_style import GrowingYRange, PlotColors, steady_plot, plot_colors, style_plots

HINT = "Press Train to see the loss fall."
MAX_DOTTED_EPOCHS = 60


def _curve(plot: pg.PlotItem, name: str, width: float = 2, symbol: str | None = None) -> pg.PlotDataItem:
    """A curve without colours yet: ``LossView.apply_colors`` gives them, for the theme in use."""
    item = plot.plot([], [], pen=pg.mkPen(width=width), name=name, symbol=symbol, symbolSize=6, symbolPen=None)
    # Peak downsampling keeps spikes visible; clip-to-view skips what is off screen.
    item.setDownsampling(auto=True, method="peak")
    item.setClipToView(True)
    item.setSkipFiniteCheck(True)
    return item


NO_ACCURACY = "no accuracy: this run does not classify"


class LossView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.layout_widget = MeteredLayoutWidget()
        self.summary = SteadyLabel(lines=3)
        self.summary.hide()  # the hint on the empty plot speaks until there is a run to sum up
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.layout_widget, 1)
        box.addWidget(self.summary)

        # The loss, the plot a learner watches, takes the left and the whole height; accuracy and
        # learning rate share the right. Stacked three high, each got a third of a short dock and
        # its tick labels ran into each other.
        lw = self.layout_widget
        lw.ci.layout.setVerticalSpacing(2)
        lw.ci.layout.setHorizontalSpacing(6)
        self.loss_plot: pg.PlotItem = lw.addPlot(row=0, col=0, rowspan=2)
        self.acc_plot: pg.PlotItem = lw.addPlot(row=0, col=1)
        self.lr_plot: pg.PlotItem = lw.addPlot(row=1, col=1)
        lw.ci.layout.setColumnStretchFactor(0, 3)
        lw.ci.layout.setColumnStretchFactor(1, 2)
        lw.ci.layout.setRowStretchFactor(0, 1)
        lw.ci.layout.setRowStretchFactor(1, 1)
        for p, name in ((self.loss_plot, "loss"), (self.acc_plot, "accuracy"), (self.lr_plot, "lr")):
            p.showGrid(x=True, y=True, alpha=0.25)
            p.setLabel("left", name)
            p.setMouseEnabled(x=False, y=False)
            p.hideButtons()
            for axis in ("left", "bottom"):
                p.getAxis(axis).enableAutoSIPrefix(False)  # an epoch is an epoch, never "epoch (x0.001)"
            if p is not self.lr_plot:
                p.setXLink(self.lr_plot)
        # Epoch numbers under the loss and under the lower right plot; accuracy sits on the lr's.
        self.acc_plot.getAxis("bottom").setStyle(showValues=False)
        self.loss_plot.setLabel("bottom", "epoch")
        self.lr_plot.setLabel("bottom", "epoch")
        # Legends in two columns of small print: they must not hide the curves of a short plot.
        self.loss_plot.addLegend(offset=(-6, 4), colCount=2, labelTextSize="8pt", verSpacing=-6)
        self.acc_plot.addLegend(offset=(-6, -4), colCount=2, labelTextSize="8pt", verSpacing=-6)
        self.acc_plot.setYRange(0, 1)

        self.step_raw = _curve(self.loss_plot, "train (each step)", width=1)
        self.step_smooth = _curve(self.loss_plot, "train (smoothed)", width=2)
        self.epoch_train = _curve(self.loss_plot, "train (epoch)", width=0, symbol="o")
        self.epoch_val = _curve(self.loss_plot, "validation (epoch)", width=2, symbol="o")
        # The gap between validation and training loss: shaded, so overfitting shows as a widening band.
        # One closed path built from the arrays (pyqtgraph's FillBetweenItem walks the curves' paths
        # point by point in Python, twice per update).
        self.gap = QGraphicsPathItem()
        self.gap.setBrush(pg.mkBrush(214, 39, 40, 45))
        self.gap.setPen(pg.mkPen(None))
        self.gap.setZValue(-1)
        self.loss_plot.addItem(self.gap, ignoreBounds=True)
        # The legend cannot draw a FillBetweenItem: a filled stand-in shows its colour instead.
        self._gap_sample = pg.PlotDataItem([0, 1], [0, 0], pen=pg.mkPen(214, 39, 40, 90), fillLevel=0,
                                           fillBrush=pg.mkBrush(214, 39, 40, 45))
        self.loss_plot.legend.addItem(self._gap_sample, "gap (validation − train)")
        # its label below the legend, which fills the top of the plot
        self.overfit_line = pg.InfiniteLine(angle=90, label="overfitting starts", labelOpts={"position": 0.6})
        self.overfit_line.setVisible(False)
        self.loss_plot.addItem(self.overfit_line)

        # in the legend's corner, on the plot (a title would shrink it and crowd its ticks)
        self.acc_none = pg.TextItem(NO_ACCURACY, anchor=(0, 0), color=(150, 150, 150))
        self.acc_none.setParentItem(self.acc_plot.getViewBox())
        self.acc_none.setPos(6, 4)
        self.acc_none.setVisible(False)
        self.acc_train = _curve(self.acc_plot, "train", symbol="o")
        self.acc_val = _curve(self.acc_plot, "validation", symbol="o")
        self.lr_curve = _curve(self.lr_plot, "learning rate")
        # Before a run: one faint line in the middle of the empty loss plot says what to do.
        self.hint = pg.TextItem(HINT, anchor=(0.5, 0.5))
        self.hint.setZValue(10)
        self.loss_plot.addItem(self.hint, ignoreBounds=True)
        for p in (self.loss_plot, self.acc_plot, self.lr_plot):
            steady_plot(p)
        self.loss_range = GrowingYRange(self.loss_plot, floor=0.0)
        self.lr_range = GrowingYRange(self.lr_plot, floor=0.0)
        self.colors: PlotColors = plot_colors()
        self.apply_colors()
        self.epochs_planned: int | None = None
        self.lr_planned: float | None = None

        self.data = LossCurves()  # the run's, once ``show_curves`` is given one; a view fed alone keeps its own
        self._fitted_steps = 0
        self.updates = 0
        self._stale = (False, False)  # (steps, epochs) fed while hidden, drawn when shown
        self._show_empty()

    # ---- theme and empty state ------------------------------------------
    def apply_colors(self, colors: PlotColors | None = None) -> None:
        """Background, axes and curves in the colours of the app's theme (current one when none given)."""
        c = self.colors = colors or plot_colors()
        style_plots(self.layout_widget, c)
        dash = pg.QtCore.Qt.PenStyle.DashLine
        self.step_raw.setPen(pg.mkPen(c.raw, width=1))
        self.step_smooth.setPen(pg.mkPen(c.train, width=2))
        # Dashed: the epoch averages lie on the smoothed curve, and must still show without dots.
        self.epoch_train.setPen(pg.mkPen(c.epoch_train, width=1.5, style=dash))
        self.epoch_train.setSymbolBrush(c.train)
        self.epoch_val.setPen(pg.mkPen(c.val, width=2))
        self.epoch_val.setSymbolBrush(c.val)
        for curve, color in ((self.acc_train, c.train), (self.acc_val, c.val), (self.lr_curve, c.lr)):
            curve.setPen(pg.mkPen(color, width=2))
            curve.setSymbolBrush(color)
        self.overfit_line.setPen(pg.mkPen(c.warn, width=1, style=dash))
        self.overfit_line.label.setColor(c.warn)
        self.hint.setColor(c.dim_text)

    @property
    def empty(self) -> bool:
        return not (len(self.steps) or len(self.train_loss))

    def show_plan(self, epochs: int | None, lr: float | None) -> None:
        """The run the settings describe: an empty view spans its epochs and its learning rate."""
        self.epochs_planned = epochs or None
        self.lr_planned = lr if lr and math.isfinite(lr) and lr > 0 else None
        if self.empty:
            self._show_empty()

    def set_hint(self, text: str) -> None:
        self.hint.setText(text)

    def _show_empty(self) -> None:
        """Axes that read sensibly before the first step: epochs 0..planned, loss and accuracy 0..1,
        the learning rate from 0 to a little above the planned one; the hint in the middle."""
        epochs = self.epochs_planned or 10
        self.set_run_length(epochs)
        self.loss_plot.setYRange(0, 1, padding=0)
        self.acc_plot.setYRange(0, 1, padding=0)
        lr = self.lr_planned or 0.01
        self.lr_plot.setYRange(0, lr * 1.25, padding=0)
        self.hint.setPos(epochs / 2, 0.5)
        self.hint.show()
        self.summary.hide()

    # ---- feeding -------------------------------------------------------
    def set_run_length(self, epochs: int | None) -> None:
        """Fix the x axes to the whole run: the axes stop re-laying out their ticks on every
        update, and clip-to-view can work (it is skipped while x auto-ranges)."""
        # The x axes are linked: setting the lowest sets all three.
        if epochs:
            self.lr_plot.setXRange(0, epochs, padding=0.01)
        else:
            self.lr_plot.enableAutoRange(x=True)
        # Dots mark each epoch while they can be told apart; on long runs they only cost paint time.
        dots = "o" if not epochs or epochs <= MAX_DOTTED_EPOCHS else None
        for curve in (self.epoch_train, self.epoch_val, self.acc_train, self.acc_val):
            curve.setSymbol(dots)

    def clear(self) -> None:
        self.show_curves(LossCurves())
        self.set_hint(HINT)
        self._show_empty()

    def show_curves(self, data: LossCurves) -> None:
        """Draw this run's curves from now on (the ones a ``Run`` fills as its events arrive)."""
        self.data = data
        self.loss_range.reset()
        self._fitted_steps = 0
        self.lr_range.reset()
        self.overfit_line.setVisible(False)
        self.summary.setText("")
        self._redraw(steps=True, epochs=True)

    def feed(self, events: Iterable[object]) -> None:
        """Events for a view fed on its own: into its curves, then drawn."""
        self.draw(*self.data.add(events))

    def draw(self, steps: bool, epochs: bool) -> None:
        """Redraw what grew since the last time: the step curves, the epoch curves, or both."""
        if not (steps or epochs):
            return
        if not self.isVisible():  # a hidden tab draws what it missed when it is shown
            self._stale = (self._stale[0] or steps, self._stale[1] or epochs)
            return
        self._redraw(steps, epochs)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        if any(self._stale):
            steps, epochs = self._stale
            self._stale = (False, False)
            self._redraw(steps, epochs)

    # The run's curves, by their old names here (tests and the panel read them).
    steps = property(lambda self: self.data.steps)
    smooth = property(lambda self: self.data.smooth)
    lrs = property(lambda self: self.data.lrs)
    train_loss = property(lambda self: self.data.train_loss)
    val_loss = property(lambda self: self.data.val_loss)
    train_acc = property(lambda self: self.data.train_acc)
    val_acc = property(lambda self: self.data.val_acc)
    overfit_at = property(lambda self: self.data.overfit_at)
    steps_seen = property(lambda self: self.data.steps_seen)

    def _redraw(self, steps: bool, epochs: bool) -> None:
        self.updates += 1
        if self.hint.isVisible() and not self.empty:
            self.hint.hide()
            self.summary.show()
        if steps:
            self._fit_loss(self.steps.y[self._fitted_steps:])
            self._fitted_steps = len(self.steps)
            self.step_raw.setData(*self.steps.display(), connect="finite")
            self.step_smooth.setData(*self.smooth.display())
            self._set_lr()
        if epochs:
            self._fit_loss(self.val_loss.y[-1:])
            self.epoch_train.setData(self.train_loss.x, self.train_loss.y)
            self.epoch_val.setData(self.val_loss.x, self.val_loss.y)
            self.acc_train.setData(self.train_acc.x, self.train_acc.y)
            self.acc_val.setData(self.val_acc.x, self.val_acc.y)
            self._show_accuracy_kind()
            self._shade_gap()
            self._mark_overfitting()
            self._summarise()
            if len(self.lrs) and not self.steps_seen:
                self._set_lr()

    def _show_accuracy_kind(self) -> None:
        """A run with epochs and no accuracy (regression, a GAN): the panel says so instead of a legend
        for curves that never come."""
        none = len(self.train_loss) > 0 and not len(self.train_acc) and not len(self.val_acc)
        if none == self.acc_plot.legend.isVisible():
            self.acc_plot.legend.setVisible(not none)
            self.acc_none.setVisible(none)

    def _shade_gap(self) -> None:
        n = min(len(self.train_loss), len(self.val_loss))
        self.gap.setVisible(n > 0)
        if not n:
            return
        xs = np.concatenate([self.train_loss.x[:n], self.val_loss.x[:n][::-1]])
        ys = np.concatenate([self.train_loss.y[:n], self.val_loss.y[:n][::-1]])
        keep = np.isfinite(ys)  # a failed epoch's NaN would tear the outline
        path = pg.arrayToQPath(xs[keep], ys[keep], connect="all")
        path.closeSubpath()
        self.gap.setPath(path)

    def _set_lr(self) -> None:
        self.lr_curve.setData(*self.lrs.display())
        if len(self.lrs):  # from 0, so a constant rate reads as its value, not as a line at the centre
            self.lr_range.fit(0.0, float(self.lrs.y.max()) or 1.0)

    def _fit_loss(self, new: np.ndarray) -> None:
        finite = new[np.isfinite(new)]
        if len(finite):
            self.loss_range.fit(0.0, float(finite.max()))

    def _mark_overfitting(self) -> None:
        at = self.overfit_at
        self.overfit_line.setVisible(at is not None)
        if at is not None:
            self.overfit_line.setValue(at)

    def _summarise(self) -> None:
        text = self.data.summary()
        if text:
            self.summary.setText(text)
