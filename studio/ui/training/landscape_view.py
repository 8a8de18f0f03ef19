"""The "Loss surface" tab: gradient descent seen on the network's loss over two axes.

The heat map is the loss (log scale, darker is lower) over the two axes of
``studio.training.landscape``: a two-parameter network's weight and bias, any other
network's slice along two random filter-normalised directions. Over it, the paths of
the real ``torch.optim`` optimizers from one start at the learning rate on the slider
(log scale, 1e-4 to 10, typeable), revealed point by point by a timer at about 50
frames a second, each path's state written beside it in the legend ("diverged at step 12").
While a run of a two-parameter network trains, its own (w, b) path ("your run")
is drawn over the surface as its probes arrive.

The surface and paths are computed on a thread of their own (``OneAtATime``), from
the document as it is (a copy), when the tab is first shown or shown after an edit;
a change of the learning rate alone computes new paths. The plot is built when the tab
is first shown: a window that never shows it pays nothing for it.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QRectF, Qt, QTimer
from PySide6.QtGui import QTransform
from PySide6.QtWidgets import (
    QCheckBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QSizePolicy, QSlider, QStackedWidget, QVBoxLayout, QWidget,
)

from shiboken6 import isValid

from .colors import class_color
from .plot_style import CACHE, PlotColors, plot_colors, steady_plot, style_plots

TITLE = "Loss surface"
OPTIMIZERS = ("SGD", "Momentum", "Nesterov", "RMSprop", "Adam")  # as studio.training.landscape names them
LABELS = {"SGD": "SGD", "Momentum": "SGD + momentum 0.9", "Nesterov": "Nesterov", "RMSprop": "RMSprop",
          "Adam": "Adam"}
LR_LOW, LR_HIGH = 1e-4, 10.0
SLIDER_STEPS = 500  # slider positions from LR_LOW to LR_HIGH, evenly on the log scale
STEPS = 100
MIN_STEPS = 20
GRID = 64
MIN_GRID = 16
FRAME_MS = 20  # one more point of every path each frame: 50 frames a second
CONTOURS = 8
SMOOTH = 4  # the heat map is drawn this many times finer than the grid it was computed on
SAMPLES = 512  # data samples the loss is measured on
MIN_SAMPLES = 8  # however big the network
SURFACE_SECONDS = 4.0  # a big network gets a coarser grid, and loss on fewer samples, to stay near this
PATH_SECONDS = 6.0  # and fewer steps, to stay near this
RUN_REDRAW_S = 0.5  # the run's own path is redrawn at most this often (each redraw repaints the plot)
EDIT_DELAY_MS = 400  # edits come in bursts: compute once they pause
HINT = ("The loss over two axes of the network's weights, darker where it is lower. From the same start, "
        "five optimizers take {steps} steps at the learning rate on the slider: small ones crawl, large ones "
        "swing across the valley and diverge, momentum overshoots and settles, Adam and RMSprop rescale each axis.")


def lr_of(position: int) -> float:
    """The learning rate at a slider position (log scale)."""
    share = position / SLIDER_STEPS
    return 10 ** (math.log10(LR_LOW) + share * (math.log10(LR_HIGH) - math.log10(LR_LOW)))


def position_of(lr: float) -> int:
    share = (math.log10(lr) - math.log10(LR_LOW)) / (math.log10(LR_HIGH) - math.log10(LR_LOW))
    return int(round(min(1.0, max(0.0, share)) * SLIDER_STEPS))


def parse_lr(text: str) -> float:
    """The typed learning rate, or ValueError saying what is wrong with it."""
    try:
        lr = float(text.strip())
    except ValueError:
        raise ValueError(f"learning rate: {text.strip()!r} is not a number") from None
    if not (LR_LOW <= lr <= LR_HIGH):
        raise ValueError(f"learning rate: {text.strip()} is outside {LR_LOW:g} to {LR_HIGH:g}")
    return lr


@dataclass
class Computed:
    """What one job on the worker thread gives the view."""

    landscape: Any  # studio.training.landscape.Landscape, only ever used on the worker thread
    lr: float
    steps: int
    paths: dict
    surface: Any  # Surface, or None when the last one still holds the paths
    size: int


def compute(landscape, lr: float, steps: int, size: int, box) -> tuple[dict, Any]:
    """On the worker thread: the paths at ``lr``, and a new surface when they leave ``box``."""
    from studio.training.landscape import union

    paths = landscape.paths(lr, steps)
    needed = landscape.frame(list(paths.values()))
    wider = union(box, needed)
    surface = landscape.surface(wider, size) if wider != box else None
    return paths, surface


def build(setup, lr: float) -> Computed:
    """On the worker thread: the network of ``setup`` (a ``RunSetup``) with its freshly drawn weights,
    its plane, the paths at ``lr`` and the surface under them."""
    from studio.doctor.run_setup import isolated, prepare
    from studio.training.landscape import Landscape

    with isolated():
        prepared = prepare(setup.graph, setup.base_dir, setup.dataset, device=setup.config.device)
        batch = prepared.batch(SAMPLES)
        landscape = Landscape(prepared.model, batch.inputs, batch.targets, prepared.loss,
                              seed=setup.config.seed)
        call = 4 * landscape.seconds_per_point(4)  # one batched call: what a path's step is made of
        # a cheap call is mostly its fixed overhead: a grid row's worth says what a point costs
        per_point = landscape.seconds_per_point(GRID) if call < 0.1 else call / 4
        affordable = SURFACE_SECONDS / MIN_GRID ** 2
        if per_point > affordable and landscape.samples > MIN_SAMPLES:
            # a big network: the loss on fewer samples, so that even the coarsest grid comes in time
            fewer = max(MIN_SAMPLES, int(landscape.samples * affordable / per_point))
            landscape = Landscape(prepared.model, batch.inputs, batch.targets, prepared.loss,
                                  seed=setup.config.seed, max_samples=fewer)
            call = 4 * landscape.seconds_per_point(4)
            per_point = call / 4
        size = max(MIN_GRID, min(GRID, int(math.sqrt(SURFACE_SECONDS / per_point))))
        # a step of the five paths (a forward and a backward pass at five points, then five optimizer
        # steps) costs about one such call and a fifth, measured on the spiral MLP
        steps = max(MIN_STEPS, min(STEPS, int(PATH_SECONDS / (1.2 * call))))
        paths, surface = compute(landscape, lr, steps, size, None)
    return Computed(landscape, lr, steps, paths, surface, size)


class LandscapeView(QWidget):
    """The tab; ``panel`` is the training panel it sits in (its document, data set and runs)."""

    def __init__(self, panel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.panel = panel
        self.colors: PlotColors = plot_colors()
        self.lr = 0.01
        self.built = False
        self.stale = True  # the document changed since the surface was computed
        self.computed: Computed | None = None
        self.surface = None
        self.box = None
        self.paths: dict = {}
        self.shown = 0  # points of each path revealed
        self.frame_times: list[float] = []  # when each animation frame was drawn (measured by the tests)
        self.run_points: list[tuple[float, float]] = []
        self.generation = 0  # counts the document's changes
        self._graph = None
        self._unsubscribe = None
        self._jobs = None
        self._timer = QTimer(self)
        self._timer.setInterval(FRAME_MS)
        self._timer.timeout.connect(self._next_frame)
        self._edits = QTimer(self, singleShot=True, interval=EDIT_DELAY_MS, timeout=self._refresh)
        self._lr_wait = QTimer(self, singleShot=True, interval=120, timeout=self._recompute_paths)
        self._box = QVBoxLayout(self)
        self._box.setContentsMargins(0, 0, 0, 0)
        panel.config_form.configChanged.connect(self._on_config)
        panel.chooser.datasetLoaded.connect(lambda _ds: self._changed())
        panel.runStarted.connect(self._on_run_started)
        panel.runFinished.connect(self._draw_run)  # the path to the run's last probe
        self._run_drawn = float("-inf")
        self._follow_graph()
        self._on_config(None)

    # ---- built on first show -------------------------------------------------
    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        self._ensure_built()
        super().showEvent(event)
        self._draw_run()  # what a run reported while the tab was hidden
        if self.stale:
            self._refresh()

    def _ensure_built(self) -> None:
        if self.built:
            return
        self.built = True
        from studio.ui.off_thread import OneAtATime

        self._jobs = OneAtATime(self, name="studio-loss-surface")
        self.play_button = QPushButton("Play")
        self.play_button.setObjectName("landscape_play")
        self.play_button.setToolTip("Draw the paths step by step from the start")
        self.play_button.clicked.connect(self.play)
        self.reset_button = QPushButton("Reset")
        self.reset_button.setObjectName("landscape_reset")
        self.reset_button.setToolTip("Back to the start point, every path undrawn")
        self.reset_button.clicked.connect(self.reset)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("landscape_lr_slider")
        self.slider.setRange(0, SLIDER_STEPS)
        self.slider.setPageStep(SLIDER_STEPS // 20)
        self.slider.setToolTip("The learning rate, on a log scale from 0.0001 to 10")
        self.slider.setValue(position_of(self.lr))
        self.slider.valueChanged.connect(self._on_slider)
        self.lr_edit = QLineEdit(f"{self.lr:.4g}")
        self.lr_edit.setObjectName("landscape_lr")
        self.lr_edit.setMaximumWidth(80)
        self.lr_edit.setToolTip("Type a learning rate from 0.0001 to 10, then Enter")
        self.lr_edit.editingFinished.connect(self._on_typed)
        top = QHBoxLayout()
        top.addWidget(self.play_button)
        top.addWidget(self.reset_button)
        top.addSpacing(12)
        top.addWidget(QLabel("Learning rate"))
        top.addWidget(self.slider, 1)
        top.addWidget(self.lr_edit)
        checks = QHBoxLayout()
        self.boxes: dict[str, QCheckBox] = {}
        for i, name in enumerate(OPTIMIZERS):
            box = QCheckBox(LABELS[name])
            box.setObjectName(f"landscape_show_{name}")
            box.setChecked(True)
            r, g, b = class_color(i)
            box.setStyleSheet(f"QCheckBox {{ color: rgb({r}, {g}, {b}); font-weight: bold; }}")
            box.toggled.connect(self._on_shown)
            self.boxes[name] = box
            checks.addWidget(box)
        checks.addStretch(1)

        self.plot_widget = pg.PlotWidget(background=self.colors.background)
        self.plot_widget.setObjectName("landscape_plot")
        self.plot: pg.PlotItem = self.plot_widget.getPlotItem()
        self.plot.setTitle(TITLE)
        self.plot.setMenuEnabled(False)
        self.image = pg.ImageItem(axisOrder="row-major")
        # the surface and its contours change seldom, the paths over them often: blitted from a pixmap
        self.image.setCacheMode(CACHE)
        self.plot.addItem(self.image)
        self.contours = []
        for _ in range(CONTOURS):
            iso = pg.IsocurveItem(level=0.0, pen=pg.mkPen(self.colors.dim_text, width=1), axisOrder="row-major")
            iso.setParentItem(self.image)
            iso.setCacheMode(CACHE)
            iso.setTransform(QTransform().translate(0.5, 0.5).scale(SMOOTH, SMOOTH))  # through pixel centres
            self.contours.append(iso)
        # Beside the map, not over it: a path can start or run anywhere on it, and the tab is wider
        # than tall. Curves named when plotted join it (PlotItem.addItem asks plot.legend).
        # Its column spans title to bottom axis, rows packed: in a short tab the map keeps its axes.
        self.legend = pg.LegendItem(labelTextSize="8pt", verSpacing=-6)
        self.plot.layout.addItem(self.legend, 0, 3, 4, 1)
        self.legend.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.plot.layout.setAlignment(self.legend, Qt.AlignmentFlag.AlignVCenter)  # a tall tab: rows stay together
        self.plot.legend = self.legend
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.written: dict[str, str] = {}  # what the legend says beside each path
        for i, name in enumerate(OPTIMIZERS):
            self.curves[name] = self.plot.plot([], [], pen=pg.mkPen(class_color(i), width=2), name=LABELS[name])
            self.curves[name].setZValue(10 + len(OPTIMIZERS) - i)  # plain SGD, the one to watch, on top
        self.run_curve = self.plot.plot([], [], pen=pg.mkPen(self.colors.text, width=2, style=Qt.PenStyle.DashLine),
                                        name="your run")
        # where each path is now: one item for all five, so a frame redraws one scatter, not five
        self.heads = pg.ScatterPlotItem(size=7, pen=pg.mkPen(self.colors.text, width=1))
        self.plot.addItem(self.heads)
        self.start_mark = pg.ScatterPlotItem(size=11, symbol="star", pen=pg.mkPen(self.colors.text),
                                             brush=pg.mkBrush(self.colors.text))
        self.plot.addItem(self.start_mark)
        self.heads.setZValue(30)
        self.start_mark.setZValue(31)
        self.run_curve.setZValue(29)
        steady_plot(self.plot)
        self.empty_label = QLabel("")
        self.empty_label.setObjectName("landscape_empty")
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setMargin(24)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.plot_widget)
        self.stack.addWidget(self.empty_label)
        self.status = QLabel(HINT.format(steps=STEPS))
        self.status.setObjectName("landscape_status")
        self.status.setWordWrap(True)
        self._box.addLayout(top)
        self._box.addLayout(checks)
        self._box.addWidget(self.stack, 1)
        self._box.addWidget(self.status)
        style_plots(self.plot_widget, self.colors)
        self._show_message("Computing the loss surface…")

    # ---- the document ---------------------------------------------------------
    def _follow_graph(self) -> None:
        graph = self.panel.graph
        if graph is self._graph:
            return
        if self._unsubscribe is not None:
            self._unsubscribe()
        self._graph = graph
        self._unsubscribe = graph.subscribe(self._on_graph_event)
        self._changed()

    def _on_graph_event(self, event) -> None:
        if not isValid(self) or event.kind in ("node_moved", "label_changed"):
            return
        if event.kind == "training_changed" and _without_lr(event.old) == _without_lr(self._graph.training):
            return  # the learning rate alone: _on_config moves the slider
        self._changed()

    def _changed(self) -> None:
        self.stale = True
        self.generation += 1  # a surface on its way belongs to the document as it was
        self.run_points = []  # a path over another surface
        if self.built:
            self.run_curve.setData([], [])
            self.computed, self.paths = None, {}
            self._show_message("Computing the loss surface…")
        if self.isVisible():
            self._edits.start()

    def _on_config(self, _cfg) -> None:
        self._follow_graph()
        lr = (self.panel.graph.training.get("optimizer") or {}).get("lr")
        if isinstance(lr, (int, float)) and LR_LOW <= lr <= LR_HIGH and lr != self.lr:
            self.set_lr(float(lr))

    def _refresh(self) -> None:
        """Compute the surface for the document as it is now (off this thread)."""
        if not self.built:
            return
        if self.panel.chooser.loading:  # computed once it is read (datasetLoaded)
            self._show_message("Reading the data set…")
            return
        self._follow_graph()
        from .run import preflight, problem_headline

        panel = self.panel
        setup, problems = preflight(panel.graph, panel.chooser.dataset, panel.chooser.error, panel.chooser.reach)
        self.stale = False
        if problems or setup is None:
            self._show_message(f"No loss surface to draw yet: {problem_headline(problems)} "
                               "See the list under Train.")
            return
        if setup.checked.task == "gan":
            self._show_message("No loss surface for a GAN: it trains two networks against each other, and each "
                               "one's loss moves with the other's weights. Watch both losses in Loss and accuracy.")
            return
        self.computed = None
        self.status.setText("Computing the loss surface…")
        lr, generation = self.lr, self.generation
        self._jobs.submit(lambda: build(setup, lr),
                          lambda result, error, seconds: self._on_built(result, error, seconds, generation))

    def _on_built(self, result: Computed | None, error: BaseException | None, _seconds: float,
                  generation: int) -> None:
        if generation != self.generation or not isValid(self):
            return  # the document changed while it was computed: its own surface is on its way
        if error is not None:
            self._show_message(f"The loss surface cannot be drawn: {error}")
            return
        self.computed = result
        self.box = None
        self._show_paths(result.paths, result.surface)
        if result.lr != self.lr:
            self._recompute_paths()

    # ---- learning rate -------------------------------------------------------------
    def set_lr(self, lr: float) -> None:
        """Show the paths at ``lr`` (kept within 1e-4 .. 10)."""
        lr = min(LR_HIGH, max(LR_LOW, float(lr)))
        self.lr = lr
        if not self.built:
            return
        self.lr_edit.setText(f"{lr:.4g}")
        if self.slider.value() != position_of(lr):
            self.slider.blockSignals(True)
            self.slider.setValue(position_of(lr))
            self.slider.blockSignals(False)
        self._lr_wait.start()

    def _on_slider(self, position: int) -> None:
        self.set_lr(float(f"{lr_of(position):.3g}"))

    def _on_typed(self) -> None:
        try:
            lr = parse_lr(self.lr_edit.text())
        except ValueError as exc:
            self.status.setText(f"Loss surface: {exc}. Type a number from 0.0001 to 10.")
            self.lr_edit.setText(f"{self.lr:.4g}")
            return
        if lr != self.lr:
            self.set_lr(lr)

    def _recompute_paths(self) -> None:
        computed = self.computed
        if computed is None or computed.lr == self.lr and self.paths:
            return
        lr, box = self.lr, self.box
        self.status.setText(f"Computing the paths at learning rate {lr:g}…")

        def show(result, error, _seconds) -> None:
            if computed is not self.computed:
                return  # the document changed meanwhile: its own surface is on its way
            if error is not None:
                self.status.setText(f"The paths cannot be computed: {error}")
                return
            computed.lr = lr
            self._show_paths(*result)
            if self.lr != lr:
                self._lr_wait.start()

        self._jobs.submit(lambda: compute(computed.landscape, lr, computed.steps, computed.size, box), show)

    # ---- drawing ---------------------------------------------------------------------
    def _show_message(self, text: str) -> None:
        self._timer.stop()
        self.empty_label.setText(text)
        self.stack.setCurrentWidget(self.empty_label)
        self.status.setText(HINT.format(steps=STEPS))

    def _show_paths(self, paths: dict, surface) -> None:
        self.stack.setCurrentWidget(self.plot_widget)
        land = self.computed.landscape
        if surface is not None:
            self._draw_surface(surface, land.axes)
        self.paths = paths
        self.start_mark.setData([land.start[0]], [land.start[1]])
        hint = HINT.format(steps=self.computed.steps)
        self.status.setText(
            f"{hint} Loss on {land.samples} samples; axes: {land.axes[0]} and {land.axes[1]}"
            + (" (the network's two parameters)." if land.two_scalars else
               " (a slice through the weights along two random directions, each filter scaled to its weights)."))
        self.play()

    def _draw_surface(self, surface, axes) -> None:
        self.surface = surface
        self.box = surface.box
        z = np.log10(np.maximum(np.nan_to_num(surface.losses, nan=1e30, posinf=1e30), 1e-12))
        lo, hi = float(z.min()), float(np.percentile(z, 97))
        hi = max(hi, lo + 1e-6)
        # drawn SMOOTH times finer than computed (bilinear), so the grid's cells do not show as blocks
        self.image.setImage(_finer(z, SMOOTH), autoLevels=False, levels=(lo, hi))
        self.image.setLookupTable(_surface_lut(self.colors))
        xs, ys = surface.xs, surface.ys
        dx = (xs[-1] - xs[0]) / max(1, len(xs) - 1) / SMOOTH
        dy = (ys[-1] - ys[0]) / max(1, len(ys) - 1) / SMOOTH
        rows, cols = self.image.image.shape
        rect = QRectF(xs[0] - dx / 2, ys[0] - dy / 2, dx * cols, dy * rows)
        self.image.setRect(rect)
        for iso, level in zip(self.contours, np.linspace(lo, hi, CONTOURS + 2)[1:-1]):
            iso.setData(z, level)  # on the computed grid: its point (i, j) is the fine pixel (i, j) * SMOOTH
        self.plot.setLabel("bottom", axes[0])
        self.plot.setLabel("left", axes[1])
        self.plot.setRange(rect, padding=0.0)

    def play(self) -> None:
        """Draw every path again from its start, a step a frame."""
        if not self.built or not self.paths:
            return
        self.shown = 0
        self.frame_times = []
        self._timer.start()
        self._next_frame()

    def reset(self) -> None:
        """Back to the start: the paths undrawn, the animation stopped."""
        self._timer.stop()
        self.shown = 0
        if self.built:
            self._draw_upto(1)

    def _next_frame(self) -> None:
        longest = max((len(p.points) for p in self.paths.values()), default=0)
        self.shown = min(self.shown + 1, longest)
        self._draw_upto(self.shown)
        self.frame_times.append(time.perf_counter())
        if self.shown >= longest:
            self._timer.stop()

    @property
    def playing(self) -> bool:
        return self._timer.isActive()

    def _draw_upto(self, count: int) -> None:
        heads, brushes = [], []
        for i, (name, curve) in enumerate(self.curves.items()):
            path = self.paths.get(name)
            on = path is not None and self.boxes[name].isChecked()
            curve.setVisible(on)
            k = min(count, len(path.points)) if on else 0
            # the state is written beside the path's colour in the legend (labels at the paths' ends lie
            # on top of each other where the paths meet at the minimum), once the path is drawn to its end
            if not on:
                self._write(name, f"{LABELS[name]} (hidden)")
                continue
            self._write(name, f"{LABELS[name]}: {path.describe()}" if k == len(path.points) else LABELS[name])
            pts = path.points[:k]
            curve.setData(pts[:, 0], pts[:, 1])
            x, y = pts[-1]
            if self.box is not None:  # a diverged path's last point may lie far outside: at the edge
                x0, x1, y0, y1 = self.box
                x, y = min(max(x, x0), x1), min(max(y, y0), y1)
            heads.append((x, y))
            brushes.append(pg.mkBrush(*class_color(i)))
        pts = np.asarray(heads, dtype=float).reshape(-1, 2)
        self.heads.setData(pts[:, 0], pts[:, 1], brush=brushes)

    def _write(self, name: str, text: str) -> None:
        if self.written.get(name) != text:  # a legend label laid out again only when it changes
            self.written[name] = text
            self.legend.getLabel(self.curves[name]).setText(text, color=self.colors.text)

    def describe(self) -> dict[str, str]:
        """Each path's state as written beside it."""
        return {name: p.describe() for name, p in self.paths.items()}

    def _on_shown(self, _on: bool) -> None:
        self._draw_upto(max(self.shown, 1))

    # ---- the run's own path ------------------------------------------------------------
    def _on_run_started(self, _number: int) -> None:
        self.run_points = []
        computed = self.computed
        if self.panel.weights is None and computed is not None and computed.landscape.two_scalars and not self.stale:
            # a run from freshly drawn weights starts where the paths do (the same seed draws them); its
            # first probe comes some steps later
            self.run_points.append(tuple(float(v) for v in computed.landscape.start))
        if self.built:
            self.run_curve.setData([], [])
        session = self.panel.session
        if session is not None:
            session.events.connect(self._on_run_events)

    def _on_run_events(self, batch: list) -> None:
        grew = False
        for ev in batch:
            point = getattr(ev, "point", None)
            if point is not None:
                self.run_points.append(point)
                grew = True
        now = time.monotonic()
        if grew and self.built and self.isVisible() and now - self._run_drawn >= RUN_REDRAW_S:
            self._draw_run()

    def _draw_run(self, *_args) -> None:
        if not self.built:
            return
        self._run_drawn = time.monotonic()
        pts = np.asarray(self.run_points, dtype=float).reshape(-1, 2)
        self.run_curve.setData(pts[:, 0], pts[:, 1])

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        # the app's theme is its palette: a new palette means new plot colours
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self.apply_colors()

    def apply_colors(self, colors: PlotColors | None = None) -> None:
        self.colors = colors or plot_colors()
        if not self.built:
            return
        style_plots(self.plot_widget, self.colors)
        self.run_curve.setPen(pg.mkPen(self.colors.text, width=2, style=Qt.PenStyle.DashLine))
        for iso in self.contours:
            iso.setPen(pg.mkPen(self.colors.dim_text, width=1))
        if self.surface is not None:
            self.image.setLookupTable(_surface_lut(self.colors))
        if self.paths:
            self.written.clear()  # the legend's labels again, in the new text colour
            self._draw_upto(max(self.shown, 1))


