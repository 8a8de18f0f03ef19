"""The decision boundary of a 2-D classifier: its prediction field under the data points;
for a regression of one number on one number, its twin: the network's function drawn
as a line over the data points (the tab is then "Function").

Every probe it is fed is shown in turn (``FramePacer``), so the regions can be
seen bending around the data as the network learns, and the title names the
step of the frame shown. One image item (or curve) and one scatter item, updated
in place. Where the network is one Linear(1 -> 1) the title writes its line,
``y = 1.98 x + 1.03``, so w and b are seen moving. A data set that is neither
gets a message in place of an empty plot.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtWidgets import QLabel, QStackedWidget, QVBoxLayout, QWidget

from studio.training.events import ProbeEvent

from .draw_budget import MeteredPlotWidget
from .pacing import FramePacer
from .plot_style import steady_plot, plot_colors
from .colors import class_color, prediction_field


TITLE = "Decision boundary"
FUNCTION_TITLE = "Function"
EMPTY = ("No decision boundary to draw for this data set.\n\nA decision boundary is drawn for "
         "classification of 2-D points (xor, spiral, moons, circles, blobs): the colour shows the class the "
         "network predicts at each point of the plane; for regression of one number on one number (the "
         "function data set), the network's function is drawn over the points. For other data, the "
         "Activations and Gradient flow tabs show how the network learns.")
WHEN_LOADED = ("When it has, a decision boundary is drawn here for classification of 2-D points, or the "
               "network's function for regression of one number on one number.")
NO_DATA = "No data set loaded.\n\n" + WHEN_LOADED.replace("When it has", "When one is")
LOADING = "Reading the data set…\n\n" + WHEN_LOADED
BOUNDARY_CAPTION = ("For 2-D classification (spiral, moons, XOR): the colour is the class the network predicts "
                    "at each point, paler where it is unsure; dots are the data.")
FUNCTION_CAPTION = ("The line is the network's output y for each input x, redrawn as it learns; dots are the "
                    "training data. A network fits the data where the line runs through the dots.")
MAX_POINTS = 600  # data points drawn under the field or the curve


def is_function_data(dataset) -> bool:
    """One number in, one number out, regression: the network's function can be drawn."""
    return (dataset is not None and dataset.task == "regression" and dataset.input_shape == (1,)
            and tuple(dataset.output_shape) == (1,) and len(dataset.inputs) == 1 and dataset.train.y is not None)


def expects_function(graph) -> bool:
    """Whether a document's network will have a function to draw, told before its data set loads
    (a built-in regression set into one Input [1]), so its tab is named as the document opens."""
    from studio.data import DataError
    from studio.data.catalog import info

    spec = (graph.training or {}).get("dataset")
    name = spec.get("name") if isinstance(spec, dict) else spec
    try:
        regression = isinstance(name, str) and info(name).task == "regression"
    except DataError:
        return False
    shapes = [tuple(n.params.get("shape") or ()) for n in graph.nodes.values() if n.spec.is_input]
    return regression and shapes == [(1,)]


def equation(w: float, b: float) -> str:
    """``y = 1.98 x + 1.03``: two decimals while they say something, three figures beyond."""
    def num(v: float) -> str:
        return f"{v:.2f}" if abs(v) < 1000 else f"{v:.3g}"
    sign = "−" if b < 0 else "+"
    return f"y = {num(w)} x {sign} {num(abs(b))}"


