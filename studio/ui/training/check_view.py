"""The Check tab: the network before its first step, and the two one-click sanity checks.

Left, the doctor's preview (``studio.doctor.preview``): the loss at initialisation
against what it should be, with the verdict in words (green when as expected, amber
otherwise); a row per node with its activations' mean and spread, the share of
saturated or dead units and the gradient norm reaching its weights, a swatch of the
colour the live "Gradient flow" gives that norm on the canvas, and its flag; then the
preview's warnings (clicking one, or a row, selects the node on the canvas).

Right, "Overfit one batch" (the loss per step against the target, dashed, and the
verdict) and "Find learning rate" (the loss against a learning rate rising on a log
axis, the suggestion marked, and a button that applies it). Both curves are drawn as
the check runs; while one runs its button reads "Stop".

What is shown belongs to the graph as it was checked: each result keeps a fingerprint
of what it depends on (``check_keys``), and once the graph no longer matches it the
tab says so and greys the numbers out, rather than leaving them as if current.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView, QFrame, QHBoxLayout, QHeaderView, QLabel, QListWidget, QListWidgetItem, QPushButton,
    QScrollArea, QSplitter, QTabWidget, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from .colors import EXPLODING, VANISHING, gradient_rgb
from .plot_style import LEFT_AXIS_WIDTH, LogAxis, PlotColors, plot_colors, style_plots

# The range test's learning rates: the doctor's own defaults, spelt out so the curve can be
# drawn against the rate of each step as it arrives.
LR_START = 1e-6
LR_END = 10.0
LR_STEPS = 100
OVERFIT_STEPS = 200
SMOOTHING = 0.9  # as the range test smooths its loss (studio.doctor.sanity.SMOOTHING)

HINT = ("Press Check to look at the network before its first step: the loss it starts from, and each "
        "layer's activations and gradients on one batch.")
RUNNING = "Checking: one forward and one backward pass on one batch…"
COLUMNS = ("Node", "Block", "Mean", "Std", "Sat.", "Dead", "Grad norm", "Flag")
COLUMN_TIPS = (
    "The node's id on the canvas (click a row to select it there)",
    "Its block",
    "The mean of its output on the batch (its activations)",
    "The standard deviation of its output on the batch",
    "Sigmoid, Tanh: the share of outputs near a bound, where the slope is nearly 0",
    "ReLU: the share of units that are 0 for every sample, which pass no gradient back",
    "The L2 norm of the gradient reaching its weights; the swatch is the colour its wires take",
    "vanishing or exploding gradient, dead or saturated units",
)
VERDICT_LINES = 4  # the sanity check's words get this many lines; longer ones scroll
BUTTONS = {"preview": "Check", "overfit": "Overfit one batch", "lr_find": "Find learning rate"}
INTRO = ("Two checks that train a fresh copy of the network for a moment; the graph and any trained "
         "weights stay as they are.")
STALE_ALPHA = 70  # a stale flag's colour, faded: it no longer describes the graph
OK_COLOR = {"dark": "#4cc38a", "light": "#1a7f37"}
FLAG_COLOR = Qt.ItemDataRole.UserRole + 1  # a flag cell's own colour, kept to fade and restore it


def fingerprint(graph: Any, with_lr: bool = True) -> str:
    """What a check's result depends on: the nodes, their settings, the wires and the training
    settings (less the learning rate when ``with_lr`` is False). Moving or renaming a node
    changes nothing a check measures."""
    training = json.loads(json.dumps(graph.training, default=str))
    if not with_lr and isinstance(training.get("optimizer"), dict):
        training["optimizer"].pop("lr", None)
    nodes = [(n.id, n.block, n.params) for n in graph.nodes.values()]
    return json.dumps([training, nodes, [str(e) for e in graph.edges]], sort_keys=True, default=str)


def check_keys(graph: Any) -> dict[str, str]:
    """The fingerprint each check's result depends on: the preview makes no optimizer step and the
    range test sweeps the rate itself, so neither depends on the learning rate; one-batch training does."""
    without_lr = fingerprint(graph, with_lr=False)
    return {"preview": without_lr, "overfit": fingerprint(graph), "lr_find": without_lr}


def flag_color(flag: str) -> QColor:
    """A flag's colour: the live gradient flow's blue and red for vanishing and exploding
    gradients (the colour their wires take), the theme's amber for dead or saturated units."""
    if flag == "vanishing":
        return QColor(*gradient_rgb(VANISHING / 10))
    if flag == "exploding":
        return QColor(*gradient_rgb(EXPLODING * 10))
    from studio.ui import theme

    return QColor(theme.current().warning)


