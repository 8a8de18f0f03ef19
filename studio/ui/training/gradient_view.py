"""Gradient flow: every node's gradient norm over the run, on one log-scale plot.

A group is one row (the norm over every parameter inside it) until it is opened:
clicking its name in the legend (shown "▸ layer2_0") opens it, and its inner nodes
follow it as rows named ``layer2_0.conv1``; "Show groups opened" opens every group.

A node whose gradients shrink towards nothing (vanishing) or blow up
(exploding) is flagged here and through ``flagsChanged``, so the canvas can
mark the node; ``normsChanged`` carries the latest norm per node for the
canvas to colour the wires.
"""

from __future__ import annotations

import math
from typing import Iterable

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QVBoxLayout, QWidget

from studio.training.events import ProbeEvent

from .group_rows import GroupRows
from .lazy_plots import PlotsWhenShown
from .steady import SteadyLabel
from .draw_budget import MeteredPlotWidget
from .plot_style import GrowingYRange, LogAxis, steady_plot, plot_colors
from studio.session.buffer import GrowingBuffer
from studio.training import probe_rows
from .colors import gradient_flag, series_color


class GradientView(PlotsWhenShown, GroupRows, QWidget):
    normsChanged = Signal(dict)  # node id -> latest gradient L2 norm
    flagsChanged = Signal(dict)  # node id -> "vanishing" | "exploding" (only flagged nodes)
    PLOTS = ("plot_widget", "plot", "y_range", "curves")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.flags_label = SteadyLabel("Gradients appear here once training runs.", lines=3)
        self.open_all = QCheckBox("Show groups opened")
        self.open_all.setToolTip("Show each group's inner nodes as rows of their own (click a group's "
                                 "name in the legend to open or close that one alone)")
        self.open_all.setVisible(False)  # until a probe reports a group
        self.open_all.toggled.connect(lambda _on: self._relayout())
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.open_all)
        box.addWidget(self.plot_place(), 1)  # the plot, once made (build_plots)
        box.addWidget(self.flags_label)
        self.buffers: dict[str, GrowingBuffer] = {}  # every row reported, shown or not
        self._run_length: int | None = None
        self.latest: dict[str, float] = {}
        self.flags: dict[str, str] = {}
        self.groups: set[str] = set()  # rows that are groups
        self.opened: set[str] = set()  # groups opened one by one
        self._colors: dict[str, int] = {}  # row -> colour index, steady while groups open and close
        self._stale: set[str] = set()  # curves fed while hidden, drawn when shown

    def build_plots(self) -> None:
        self.plot_widget = MeteredPlotWidget(background=plot_colors().background)
        self.plot: pg.PlotItem = self.plot_widget.getPlotItem()
        self.plot.setAxisItems({"left": LogAxis("left")})  # "10" beside "1" and "0.1", not "10¹"
        self.plot.setLogMode(y=True)
        self.plot.setContentsMargins(6, 0, 0, 0)  # the rotated axis name clear of the splitter beside it
        self.plot.setTitle("Gradient norm per node (log scale)")
        self.plot.setLabel("bottom", "step")
        self.plot.setLabel("left", "‖gradient‖")
        self.plot.getAxis("left").enableAutoSIPrefix(False)  # log ticks read as plain norms
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.addLegend(offset=(-10, 10))
        steady_plot(self.plot)
        self.y_range = GrowingYRange(self.plot, log=True)
        self.curves: dict[str, pg.PlotDataItem] = {}  # the rows shown
        self.put_plot(self.plot_widget)
        if self._run_length is not None:
            self.set_run_length(self._run_length)

    def plots_made(self) -> None:
        self._relayout()
        self._stale = set(self.curves)  # every row fed so far, the whole run
        self._draw_curves()

    # ---- groups ------------------------------------------------------------
    def _groups_changed(self) -> None:
        self._relayout()

    def toggle_group(self, group: str) -> None:
        if group in self.groups:
            self.set_group_open(group, not self.is_open(group))

    def shown(self) -> list[str]:
        """The rows drawn, in the legend's order."""
        return probe_rows.shown_rows(self.buffers, self.is_open)

    def _label(self, row: str) -> str:
        if row in self.groups:
            return ("▾ " if self.is_open(row) else "▸ ") + row
        return row

    def _relayout(self) -> None:
        """Curves and legend rows for the rows shown now, in reading order."""
        if not self.plots_built:
            self._show_flags()
            return
        want = self.shown()
        legend = self.plot.legend
        for row, curve in list(self.curves.items()):
            if legend is not None:
                legend.removeItem(curve)
            if row not in want:
                self.plot.removeItem(curve)
                del self.curves[row]
        for row in want:
            curve = self.curves.get(row)
            if curve is None:
                self._curve(row)
                self._stale.add(row)
            elif legend is not None:
                legend.addItem(curve, self._label(row))
        if legend is not None:
            for sample, label in legend.items:
                row = next((r for r, c in self.curves.items() if c is sample.item), None)
                if row in self.groups:
                    self._clickable(label, row)
        if self.isVisible():
            self._draw_curves()
        self._show_flags()

    def _clickable(self, label, row: str) -> None:
        def click(ev, row=row) -> None:
            if ev.button() == Qt.MouseButton.LeftButton:
                ev.accept()
                self.toggle_group(row)

        label.mouseClickEvent = click
        label.setToolTip(f"Click to {'close' if self.is_open(row) else 'open'} {row}")

    def set_run_length(self, steps: int | None) -> None:
        """Fix the step axis to the whole run (see LossView.set_run_length)."""
        self._run_length = steps
        if not self.plots_built:
            return  # set when the plot is made
        for p in (self.plot,):
            if steps:
                p.setXRange(0, steps, padding=0.01)
            else:
                p.enableAutoRange(x=True)

    def clear(self) -> None:
        """Back to the empty state: no curves and no legend entries (a new document's nodes are not
        the last one's), no flags."""
        if self.plots_built:
            for node, curve in self.curves.items():
                if self.plot.legend is not None:
                    self.plot.legend.removeItem(curve)
                self.plot.removeItem(curve)
            self.curves = {}
            self.y_range.reset()
        self.buffers = {}
        self.latest = {}
        self.groups = set()
        self._colors = {}
        self.open_all.setVisible(False)
        self._stale = set()
        if self.flags:
            self.flags = {}
            self.flagsChanged.emit({})
        self.flags_label.setText("Gradients appear here once training runs.")

    def _curve(self, node: str) -> pg.PlotDataItem:
        curve = self.curves.get(node)
        if curve is None:  # once per row shown, never per update
            index = self._colors.setdefault(node, len(self._colors))
            # an inner row is drawn thinner, dashed, under its group's
            pen = pg.mkPen(series_color(index), width=2 if "." not in node else 1.5,
                           style=Qt.PenStyle.SolidLine if "." not in node else Qt.PenStyle.DashLine)
            curve = self.plot.plot([], [], pen=pen, name=self._label(node))
            curve.setDownsampling(auto=True, method="peak")
            curve.setClipToView(True)
            self.curves[node] = curve
            if node in self.groups and self.plot.legend is not None:
                label = self.plot.legend.getLabel(curve)
                if label is not None:
                    self._clickable(label, node)
        return curve

    def _draw_curves(self) -> None:
        for node in self._stale:
            if node not in self.curves:
                continue  # inside a closed group: drawn when it opens
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
        new_rows: list[str] = []
        for ev in events:
            if not isinstance(ev, ProbeEvent) or not ev.grad_norms:
                continue
            for node, norm in ev.grad_norms.items():
                if node not in self.buffers:
                    self.buffers[node] = GrowingBuffer(256)
                    new_rows.append(node)
                # Log axes cannot show 0 or inf: draw them at the flag thresholds' far side.
                shown = norm if math.isfinite(norm) and norm > 0 else (1e-12 if norm == 0 else 1e12)
                self.buffers[node].append(ev.step, shown)
                self.latest[node] = float(norm)
                touched.add(node)
        if not touched:
            return
        self._stale |= touched
        if new_rows:
            groups = probe_rows.groups_of(self.buffers)
            if groups != self.groups:
                self.groups = groups
                self.open_all.setVisible(bool(groups))
                self._relayout()  # a new group's row reads "▸ name"; rows inside closed groups stay out
            elif self.plots_built:  # else made with the plot
                for node in new_rows:
                    if probe_rows.is_shown(node, self.is_open):
                        self._curve(node)
        if self.plots_built and self.isVisible():
            self._draw_curves()
        flags = {n: f for n, v in self.latest.items() if (f := gradient_flag(v)) is not None}
        if flags != self.flags:
            self.flags = flags
            self.flagsChanged.emit(dict(flags))
        self.normsChanged.emit(dict(self.latest))
        self._show_flags()

    def _show_flags(self) -> None:
        """Flags of the rows shown; those inside closed groups counted, under the group's name."""
        flags = self.flags
        if not self.latest:
            return
        rows = set(self.shown())  # the rows the plot has curves for, made or not
        shown = {n: f for n, f in flags.items() if n in rows}
        inside: dict[str, int] = {}
        for n in flags:
            if n not in rows:
                closed = next((p for p in probe_rows.parents(n) if not self.is_open(p)), None)
                if closed is not None:
                    inside[closed] = inside.get(closed, 0) + 1
        if shown or inside:
            words = [f"{n}: {f} ({self.latest[n]:.1e})" for n, f in sorted(shown.items())]
            words += [f"{k} inside {g} (open it to see which)" for g, k in sorted(inside.items())]
            self.flags_label.setText("⚠ " + "; ".join(words) + ". Vanishing gradients stop a layer from "
                                     "learning; exploding ones make the loss jump or turn NaN.")
        else:
            self.flags_label.setText("Gradient norms look healthy: none vanishing (< 1e-5) or exploding (> 1e2).")
