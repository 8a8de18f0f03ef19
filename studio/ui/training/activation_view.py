"""Activations of one node: its output histogram over time, its statistics and,
for convolutions, the feature maps of one sample.

The node shown is the one selected in the editor (``set_node``), or the
first one the probe reports. Histograms of different probes have different
ranges, so they are re-binned onto one common range before being stacked
into the over-time image (time left to right, value bottom to top). Each
probe fed is shown in turn (``FramePacer``): a column is added and the
feature maps redrawn at the rate the trainer probes. Feature maps fill a
plot of their own beside the curves, tiled to the plot's shape.

A group is one entry (its output) until it is opened ("Show groups opened", or
``set_group_open``): its inner nodes then follow it in the list as ``layer2_0.conv1``.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from studio.training.events import ActivationStats, ProbeEvent

from .group_rows import GroupRows
from .lazy_plots import PlotsWhenShown
from .steady import SteadyLabel
from .draw_budget import MeteredLayoutWidget
from .pacing import FramePacer
from .plot_style import GrowingYRange, steady_plot, plot_colors
from studio.session.buffer import GrowingBuffer
from studio.training import probe_rows

BINS = 48
MAX_COLUMNS = 240  # probes kept in the over-time image
DEAD_SHARE = 0.9  # above this share of exact zeros, most units are dead
SHOWN_MAPS = 32  # feature maps tiled for one node: more would each be too small to read
EMPTY_TEXT = "Select a node to see what its outputs look like while it learns."


def rebin(counts: np.ndarray, edges: np.ndarray, lo: float, hi: float, bins: int = BINS) -> np.ndarray:
    """Spread a histogram's counts onto ``bins`` equal bins over [lo, hi] (mass kept inside)."""
    return rebin_all([(counts, edges)], lo, hi, bins)[:, 0]


def rebin_all(hists: list[tuple[np.ndarray, np.ndarray]], lo: float, hi: float, bins: int = BINS) -> np.ndarray:
    """``rebin`` of every (counts, edges) at once: a [bins, len(hists)] image, in one ``bincount``
    (redrawn twice a second over up to ``MAX_COLUMNS`` columns)."""
    counts = [np.asarray(c, dtype=np.float64) for c, _ in hists]
    sizes = [len(c) for c in counts]
    edges = [np.asarray(e, dtype=np.float64) for _, e in hists]
    centres = np.concatenate([(e[:-1] + e[1:]) / 2 for e in edges])
    column = np.repeat(np.arange(len(hists)), sizes)
    index = np.floor((np.clip(centres, lo, hi) - lo) * (bins / (hi - lo))).astype(np.int64)
    index = np.clip(index, 0, bins - 1)
    flat = np.bincount(column * bins + index, weights=np.concatenate(counts), minlength=len(hists) * bins)
    return flat.reshape(len(hists), bins).T


def grid_shape(n: int, h: int, w: int, width: float, height: float, pad: int = 1) -> tuple[int, int]:
    """(rows, cols) that tile ``n`` maps of h x w into a width x height area with the largest maps."""
    best, best_scale = (1, n), -1.0
    for cols in range(1, n + 1):
        rows = int(np.ceil(n / cols))
        scale = min(width / (cols * (w + pad)), height / (rows * (h + pad)))
        if scale > best_scale + 1e-9:
            best, best_scale = (rows, cols), scale
    return best


def tile_maps(maps: np.ndarray, max_maps: int = 16, cols: int | None = None, gap: float = 1.0) -> np.ndarray:
    """Up to ``max_maps`` [C, H, W] feature maps tiled into one grey image, each scaled to [0, 1],
    ``cols`` to a row (default: as square as it goes), 1-pixel gaps of value ``gap``."""
    maps = np.asarray(maps, dtype=np.float64)[:max_maps]
    c, h, w = maps.shape
    cols = int(np.ceil(np.sqrt(c))) if cols is None else max(1, min(cols, c))
    rows = int(np.ceil(c / cols))
    pad = 1
    out = np.full((rows * (h + pad) - pad, cols * (w + pad) - pad), gap)
    for i, m in enumerate(maps):
        lo, hi = float(m.min()), float(m.max())
        scaled = (m - lo) / (hi - lo) if hi > lo else np.zeros_like(m)
        r, col = divmod(i, cols)
        out[r * (h + pad): r * (h + pad) + h, col * (w + pad): col * (w + pad) + w] = scaled
    return out