def _fmt(value: float | None, pattern: str) -> str:
    if value is None:
        return "–"
    if not math.isfinite(value):
        return str(value)
    return pattern.format(value)


def _swatch(rgb: tuple[int, int, int], size: int = 10) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(*rgb))
    return QIcon(pixmap)


def _theme_colors() -> tuple[str, str]:
    from studio.ui import theme

    t = theme.current()
    return OK_COLOR.get(t.name, OK_COLOR["dark"]), t.warning


class CheckView(QWidget):
    nodeActivated = Signal(str)  # a node a person wants to see on the canvas

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.preview: Any = None  # studio.doctor.preview.Preview shown
        self.overfit: Any = None  # OverfitResult shown
        self.lr_result: Any = None  # LRFindResult shown
        self.keys: dict[str, str] = {}  # check -> fingerprint of the graph it ran on
        self.stale: set[str] = set()
        self.current_lr: float | None = None  # the graph's learning rate now
        self._what = ""  # what the preview ran on, in words
        self._idle = True  # no check runs and no training run: the suggestion may be applied
        self._notes: dict[str, tuple[str, str]] = {}  # check -> (words, colour) while it has no result
        self.colors: PlotColors = plot_colors()

        self.stale_label = QLabel()
        self.stale_label.setObjectName("check_stale")
        self.stale_label.setWordWrap(True)
        self.stale_label.hide()

        # ---- the preview ----
        self.status_label = QLabel(HINT)
        self.status_label.setObjectName("check_status")
        self.status_label.setWordWrap(True)
        self.loss_label = QLabel()
        self.loss_label.setObjectName("check_loss")
        self.loss_label.setWordWrap(True)
        self.loss_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.loss_label.hide()
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("check_table")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        for col, tip in enumerate(COLUMN_TIPS):
            self.table.horizontalHeaderItem(col).setToolTip(tip)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 6)
        self.table.cellClicked.connect(self._on_cell)
        self.table.hide()
        self.warnings = QListWidget()
        self.warnings.setObjectName("check_warnings")
        self.warnings.setWordWrap(True)
        self.warnings.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.warnings.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.warnings.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.warnings.setMaximumHeight(96)
        self.warnings.itemClicked.connect(self._on_warning)
        self.warnings.hide()
        left = QWidget()
        left_box = QVBoxLayout(left)
        left_box.setContentsMargins(0, 0, 0, 0)
        left_box.addWidget(self.table, 1)
        left_box.addWidget(self.warnings)

        # ---- the sanity checks ----
        self.overfit_button = QPushButton("Overfit one batch")
        self.overfit_button.setObjectName("overfit_batch")
        self.overfit_button.setToolTip("Train a fresh copy of the network on one small batch: a network and a "
                                       "loss that work learn it by heart within a few hundred steps")
        self.lr_button = QPushButton("Find learning rate")
        self.lr_button.setObjectName("lr_find")
        self.lr_button.setToolTip("Train a fresh copy for 100 steps at a learning rate rising from 1e-6 to 10, "
                                  "and suggest the rate where the loss still falls fast")
        self.use_lr_button = QPushButton("Use lr")
        self.use_lr_button.setObjectName("use_lr")
        self.use_lr_button.hide()
        for b in (self.overfit_button, self.lr_button, self.use_lr_button):
            b.setFocusPolicy(Qt.FocusPolicy.TabFocus)  # a click leaves the keyboard on the canvas
        buttons = QHBoxLayout()
        buttons.addWidget(self.overfit_button)
        buttons.addWidget(self.lr_button)
        buttons.addStretch(1)
        # The two plots are made when first seen or used (``_ensure_plots``): a window that never
        # runs a sanity check does not build them, nor their axes and menus.
        self.overfit_plot = self.lr_plot = None
        # One tab per check: the last one run comes forward, the other stays a click away.
        self.plots = QTabWidget()
        self.plots.setObjectName("check_plots")
        self.plots.setDocumentMode(True)
        self.plots.setMinimumHeight(140)
        self.plots.currentChanged.connect(lambda _i: self._show_verdict())
        self.verdict_label = QLabel(INTRO)
        self.verdict_label.setObjectName("check_verdict")
        self.verdict_label.setWordWrap(True)
        self.verdict_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.verdict_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        # A failed check's words run to several lines: they scroll rather than push the plot away or
        # get cut off at the bottom of a low dock.
        self.verdict_scroll = QScrollArea()
        self.verdict_scroll.setWidgetResizable(True)
        self.verdict_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.verdict_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.verdict_scroll.setWidget(self.verdict_label)
        self.verdict_scroll.setFixedHeight(self.fontMetrics().lineSpacing() * VERDICT_LINES + 6)
        right = QWidget()
        right_box = QVBoxLayout(right)
        right_box.setContentsMargins(0, 0, 0, 0)
        right_box.addLayout(buttons)
        right_box.addWidget(self.plots, 1)
        right_box.addWidget(self.verdict_scroll)
        use = QHBoxLayout()
        use.addWidget(self.use_lr_button)
        use.addStretch(1)
        right_box.addLayout(use)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 4, 4, 4)
        box.addWidget(self.stale_label)
        box.addWidget(self.status_label)
        box.addWidget(self.loss_label)
        box.addWidget(self.splitter, 1)
        self._sized = False
        self._overfit_points: list[tuple[int, float]] = []
        self._lr_points: list[tuple[int, float]] = []
        self.redraws = 0  # curve redraws (for measuring)
        self.apply_colors()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        self._ensure_plots()
        super().showEvent(event)
        if not self._sized and self.width() > 100:
            # The table's columns need the larger share; a plot reads at any width.
            self._sized = True
            self.splitter.setSizes([int(self.width() * 0.6), int(self.width() * 0.4)])

    # ---- theme -------------------------------------------------------------
    def _ensure_plots(self) -> None:
        if self.overfit_plot is not None:
            return
        self.overfit_plot = pg.PlotWidget(background=self.colors.background)
        self.overfit_plot.setObjectName("overfit_plot")
        op = self.overfit_plot.getPlotItem()
        op.setTitle("Overfit one batch: loss per step", size="9pt")
        op.setLabel("bottom", "step")
        op.setLabel("left", "loss")
        op.showGrid(x=True, y=True, alpha=0.25)
        _plain_axes(op)
        self.overfit_curve = op.plot([], [], pen=pg.mkPen(width=2))
        self.target_line = pg.InfiniteLine(angle=0, label="target", labelOpts={"position": 0.85})
        self.target_line.setVisible(False)
        op.addItem(self.target_line)
        self.lr_plot = pg.PlotWidget(background=self.colors.background)
        self.lr_plot.setObjectName("lr_plot")
        lp = self.lr_plot.getPlotItem()
        lp.setAxisItems({"bottom": LogAxis("bottom")})  # "0.0001" and "10⁻⁵" never side by side
        lp.setTitle("Loss as the learning rate rises", size="9pt")
        lp.setLogMode(x=True)
        lp.setLabel("bottom", "learning rate (log)")
        lp.setLabel("left", "loss")
        lp.showGrid(x=True, y=True, alpha=0.25)
        _plain_axes(lp)
        self.lr_raw = lp.plot([], [], pen=pg.mkPen(width=1))
        self.lr_smooth = lp.plot([], [], pen=pg.mkPen(width=2))
        self.lr_line = pg.InfiniteLine(angle=90, label="", labelOpts={"position": 0.9})
        self.lr_line.setVisible(False)
        lp.addItem(self.lr_line, ignoreBounds=True)
        self.plots.addTab(self.overfit_plot, "One batch")
        self.plots.addTab(self.lr_plot, "Learning rate")
        self._style_plots(self.colors)

    def apply_colors(self, colors: PlotColors | None = None) -> None:
        c = self.colors = colors or plot_colors()
        if self.overfit_plot is not None:
            self._style_plots(c)
        ok, amber = _theme_colors()
        self.stale_label.setStyleSheet(f"color: {amber}; font-weight: bold;")
        self._show_loss()
        self._show_verdict()

    def _style_plots(self, c: PlotColors) -> None:
        style_plots(self.overfit_plot, c)
        style_plots(self.lr_plot, c)
        dash = Qt.PenStyle.DashLine
        self.overfit_curve.setPen(pg.mkPen(c.train, width=2))
        self.target_line.setPen(pg.mkPen(c.dim_text, width=1.5, style=dash))
        self.target_line.label.setColor(c.text)
        self.lr_raw.setPen(pg.mkPen(c.raw, width=1))
        self.lr_smooth.setPen(pg.mkPen(c.train, width=2))
        self.lr_line.setPen(pg.mkPen(c.lr, width=1.5))
        self.lr_line.label.setColor(c.lr)

    # ---- the preview ---------------------------------------------------------
    def clear(self) -> None:
        """Nothing checked yet (a new document)."""
        self.preview = self.overfit = self.lr_result = None
        self.keys = {}
        self.stale = set()
        self.status_label.setText(HINT)
        self.status_label.show()
        self.loss_label.hide()
        self.table.setRowCount(0)
        self.table.hide()
        self.warnings.clear()
        self.warnings.hide()
        self._overfit_points, self._lr_points = [], []
        if self.overfit_plot is not None:
            self.overfit_curve.setData([], [])
            self.lr_raw.setData([], [])
            self.lr_smooth.setData([], [])
            self.target_line.setVisible(False)
            self.lr_line.setVisible(False)
            for plot in (self.overfit_plot, self.lr_plot):  # not the old document's axes around no curve
                plot.getPlotItem().setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
                plot.getPlotItem().enableAutoRange()
        self.use_lr_button.hide()
        self._notes = {}
        self._show_stale()

    def preview_started(self) -> None:
        self.status_label.setText(RUNNING)
        self.status_label.show()

    def show_preview(self, preview: Any, key: str) -> None:
        """``preview`` (a ``studio.doctor.preview.Preview``), made on the graph whose fingerprint is ``key``."""
        self.preview = preview
        self.keys["preview"] = key
        self.stale.discard("preview")
        what = (f"the whole graph ({preview.batch_size} labelled nodes)" if preview.task == "node_classification"
                else f"one batch of {preview.batch_size} samples")
        self._what = what
        self.status_label.hide()
        self._show_loss()
        self._fill_table(preview.nodes)
        self.warnings.clear()
        for p in preview.problems:
            item = QListWidgetItem(f"⚠ {p}")
            item.setData(Qt.ItemDataRole.UserRole, p.node)
            item.setToolTip(str(p))
            self.warnings.addItem(item)
        if not preview.problems:
            item = QListWidgetItem("Nothing looks wrong before training.")
            self.warnings.addItem(item)
        self.warnings.show()
        self._show_stale()

    def show_preview_error(self, message: str) -> None:
        self.status_label.setText(f"The check could not run: {message}")
        self.status_label.show()

    def _show_loss(self) -> None:
        if self.preview is None:
            return
        loss = self.preview.loss
        ok, amber = _theme_colors()
        color = ok if loss.as_expected else amber
        mark = "✓" if loss.as_expected else "⚠"
        name = loss.name.replace("_", " ")
        self.loss_label.setText(
            f"<b>Loss at initialisation: {_fmt(loss.value, '{:.4g}')}</b> ({name}, {self._what}); expected about "
            f"{loss.reason}. <span style='color:{color}; font-weight:bold'>{mark} {loss.verdict.capitalize()}."
            "</span>")
        self.loss_label.show()

    def _fill_table(self, nodes: list) -> None:
        table = self.table
        table.setRowCount(len(nodes))
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for row, n in enumerate(nodes):
            cells = (n.node, n.block, _fmt(n.mean, "{:.3g}"), _fmt(n.std, "{:.3g}"), _fmt(n.saturated, "{:.0%}"),
                     _fmt(n.dead, "{:.0%}"), _fmt(n.grad_norm, "{:.1e}"), ", ".join(n.flags))
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, n.node)
                if 2 <= col <= 6:
                    item.setTextAlignment(right)
                table.setItem(row, col, item)
            if n.grad_norm is not None:
                norm_item = table.item(row, 6)
                norm_item.setIcon(_swatch(gradient_rgb(n.grad_norm)))  # the wire's colour on the canvas
                norm_item.setToolTip("The colour its wires take on the canvas, as in the live Gradient flow")
            if n.flags:
                flag_item = table.item(row, 7)
                color = flag_color(n.flags[0])
                flag_item.setData(FLAG_COLOR, color)
                flag_item.setBackground(QBrush(color))
                flag_item.setForeground(QBrush(QColor("#ffffff" if color.lightness() < 140 else "#1f2328")))
                font = flag_item.font()
                font.setBold(True)
                flag_item.setFont(font)
        table.show()
        table.resizeColumnsToContents()

    def row_of(self, node_id: str) -> int | None:
        for row in range(self.table.rowCount()):
            if self.table.item(row, 0).text() == node_id:
                return row
        return None

    def _on_cell(self, row: int, _col: int) -> None:
        item = self.table.item(row, 0)
        if item is not None:
            self.nodeActivated.emit(item.text())

    def _on_warning(self, item: QListWidgetItem) -> None:
        node = item.data(Qt.ItemDataRole.UserRole)
        if node:
            self.nodeActivated.emit(node)

    # ---- the sanity checks ----------------------------------------------------
    def set_busy(self, kind: str | None, can_run: bool = True) -> None:
        """``kind``: the check running ("preview", "overfit", "lr_find") or None; its button becomes
        Stop, the others wait. ``can_run``: False while a training run trains."""
        self.overfit_button.setText("■ Stop" if kind == "overfit" else "Overfit one batch")
        self.lr_button.setText("■ Stop" if kind == "lr_find" else "Find learning rate")
        self.overfit_button.setEnabled(can_run and kind in (None, "overfit"))
        self.lr_button.setEnabled(can_run and kind in (None, "lr_find"))
        self._idle = can_run and kind is None
        self._update_use_button()

    def overfit_started(self, steps: int = OVERFIT_STEPS) -> None:
        self._ensure_plots()
        self.overfit = None
        self.keys.pop("overfit", None)
        self.stale.discard("overfit")
        self._overfit_points = []
        self.overfit_curve.setData([], [])
        self.target_line.setVisible(False)
        self.plots.setCurrentWidget(self.overfit_plot)
        self.overfit_plot.getPlotItem().enableAutoRange()
        self._notes["overfit"] = (f"Training a fresh copy on one batch for up to {steps} steps…", "")
        self._show_stale()

    def add_overfit_points(self, points: list[tuple[int, float]]) -> None:
        self._ensure_plots()
        self._overfit_points.extend(points)
        xs, ys = self._xy(self._overfit_points)
        self.overfit_curve.setData(xs, ys)
        self.redraws += 1

    def show_overfit(self, result: Any, key: str) -> None:
        self._ensure_plots()
        self.overfit = result
        self.keys["overfit"] = key
        losses = np.array([v if math.isfinite(v) else np.nan for v in result.losses], dtype=float)
        self.overfit_curve.setData(np.arange(len(losses), dtype=float), losses, connect="finite")
        self._overfit_points = list(enumerate(result.losses))
        self.target_line.setVisible(True)  # first: a hidden line's label does not take new words
        self.target_line.setPos(result.target)
        self.target_line.label.setFormat(f"target {result.target:.3g}")
        finite = losses[np.isfinite(losses)]
        if finite.size:
            lo = min(float(finite.min()), result.target)
            hi = float(finite.max())
            self.overfit_plot.getPlotItem().setYRange(min(0.0, lo), hi, padding=0.05)
        self.plots.setCurrentWidget(self.overfit_plot)
        self._show_verdict()

    def lr_started(self) -> None:
        self._ensure_plots()
        self.lr_result = None
        self.keys.pop("lr_find", None)
        self.stale.discard("lr_find")
        self._lr_points = []
        self.lr_raw.setData([], [])
        self.lr_smooth.setData([], [])
        self.lr_line.setVisible(False)
        self.use_lr_button.hide()
        self.plots.setCurrentWidget(self.lr_plot)
        plot = self.lr_plot.getPlotItem()
        plot.setXRange(math.log10(LR_START), math.log10(LR_END), padding=0.02)  # the curve grows rightwards
        self._notes["lr_find"] = (f"Training a fresh copy for {LR_STEPS} steps at a learning rate rising from "
                                  f"{LR_START:g} to {LR_END:g}…", "")
        self._show_stale()

    def add_lr_points(self, points: list[tuple[int, float]]) -> None:
        self._ensure_plots()
        self._lr_points.extend(points)
        steps = np.array([k for k, _ in self._lr_points], dtype=float)
        lrs = LR_START * (LR_END / LR_START) ** (steps / (LR_STEPS - 1))
        raw = np.array([v for _, v in self._lr_points], dtype=float)
        self._draw_lr(lrs, raw, _smooth(raw))
        self.redraws += 1

    def show_lr(self, result: Any, key: str) -> None:
        self._ensure_plots()
        self.lr_result = result
        self.keys["lr_find"] = key
        self._draw_lr(np.array(result.lrs, dtype=float), np.array(result.losses, dtype=float),
                      np.array(result.smoothed, dtype=float))
        if result.suggested is not None:
            self.lr_line.setVisible(True)  # first: a hidden line's label does not take new words
            self.lr_line.setPos(math.log10(result.suggested))  # a log axis places items by the exponent
            self.lr_line.label.setFormat(f"suggested {result.suggested:g}")
            self.use_lr_button.setText(f"Use lr {result.suggested:g}")
            self.use_lr_button.setToolTip(f"Set training.optimizer.lr to {result.suggested:g} (one undoable edit)")
            self.use_lr_button.show()
        self.plots.setCurrentWidget(self.lr_plot)
        self._show_verdict()
        self._update_use_button()

    def show_sanity_error(self, kind: str, message: str) -> None:
        """``kind`` ("overfit" or "lr_find") could not run: why, in amber."""
        _ok, amber = _theme_colors()
        what = "The one-batch test" if kind == "overfit" else "The learning-rate test"
        self._notes[kind] = (f"{what} could not run: {message}", amber)
        self._show_verdict()

    def _draw_lr(self, lrs: np.ndarray, raw: np.ndarray, smooth: np.ndarray) -> None:
        self._ensure_plots()
        raw = np.where(np.isfinite(raw), raw, np.nan)
        smooth = np.where(np.isfinite(smooth), smooth, np.nan)
        self.lr_raw.setData(lrs, raw, connect="finite")
        self.lr_smooth.setData(lrs, smooth, connect="finite")
        shown = smooth[np.isfinite(smooth)]
        if shown.size:
            # The blow-up at the end would flatten the part that matters: the loss is shown up to a
            # little above where it started.
            start = float(shown[:4].max())
            lo, hi = float(shown.min()), max(start, float(shown.min())) * 1.25
            self.lr_plot.getPlotItem().setYRange(lo - 0.05 * (hi - lo), hi, padding=0)

    @staticmethod
    def _xy(points: list[tuple[int, float]]) -> tuple[np.ndarray, np.ndarray]:
        xs = np.array([k for k, _ in points], dtype=float)
        ys = np.array([v if math.isfinite(v) else np.nan for _, v in points], dtype=float)
        return xs, ys

    def _show_verdict(self) -> None:
        """The words of the check shown in the plot area: passed in green, failed in amber."""
        ok, amber = _theme_colors()
        shown = self.plots.currentWidget()
        self.use_lr_button.setVisible(shown is self.lr_plot and self.lr_result is not None
                                      and self.lr_result.suggested is not None)
        kind = "overfit" if shown is self.overfit_plot else "lr_find"
        if (self.overfit if kind == "overfit" else self.lr_result) is None:
            # Not run yet, running, or it could not run: what is going on, in words.
            text, color = self._notes.get(kind, (INTRO, ""))
            self.verdict_label.setText(text)
            self.verdict_label.setStyleSheet(f"color: {color}; font-weight: bold;" if color else "")
            return
        if shown is self.overfit_plot and self.overfit is not None:
            r = self.overfit
            head = "Passed" if r.passed else ("Stopped" if r.stopped else "Failed")
            color = ok if r.passed else ("" if r.stopped else amber)
            self.verdict_label.setText(f"{head}: {r.verdict}.")
        elif shown is self.lr_plot and self.lr_result is not None:
            r = self.lr_result
            if r.suggested is None:
                color = amber
                text = f"No suggestion: {r.why}."
            else:
                color = ok
                now = f" (now {self.current_lr:g})" if self.current_lr is not None else ""
                text = f"Suggested learning rate: {r.suggested:g}{now}: {r.why}."
            if r.stopped:
                text = f"Stopped after {len(r.lrs)} steps. {text}"
            self.verdict_label.setText(text)
        else:
            return
        if kind in self.stale:
            color = plot_colors().dim_text  # the words of a graph that is no more
        self.verdict_label.setStyleSheet(f"color: {color}; font-weight: bold;" if color else "")

    def _update_use_button(self) -> None:
        r = self.lr_result
        if r is None or r.suggested is None:
            self.use_lr_button.setEnabled(False)
            return
        same = self.current_lr is not None and math.isclose(self.current_lr, r.suggested, rel_tol=1e-9)
        self.use_lr_button.setEnabled(self._idle and not same and "lr_find" not in self.stale)
        if same:
            self.use_lr_button.setToolTip(f"The learning rate is {r.suggested:g} already")
        else:
            self.use_lr_button.setToolTip(f"Set training.optimizer.lr to {r.suggested:g} (one undoable edit)")

    # ---- following the graph ---------------------------------------------------
    @property
    def has_results(self) -> bool:
        return bool(self.keys)

    def follow(self, keys: dict[str, str], lr: float | None) -> set[str]:
        """The graph as it is now (its ``check_keys`` and learning rate): results made on another
        graph are marked stale. Returns the stale checks."""
        self.current_lr = lr
        self.stale = {kind for kind, key in self.keys.items() if keys.get(kind) != key}
        self._show_stale()
        self._show_verdict()
        self._update_use_button()
        return set(self.stale)

    def _show_stale(self) -> None:
        self.stale_label.setText(stale_text(self.stale))
        self.stale_label.setVisible(bool(self.stale))
        current = "preview" not in self.stale
        for w in (self.loss_label, self.table, self.warnings):
            w.setEnabled(current)  # greyed: numbers of a graph that is no more
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 7)
            color = item.data(FLAG_COLOR) if item is not None else None
            if color is not None:
                shown = QColor(color)
                shown.setAlpha(255 if current else STALE_ALPHA)
                item.setBackground(QBrush(shown))
        self._show_verdict()