class BoundaryView(QWidget):
    titleChanged = Signal(str)  # "Decision boundary" or "Function": what the tab should say

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot_widget = MeteredPlotWidget(background=plot_colors().background)
        self.plot: pg.PlotItem = self.plot_widget.getPlotItem()
        self.plot.setAspectLocked(True)
        self.plot.setLabel("bottom", "x₁")
        self.plot.setLabel("left", "x₂")
        self.plot.setTitle(TITLE)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.points = pg.ScatterPlotItem(size=5, pen=pg.mkPen("w", width=0.5))
        self.plot.addItem(self.points)
        self.curve: pg.PlotDataItem | None = None  # built when a data set has a function to draw
        self.caption = QLabel(BOUNDARY_CAPTION)
        self.caption.setWordWrap(True)
        steady_plot(self.plot)
        self.empty_label = QLabel(NO_DATA)
        self.empty_label.setObjectName("boundary_empty")
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setMargin(24)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.plot_widget)
        self.stack.addWidget(self.empty_label)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.stack, 1)
        box.addWidget(self.caption)
        self.n_classes: int | None = None
        self.has_points = False
        self.last_step: int | None = None
        self.last_epoch: int | None = None
        self.redraws = 0  # frames drawn since the last clear()
        self.field: np.ndarray | None = None  # the last RGB field drawn
        self.function_mode = False  # drawing a function over 1-D points, not a boundary over 2-D ones
        self.equation: str | None = None  # the line's equation in the last frame, for one Linear(1 -> 1)
        self._rect: QRectF | None = None
        self.pacer = FramePacer(self._draw, self)
        self._show_state()

    @property
    def title(self) -> str:
        """What the view shows: its tab's text."""
        return FUNCTION_TITLE if self.function_mode else TITLE

    @property
    def is_empty(self) -> bool:
        """Showing the message that this data set has no boundary to draw."""
        return self.stack.currentWidget() is self.empty_label

    def _show_state(self) -> None:
        drawn = self.field is not None or (self.function_mode and self.last_step is not None)
        self.stack.setCurrentWidget(self.plot_widget if self.has_points or drawn else self.empty_label)

    def set_data(self, dataset, loading: bool = False) -> None:
        """The points of a data set: 2-D class points under a boundary, 1-D (x, y) points under a
        function, or neither (the message). None: no data set yet (``loading``: one is being read)."""
        if dataset is None:  # none loaded yet: the view stays as the document expects it
            self.points.setData([], [])
            self.has_points = False
            self.empty_label.setText(LOADING if loading else NO_DATA)
            self._show_state()
        elif dataset.input_shape == (2,) and dataset.is_classification:
            y = dataset.train.y[:MAX_POINTS].numpy() if dataset.train.y is not None else None
            self.set_points(dataset.train.x[:MAX_POINTS].numpy(), y, dataset.num_classes)
        elif is_function_data(dataset):
            self.set_function_points(dataset.train.x[:MAX_POINTS, 0].numpy(), dataset.train.y[:MAX_POINTS, 0].numpy())
        else:
            self.set_points(None, None)

    def show_loading(self) -> None:
        """A data set is being read: where no points are shown yet, say so rather than that it has none."""
        if not self.has_points:
            self.empty_label.setText(LOADING)

    def expect(self, graph) -> None:
        """A new document: name the view for what its data set will be, before the data loads."""
        self._set_mode(expects_function(graph))

    def _set_mode(self, function: bool) -> None:
        if function == self.function_mode:
            return
        self.clear()
        self.function_mode = function
        self.plot.setAspectLocked(not function)
        self.plot.setLabel("bottom", "x" if function else "x₁")
        self.plot.setLabel("left", "y" if function else "x₂")
        self.plot.setTitle(self.title)
        self.caption.setText(FUNCTION_CAPTION if function else BOUNDARY_CAPTION)
        self.titleChanged.emit(self.title)

    def set_function_points(self, x: np.ndarray, y: np.ndarray) -> None:
        """(x, y) data under the network's function. The view is the data's box, widened as the
        probe widens its range and once only: a diverging line leaves it rather than squash the data."""
        self._set_mode(True)
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        shown_x, shown_y = self.points.getData()
        if self.last_step is not None and not (np.array_equal(shown_x, x) and np.array_equal(shown_y, y)):
            self.clear()  # other data (a data set changed or undone): the last run's line fitted the old
        colors = plot_colors()
        if self.curve is None:
            self.curve = self.plot.plot([], [], pen=pg.mkPen(colors.val, width=2.5))
            self.curve.setZValue(1)  # over the dots
        else:
            self.curve.setPen(pg.mkPen(colors.val, width=2.5))
        self.points.setData(x, y, brush=pg.mkBrush(*class_color(0), 170), pen=pg.mkPen(None), size=6)
        self.has_points = len(x) > 0
        if self.has_points:
            dx = max(float(x.max() - x.min()), 1e-6) * 0.1
            dy = max(float(y.max() - y.min()), 1e-6) * 0.25
            self._rect = QRectF(float(x.min()) - dx, float(y.min()) - dy,
                                float(x.max() - x.min()) + 2 * dx, float(y.max() - y.min()) + 2 * dy)
            self.plot.setRange(self._rect, padding=0.0)
        self._show_state()

    def set_points(self, points: np.ndarray | None, labels: np.ndarray | None, n_classes: int | None = None) -> None:
        """The data drawn over the field (a sample of the training set); None: this data set
        is not 2-D points, and the view says so instead of showing an empty plot."""
        self._set_mode(False)
        self.n_classes = n_classes
        if points is None or len(points) == 0:
            self.points.setData([], [])
            self.has_points = False
            self.empty_label.setText(EMPTY)
        else:
            points = np.asarray(points, dtype=float)
            labels = np.zeros(len(points), dtype=int) if labels is None else np.asarray(labels).astype(int)
            brushes = [pg.mkBrush(*class_color(c)) for c in labels]
            self.points.setData(points[:, 0], points[:, 1], brush=brushes, pen=pg.mkPen("w", width=0.5), size=5)
            self.has_points = True
            if self.field is None:
                self._rect = None
                self.plot.enableAutoRange()
        self._show_state()

    def clear(self) -> None:
        """Back to no frame: the data alone under the title, or the message."""
        self.pacer.clear()
        self.image.clear()
        if self.curve is not None:
            self.curve.setData([], [])
        self.field = None
        self.equation = None
        self.last_step = self.last_epoch = None
        self.redraws = 0
        self.plot.setTitle(self.title)
        if not self.function_mode:  # a function's view is the data's box, kept
            self._rect = None
            self.plot.enableAutoRange()
        self._show_state()

    def feed(self, events: Iterable[object]) -> None:
        frames = [ev for ev in events if isinstance(ev, ProbeEvent)
                  and (ev.function is not None if self.function_mode else ev.boundary is not None)]
        self.pacer.push(frames, animate=self.isVisible())

    def catch_up(self) -> None:
        """Show the newest frame fed now, skipping any still waiting their turn."""
        self.pacer.finish()

    def _draw(self, probe: ProbeEvent) -> None:
        if self.function_mode:
            self._draw_function(probe)
            return
        grid = probe.boundary
        rgb = prediction_field(grid.classes, grid.confidence, self.n_classes)
        self.field = rgb  # before setImage, whose signal listeners may look at it
        self.last_step, self.last_epoch = probe.step, probe.epoch
        self.image.setImage(rgb, autoLevels=False, levels=(0, 255))
        xs, ys = np.asarray(grid.xs, float), np.asarray(grid.ys, float)
        dx = (xs[-1] - xs[0]) / max(1, len(xs) - 1)
        dy = (ys[-1] - ys[0]) / max(1, len(ys) - 1)
        # Cell centres are at xs/ys: the image spans half a cell beyond them.
        rect = QRectF(xs[0] - dx / 2, ys[0] - dy / 2, dx * len(xs), dy * len(ys))
        self.image.setRect(rect)
        if self._rect is None or not _near(rect, self._rect):
            # the field's extent is the view: set once, not auto-ranged on every redraw (a coarser
            # grid spans the same box give or take half a cell)
            self._rect = rect
            self.plot.setRange(rect, padding=0.02)
        self.redraws += 1
        self.plot.setTitle(f"{TITLE} at step {probe.step:,} (epoch {probe.epoch:,})")
        if self.stack.currentWidget() is not self.plot_widget:
            self.stack.setCurrentWidget(self.plot_widget)

    def _draw_function(self, probe: ProbeEvent) -> None:
        fn = probe.function
        self.last_step, self.last_epoch = probe.step, probe.epoch
        ys = np.asarray(fn.ys, dtype=float)
        # a diverged run's outputs are inf or nan: the line breaks there instead of failing to draw
        self.curve.setData(np.asarray(fn.xs, dtype=float), np.where(np.isfinite(ys), ys, np.nan), connect="finite")
        self.equation = equation(*fn.line) if fn.line is not None else None
        self.redraws += 1
        title = f"{FUNCTION_TITLE} at step {probe.step:,} (epoch {probe.epoch:,})"
        self.plot.setTitle(f"{title}:  {self.equation}" if self.equation else title)
        if self.stack.currentWidget() is not self.plot_widget:
            self.stack.setCurrentWidget(self.plot_widget)


def _near(a: QRectF, b: QRectF) -> bool:
    tol = 0.05 * max(a.width(), a.height(), 1e-12)
    return all(abs(u - v) <= tol for u, v in ((a.left(), b.left()), (a.top(), b.top()),
                                               (a.right(), b.right()), (a.bottom(), b.bottom())))