class _NodeHistory:
    def __init__(self) -> None:
        self.steps: list[int] = []
        self.hists: list[tuple[np.ndarray, np.ndarray]] = []
        self.mean = GrowingBuffer(64)
        self.std = GrowingBuffer(64)
        self.zeros = GrowingBuffer(64)
        self.last: ActivationStats | None = None

    def add(self, step: int, stats: ActivationStats) -> None:
        self.steps.append(step)
        self.hists.append((np.asarray(stats.hist_counts), np.asarray(stats.hist_edges)))
        if len(self.hists) > MAX_COLUMNS:
            del self.hists[0], self.steps[0]
        self.mean.append(step, stats.mean)
        self.std.append(step, stats.std)
        self.zeros.append(step, stats.zero_fraction)
        self.last = stats


class ActivationView(PlotsWhenShown, GroupRows, QWidget):
    PLOTS = ("layout_widget", "hist_plot", "hist_image", "stats_plot", "mean_curve", "std_curve", "zero_curve",
             "maps_plot", "maps_image", "stats_range", "hist_range")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.node_box = QComboBox()
        self.node_box.currentTextChanged.connect(self._on_pick)
        top = QHBoxLayout()
        top.addWidget(QLabel("Node:"))
        top.addWidget(self.node_box, 1)
        self.open_all = QCheckBox("Show groups opened")
        self.open_all.setToolTip("List each group's inner nodes after it (layer2_0.conv1)")
        self.open_all.setVisible(False)  # until a probe reports a group
        self.open_all.toggled.connect(lambda _on: self._relist())
        top.addWidget(self.open_all)
        self.stats_label = SteadyLabel(EMPTY_TEXT, lines=3)

        self._maps: np.ndarray | None = None  # the feature maps shown, [C, H, W]
        self._maps_key: tuple | None = None
        self._run_length: int | None = None
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addLayout(top)
        box.addWidget(self.plot_place(), 1)  # the plots, once made (build_plots)
        box.addWidget(self.stats_label)
        self.history: dict[str, _NodeHistory] = defaultdict(_NodeHistory)
        self.node: str | None = None
        self.wanted: str | None = None  # the editor's selection, which may not be probed yet
        self._stale = False
        self.preferred: list[str] = []  # shown first when nothing is selected (hidden layers, not the input)
        self.groups: set[str] = set()  # rows that are groups
        self.opened: set[str] = set()  # groups opened one by one
        self.pacer = FramePacer(self._show_probe, self, skip=self._add)

    def build_plots(self) -> None:
        self.layout_widget = MeteredLayoutWidget()
        self.layout_widget.setBackground(plot_colors().background)
        lw = self.layout_widget
        self.hist_plot: pg.PlotItem = lw.addPlot(row=0, col=0, title="Output histogram over time")
        self.hist_plot.setLabel("bottom", "step")
        self.hist_plot.setLabel("left", "output value")
        self.hist_image = pg.ImageItem(axisOrder="row-major")
        self.hist_image.setColorMap(pg.colormap.get("viridis"))
        self.hist_plot.addItem(self.hist_image)
        self.stats_plot: pg.PlotItem = lw.addPlot(row=1, col=0, title="Mean, std and share of zeros")
        # Beside the curves, not over them: the plot is short, and a legend inside it hid them.
        # Curves named when plotted join it (PlotItem.addItem asks plot.legend).
        legend = pg.LegendItem(labelTextSize="8pt", verSpacing=-6)
        self.stats_plot.layout.addItem(legend, 0, 3, 4, 1)
        legend.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)  # rows packed
        self.stats_plot.layout.setAlignment(legend, Qt.AlignmentFlag.AlignVCenter)
        self.stats_plot.legend = legend
        self.stats_plot.setLabel("bottom", "step")
        self.stats_plot.showGrid(x=True, y=True, alpha=0.25)
        self.mean_curve = self.stats_plot.plot([], [], pen=pg.mkPen("#1f77b4", width=2), name="mean")
        self.std_curve = self.stats_plot.plot([], [], pen=pg.mkPen("#ff7f0e", width=2), name="std")
        self.zero_curve = self.stats_plot.plot([], [], pen=pg.mkPen("#d62728", width=2), name="share of zeros")
        # Beside the curves at their full height: 16 maps of 8x8 stacked under them used to fill 60 px.
        self.maps_plot: pg.PlotItem = lw.addPlot(row=0, col=1, rowspan=2, title="Feature maps of one sample")
        self.maps_plot.hideAxis("left")
        self.maps_plot.hideAxis("bottom")
        self.maps_plot.setAspectLocked(True)
        self.maps_plot.invertY(True)
        self.maps_image = pg.ImageItem(axisOrder="row-major")
        self.maps_plot.addItem(self.maps_image)
        self.maps_plot.setVisible(False)
        self.maps_plot.getViewBox().sigResized.connect(self._draw_maps)

        steady_plot(self.hist_plot)
        steady_plot(self.stats_plot)
        steady_plot(self.maps_plot)
        self.stats_range = GrowingYRange(self.stats_plot)
        self.hist_range = GrowingYRange(self.hist_plot)  # not auto-ranged: that moves the axis every redraw
        self.put_plot(self.layout_widget)
        if self._run_length is not None:
            self.set_run_length(self._run_length)

    def plots_made(self) -> None:
        self._stale = False
        self._follow_selection()

    # ---- selection -----------------------------------------------------
    def set_node(self, node_id: str | None) -> None:
        """Show ``node_id`` (the editor's selection) once the probe reports it. A node inside a
        group (``layer2_0.conv1``) opens the groups it lies in."""
        self.wanted = node_id
        if node_id is not None and node_id in self.history:
            closed = [p for p in probe_rows.parents(node_id) if not self.is_open(p)]
            if closed:
                self.opened.update(closed)
                self._relist()
            self.node_box.setCurrentText(node_id)

    # ---- groups ----------------------------------------------------------
    def _groups_changed(self) -> None:
        self._relist()

    def listed(self) -> list[str]:
        """The rows in the node list, in order."""
        return [self.node_box.itemText(i) for i in range(self.node_box.count())]

    def _relist(self) -> None:
        """The node list for the groups open now; a row inside a group just closed gives way to it."""
        rows = probe_rows.shown_rows(self.history, self.is_open)
        current = self.node
        if current is not None and current not in rows:
            current = next((p for p in reversed(probe_rows.parents(current)) if p in rows), None)
        self.node_box.blockSignals(True)
        self.node_box.clear()
        for row in rows:
            self.node_box.addItem(row)
            if probe_rows.depth(row):
                self.node_box.setItemData(self.node_box.count() - 1, f"inside {probe_rows.parents(row)[-1]}",
                                          Qt.ItemDataRole.ToolTipRole)
        self.node_box.blockSignals(False)
        if current is not None and current in rows:
            self.node_box.setCurrentText(current)
            if current != self.node:
                self._on_pick(current)
        elif rows:
            self._on_pick(self.node_box.currentText())

    def _on_pick(self, text: str) -> None:
        self.node = text or None
        if self.plots_built:
            self.stats_range.reset()
            self.hist_range.reset()
        self._redraw()

    def set_run_length(self, steps: int | None) -> None:
        """Fix the step axis to the whole run (see LossView.set_run_length)."""
        self._run_length = steps
        if not self.plots_built:
            return  # set when the plots are made
        for p in (self.hist_plot, self.stats_plot):
            if steps:
                p.setXRange(0, steps, padding=0.01)
            else:
                p.enableAutoRange(x=True)

    def clear(self) -> None:
        """Back to the empty state: no history, no node, no maps."""
        self.pacer.clear()
        self.history.clear()
        self.node_box.clear()
        self.groups = set()
        self.open_all.setVisible(False)
        self.node = None
        self._stale = False
        if self.plots_built:
            self.stats_range.reset()
            self.hist_range.reset()
        self._redraw()
        self.stats_label.setText(EMPTY_TEXT)

    # ---- feeding -------------------------------------------------------
    def feed(self, events: Iterable[object]) -> None:
        probes = [ev for ev in events if isinstance(ev, ProbeEvent) and ev.activations]
        if not probes:
            return
        if not self.isVisible():  # nothing to watch: take them all in, draw once shown
            for ev in probes:
                self._add(ev)
            self._stale = True
            return
        self.pacer.push(probes)

    def _add(self, ev: ProbeEvent) -> None:
        new = False
        for node, stats in ev.activations.items():
            if node not in self.history:
                new = True
                if "." not in node or probe_rows.is_shown(node, self.is_open):
                    self.node_box.addItem(node)
            self.history[node].add(ev.step, stats)
        if new:
            groups = probe_rows.groups_of(self.history)
            if groups != self.groups:
                self.groups = groups
                self.open_all.setVisible(bool(groups))
                self._relist()  # in reading order: a group's inner rows after it

    def _show_probe(self, ev: ProbeEvent) -> None:
        self._add(ev)
        if self.isVisible():
            # The curves over the whole run move little from one probe to the next: they are
            # redrawn with the last probe of each hand-over, the histogram and maps with every one.
            self._follow_selection(curves=self.pacer.pending == 0)
        else:
            self._stale = True

    def catch_up(self) -> None:
        """Take in every probe fed now, and draw the newest."""
        if self.pacer.pending:
            self.pacer.finish()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        if self._stale:
            self._stale = False
            self._follow_selection()

    def _follow_selection(self, curves: bool = True) -> None:
        if self.wanted not in self.history:
            self.wanted = next((n for n in self.preferred if n in self.history), None)
        if self.wanted in self.history and self.node != self.wanted:
            self.node_box.setCurrentText(self.wanted)
        else:
            self._redraw(curves)

    def _redraw(self, curves: bool = True) -> None:
        h = self.history.get(self.node) if self.node else None
        if not self.plots_built:  # drawn when the tab is first shown (plots_made); the numbers now
            if h is not None and h.last is not None:
                self._stale = True
                self.stats_label.setText(self._stats_text(h))
            return
        if h is None or h.last is None:
            self.hist_image.clear()
            for c in (self.mean_curve, self.std_curve, self.zero_curve):
                c.setData([], [])
            self._set_maps(None)
            return
        lo = min(float(e[0]) for _, e in h.hists)
        hi = max(float(e[-1]) for _, e in h.hists)
        if hi <= lo:
            hi = lo + 1e-6
        image = rebin_all(h.hists, lo, hi)  # [bins, time]
        # Log counts: a spike of exact zeros (ReLU) must not hide the rest of the distribution.
        image = np.log1p(image)
        image = image / np.maximum(image.max(axis=0, keepdims=True), 1e-12)
        self.hist_image.setImage(image, autoLevels=False, levels=(0, 1))
        first, last = h.steps[0], h.steps[-1]
        width = max(1, last - first) * (len(h.steps) / max(1, len(h.steps) - 1)) if len(h.steps) > 1 else 1
        self.hist_image.setRect(QRectF(first, lo, width, hi - lo))
        self.hist_range.fit(lo, hi)
        if curves:
            self.stats_range.fit(min(float(h.mean.y.min()), 0.0),
                                 max(float(h.std.y.max()), float(h.mean.y.max()), 1.0))
            self.mean_curve.setData(h.mean.x, h.mean.y)
            self.std_curve.setData(h.std.x, h.std.y)
            self.zero_curve.setData(h.zeros.x, h.zeros.y)
        self.stats_label.setText(self._stats_text(h))
        maps = h.last.feature_maps
        self._set_maps(np.asarray(maps) if maps is not None and np.asarray(maps).ndim == 3 else None,
                       f"Feature maps of one sample at step {last:,}")

    def _stats_text(self, h: _NodeHistory) -> str:
        s = h.last
        text = f"{self.node}: mean {s.mean:.3f}, std {s.std:.3f}, zeros {s.zero_fraction:.1%} (step {h.steps[-1]})"
        if s.zero_fraction > DEAD_SHARE:
            text += (" — almost every output is exactly 0: many units are dead (dying ReLU) and pass no"
                     " gradient; try a smaller learning rate or LeakyReLU.")
        elif s.zero_fraction > 0.3:
            text += " (a ReLU zeroes its negative inputs, so a share of zeros is normal)"
        return text

    def _set_maps(self, maps: np.ndarray | None, title: str = "") -> None:
        if maps is None and self._maps is None:
            return  # nothing shown, nothing to change: a network without convolutions
        self._maps = maps
        if maps is None:
            self.maps_plot.setVisible(False)
            self.maps_image.clear()
            self._maps_key = None
            return
        if not self.maps_plot.isVisible():
            self.maps_plot.setVisible(True)
        n = min(len(maps), SHOWN_MAPS)
        self.maps_plot.setTitle(f"{title} ({n} of {len(maps)})" if n < len(maps) else title)
        self._draw_maps(force=True)

    def _draw_maps(self, *_args, force: bool = False) -> None:
        """Tile the maps in the grid that makes each largest in the plot as it is now."""
        maps = self._maps
        if maps is None:
            return
        n, h, w = min(len(maps), SHOWN_MAPS), maps.shape[1], maps.shape[2]
        rect = self.maps_plot.getViewBox().rect()
        rows, cols = grid_shape(n, h, w, max(rect.width(), 1.0), max(rect.height(), 1.0))
        key = (n, h, w, cols)
        if not force and key == self._maps_key:
            return
        image = tile_maps(maps, SHOWN_MAPS, cols=cols, gap=np.nan)  # NaN: the gaps show the background
        self.maps_image.setImage(image, autoLevels=False, levels=(0, 1))
        if key != self._maps_key:
            self.maps_plot.getViewBox().autoRange(padding=0.0)
            self._maps_key = key