def _plain_axes(plot: pg.PlotItem) -> None:
    """Plain numbers on the axes (no SI prefix: "loss (x0.001)" only puzzles a learner) and a left
    axis as wide as the live views'. These plots redraw for a second or two, not a whole run: no
    cached axes, which kept labels of a former size on a plot that had grown."""
    for name in ("left", "bottom"):
        plot.getAxis(name).enableAutoSIPrefix(False)
    plot.getAxis("left").setWidth(LEFT_AXIS_WIDTH)


def stale_text(stale: set[str]) -> str:
    """What the tab says of results made on a graph that has changed since, naming the buttons that
    make them again: "The graph changed since this check; press Check again."."""
    buttons = [BUTTONS[k] for k in ("preview", "overfit", "lr_find") if k in stale]
    if not buttons:
        return ""
    if len(buttons) == 1:
        return f"The graph changed since this check; press {buttons[0]} again."
    return f"The graph changed since these checks; press {', '.join(buttons[:-1])} and {buttons[-1]} again."


def _smooth(raw: np.ndarray) -> np.ndarray:
    """The range test's smoothing (an exponential moving average, bias-corrected), for the curve
    drawn while it runs; the result brings the test's own."""
    out = np.empty_like(raw)
    average = 0.0
    for k, value in enumerate(raw):
        average = SMOOTHING * average + (1 - SMOOTHING) * value
        out[k] = average / (1 - SMOOTHING ** (k + 1))
    return out