def _without_lr(training: dict | None) -> dict:
    training = dict(training or {})
    optimizer = dict(training.get("optimizer") or {})
    optimizer.pop("lr", None)
    training["optimizer"] = optimizer
    return training


def _finer(z: np.ndarray, k: int) -> np.ndarray:
    """``z`` bilinearly interpolated ``k`` times finer: ((H - 1) k + 1, (W - 1) k + 1) values."""
    def axis(n: int) -> tuple[np.ndarray, np.ndarray]:
        at = np.linspace(0, n - 1, (n - 1) * k + 1)
        low = np.minimum(at.astype(int), max(n - 2, 0))
        return low, at - low

    (r, fr), (c, fc) = axis(z.shape[0]), axis(z.shape[1])
    r1, c1 = np.minimum(r + 1, z.shape[0] - 1), np.minimum(c + 1, z.shape[1] - 1)
    top = z[r][:, c] * (1 - fc) + z[r][:, c1] * fc
    bottom = z[r1][:, c] * (1 - fc) + z[r1][:, c1] * fc
    return top * (1 - fr[:, None]) + bottom * fr[:, None]


def _surface_lut(colors: PlotColors) -> np.ndarray:
    """Low loss dark, high loss light, in muted blue-greys: the paths' colours stand out on it."""
    dark = colors.background.lower() != "#ffffff"
    stops = (["#15181d", "#23384a", "#4f6f86", "#a9bccb"] if dark else
             ["#2f4b63", "#6f8ea8", "#b9cad8", "#f4f7fa"])
    cmap = pg.ColorMap(np.linspace(0, 1, len(stops)), [pg.mkColor(c) for c in stops])
    return cmap.getLookupTable(0.0, 1.0, 256)
