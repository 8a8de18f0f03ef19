"""The Try it tab: the trained network applied to what the person draws, opens, clicks or types.

It uses the panel's trained weights (set at the end of a run or by File >
Load Weights…) through ``studio.evaluation.predict.Predictor``, built when
the tab is first shown after the weights change. What it offers follows the
network's Input: a drawing pad for images [C, H, W] (with the top classes and
a saliency map, updated as the person draws), a plane to click for 2-D points
[2], a line to type for token sequences [L] of whole numbers; for anything
else a sentence says what is not offered and what is.

Predictions run on the window's thread: one sample through the digits network,
with its saliency map, takes a few milliseconds. While the person draws they
are made at most ``RATE_HZ`` times a second, and slower for a network that
takes longer (never more than ``SHARE`` of the time). A network whose
prediction takes longer than ``OFF_THREAD_S`` (measured when the tab is
built) predicts drawings on a thread of its own, the newest drawing only, so
the pen never waits for it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QCheckBox, QFileDialog, QGridLayout, QHBoxLayout, QLabel, QLineEdit, QProgressBar, QPushButton,
    QStackedWidget, QVBoxLayout, QWidget,
)

from .colors import class_color, prediction_field
from .draw_pad import DrawPad, fit_to_frame, IMAGE_SUFFIXES
from ..off_thread import OneAtATime
from .plot_style import plot_colors, steady_plot

RATE_HZ = 15  # predictions a second at most while the person draws
SHARE = 0.3  # of the UI thread's time at most, for a network slower than a few milliseconds
OFF_THREAD_S = 0.02  # a prediction with its saliency map slower than this runs off the window's thread
TOP_K = 3
PREVIEW_PX = 112  # the input as the network sees it, and its saliency map, on screen
MAX_POINTS = 600  # training points drawn under the plane to click
FIELD_CELLS = 120  # the predicted classes under them, in cells a side

TRAIN_FIRST = ("Train first: press Train (or load trained weights with File > Load Weights…), and this tab "
               "lets you try the trained network: draw a digit for an image model, click a point for a "
               "2-D problem, or type a sequence of tokens, and see what it predicts.")
TRAINING = ("Training: when this run ends, try the network it trained here: draw a digit for an image "
            "model, click a point for a 2-D problem, or type a sequence of tokens.")
NO_DATA = ("Choose the data set the network was trained on: Try it needs its classes and scaling to "
           "read what the network predicts.")
DRAW_HINT = "Draw in the black square with the mouse."
CLICK_HINT = ("Click a point of the plane to see what the network predicts there. The colour under the "
              "points is the class it predicts, paler where it is unsure.")
EDITED = ("The graph has changed since these weights were trained ({changes}). Try it still predicts with the "
          "network as it was trained; press Train to try the graph as it is now.")
IMAGE_FILTER = "Images (" + " ".join(f"*{s}" for s in IMAGE_SUFFIXES) + ");;All files (*)"


def unsupported_text(shape: tuple[int, ...], dtype: str, task: str) -> str:
    shown = "[" + ", ".join(str(s) for s in shape) + "]"
    return (f"Try it is not offered for this network: it takes {dtype} inputs of shape {shown} ({task}). "
            "Try it offers a drawing pad for images [C, H, W], a plane to click for 2-D points [2], and a line "
            "to type for token sequences [L] (whole numbers). For other inputs use the command line: "
            "studio predict FILE --weights WEIGHTS INPUT (CSV rows, .npy arrays, image files, text lines).")


def open_image_name(parent: QWidget, directory: str = "") -> str:
    """The image file a person picks ('' when cancelled)."""
    path, _ = QFileDialog.getOpenFileName(parent, "Open an image to try", directory, IMAGE_FILTER)
    return path


def gray_pixmap(a: np.ndarray, px: int) -> QPixmap:
    """A [H, W] array in 0..1 as a grey pixmap ``px`` wide, each cell a sharp square."""
    a = np.ascontiguousarray((np.clip(np.nan_to_num(a), 0.0, 1.0) * 255).astype(np.uint8))
    h, w = a.shape
    image = QImage(a.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
    return QPixmap.fromImage(image).scaled(px, px, Qt.AspectRatioMode.KeepAspectRatio,
                                           Qt.TransformationMode.FastTransformation)


def heat_pixmap(a: np.ndarray, px: int) -> QPixmap:
    """A [H, W] array in 0..1 as black through red to yellow."""
    t = np.clip(np.nan_to_num(a), 0.0, 1.0)
    rgb = np.stack([np.clip(2 * t, 0, 1), np.clip(2 * t - 1, 0, 1), np.zeros_like(t)], axis=-1)
    rgb = np.ascontiguousarray((rgb * 255).astype(np.uint8))
    h, w, _ = rgb.shape
    image = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
    return QPixmap.fromImage(image).scaled(px, px, Qt.AspectRatioMode.KeepAspectRatio,
                                           Qt.TransformationMode.FastTransformation)


def to_unit(a: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return (np.asarray(a, dtype=np.float64) - lo) / (hi - lo) if hi > lo else np.zeros_like(a, dtype=np.float64)


def _structure(graph: Any) -> tuple[dict[str, tuple[str, dict]], set]:
    """What the weights depend on: each node's block and parameters, and the wires (not positions or labels)."""
    nodes = {nid: (n.block, dict(n.params)) for nid, n in graph.nodes.items()}
    return nodes, set(graph.edges)


def graph_changes(trained: Any, now: Any, most: int = 3) -> str:
    """The edits from ``trained`` to ``now`` that bear on the network, in words ('' when none):
    "fc2: out_features 84 → 50", "conv9 added", "relu2 removed", "wires changed"."""
    (before, wires_before), (after, wires_after) = _structure(trained), _structure(now)
    changes = []
    for nid, (block, params) in after.items():
        if nid not in before:
            changes.append(f"{nid} added")
        elif before[nid][0] != block:
            changes.append(f"{nid}: {before[nid][0]} → {block}")
        elif before[nid][1] != params:
            old = before[nid][1]
            keys = [k for k in sorted(set(old) | set(params)) if old.get(k) != params.get(k)]
            changes.append(f"{nid}: " + ", ".join(f"{k} {old.get(k)} → {params.get(k)}" for k in keys))
    changes += [f"{nid} removed" for nid in before if nid not in after]
    if wires_before != wires_after:
        changes.append("wires changed")
    if len(changes) > most:
        changes = changes[:most] + [f"{len(changes) - most} more"]
    return "; ".join(changes)


def image_input(shape: tuple[int, ...], dtype: str, task: str) -> bool:
    """Whether a network with this Input takes pictures: [1 or 3, H, W], or a flattened square [H * W]
    (a classifier of at least 8 x 8 pixels)."""
    if dtype != "float":
        return False
    if len(shape) == 3:
        return shape[0] in (1, 3)
    if len(shape) == 1 and task == "classification" and shape[0] >= 64:
        return round(shape[0] ** 0.5) ** 2 == shape[0]
    return False


class ProbabilityBars(QWidget):
    """The top classes, best first: name, a bar, and the probability in per cent."""

    def __init__(self, rows: int = TOP_K, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        self.names: list[QLabel] = []
        self.bars: list[QProgressBar] = []
        for i in range(rows):
            name = QLabel()
            name.setMinimumWidth(36)
            bar = QProgressBar()
            bar.setRange(0, 1000)
            bar.setTextVisible(True)
            bar.setFormat("")
            grid.addWidget(name, i, 0)
            grid.addWidget(bar, i, 1)
            self.names.append(name)
            self.bars.append(bar)
        grid.setColumnStretch(1, 1)
        self.shown: list[tuple[str, float]] = []
        self.clear()

    def show_top(self, top: list[tuple[str, float]]) -> None:
        self.shown = [(str(n), float(p)) for n, p in top[:len(self.bars)]]
        for i, (name, bar) in enumerate(zip(self.names, self.bars)):
            if i < len(self.shown):
                n, p = self.shown[i]
                name.setText(f"<b>{n}</b>" if i == 0 else n)
                bar.setValue(int(round(1000 * p)))
                bar.setFormat(f"{100 * p:.1f}%" if p >= 0.001 or p == 0 else "<0.1%")
                bar.setVisible(True)
            else:
                name.setText("")
                bar.setVisible(False)

    def clear(self) -> None:
        """No prediction: no bars (empty ones read as a prediction of nothing)."""
        self.shown = []
        for name, bar in zip(self.names, self.bars):
            name.setText("")
            bar.setValue(0)
            bar.setFormat("")
            bar.setVisible(False)


class TryItView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.graph: Any = None
        self.weights: dict[str, Any] | None = None
        self.dataset: Any = None
        self.predictor: Any = None
        self.kind = "none"  # "none", "message", "image", "points" or "tokens"
        self._stale = False  # new weights not yet built into a predictor
        self.prediction: Any = None  # the last Prediction shown
        self.predictions = 0  # made since the last model
        self.seconds: list[float] = []  # what each of the last predictions took (with saliency)
        self._last_at = float("-inf")
        self.opened: str | None = None  # an image file shown on the pad in place of a drawing
        self._timer = QTimer(self, singleShot=True, timeout=self.update_prediction)
        self.cost = 0.0  # seconds one prediction with its saliency map took, measured when built
        self.off_thread = False  # whether drawings are predicted off the window's thread (a big network)
        self.background = OneAtATime(self, "studio-try-it")

        self.message = QLabel(TRAIN_FIRST)
        self.message.setObjectName("try_it_message")
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setMargin(24)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # Said above every page while the document differs from the graph the weights were trained on.
        self.edited_label = QLabel()
        self.edited_label.setObjectName("try_it_edited")
        self.edited_label.setWordWrap(True)
        self.edited_label.setStyleSheet("color: #d08020;")
        self.edited_label.hide()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.message)
        self._build_image_page()
        self._build_points_page()
        self._build_tokens_page()
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.edited_label)
        box.addWidget(self.stack)
        self.stack.setCurrentWidget(self.message)

    def heightForWidth(self, width: int) -> int:  # noqa: N802 (Qt name)
        # The scroll area around the tab asks this of a layout holding word-wrapped text, and would
        # get the pages' preferred heights (the plane's 480 px): a vertical scroll bar in a dock of
        # ordinary height, the plane's axis cut off. The pages fit in their minimum heights.
        return -1

    # ---- pages ------------------------------------------------------------------
    def _build_image_page(self) -> None:
        self.pad = DrawPad()
        self.clear_button = QPushButton("Clear")
        self.open_button = QPushButton("Open image…")
        self.fit_box = QCheckBox("Fit the drawing to the frame")
        self.fit_box.setChecked(True)
        self.fit_box.setToolTip("Centre the drawing and scale it to fill the network's input, as the "
                                "training images are (a small digit in a corner is otherwise hard to read)")
        self.clear_button.clicked.connect(self.pad.clear)
        self.open_button.clicked.connect(self._on_open)
        self.fit_box.toggled.connect(lambda _on: self.update_prediction())
        self.pad.strokeChanged.connect(self._on_stroke)
        self.pad.strokeEnded.connect(self.update_prediction)
        self.pad.imageDropped.connect(self.open_image)
        buttons = QHBoxLayout()
        buttons.addWidget(self.clear_button)
        buttons.addWidget(self.open_button)
        buttons.addStretch(1)
        left = QVBoxLayout()
        left.addWidget(self.pad, 1)
        left.addLayout(buttons)
        left.addWidget(self.fit_box)

        self.image_status = QLabel(DRAW_HINT)
        self.image_status.setObjectName("try_it_status")
        self.image_status.setWordWrap(True)
        self.top_bars = ProbabilityBars()
        self.seen_label = QLabel()
        self.seen_label.setFixedSize(PREVIEW_PX, PREVIEW_PX)
        self.seen_label.setToolTip("The drawing as the network's input: resized to its height and width")
        self.saliency_label = QLabel()
        self.saliency_label.setObjectName("saliency")
        self.saliency_label.setFixedSize(PREVIEW_PX, PREVIEW_PX)
        self.saliency_label.setToolTip("Saliency: |gradient × input| of the top class, brightest where the "
                                       "pixels drove the prediction most")
        pics = QGridLayout()
        pics.addWidget(QLabel("The network sees"), 0, 0)
        pics.addWidget(QLabel("Saliency (gradient × input)"), 0, 1)
        pics.addWidget(self.seen_label, 1, 0)
        pics.addWidget(self.saliency_label, 1, 1)
        pics.setColumnStretch(2, 1)
        right = QVBoxLayout()
        right.addWidget(self.image_status)
        right.addWidget(self.top_bars)
        right.addLayout(pics)
        right.addStretch(1)
        page = QWidget()
        row = QHBoxLayout(page)
        row.addLayout(left, 1)
        row.addLayout(right, 1)
        self.image_page = page
        self.stack.addWidget(page)

    def _build_points_page(self) -> None:
        self.plane = pg.PlotWidget(background=plot_colors().background)
        plot = self.plane.getPlotItem()
        plot.setLabel("bottom", "x₁")
        plot.setLabel("left", "x₂")
        plot.setAspectLocked(True)
        plot.showGrid(x=True, y=True, alpha=0.25)
        steady_plot(plot)
        self.plane_field = pg.ImageItem(axisOrder="row-major")
        plot.addItem(self.plane_field)
        self.plane_points = pg.ScatterPlotItem(size=6, pen=pg.mkPen("w", width=0.8))
        self.plane_marker = pg.ScatterPlotItem(size=18, symbol="star", pen=pg.mkPen("#000000", width=1.5))
        plot.addItem(self.plane_points)
        plot.addItem(self.plane_marker)
        self.plane.scene().sigMouseClicked.connect(self._on_plane_click)
        self.point_status = QLabel(CLICK_HINT)
        self.point_status.setObjectName("point_status")
        self.point_status.setWordWrap(True)
        self.point_bars = ProbabilityBars(rows=TOP_K)
        right = QVBoxLayout()
        right.addWidget(self.point_status)
        right.addWidget(self.point_bars)
        right.addStretch(1)
        page = QWidget()
        row = QHBoxLayout(page)
        row.addWidget(self.plane, 3)
        row.addLayout(right, 2)
        self.points_page = page
        self.stack.addWidget(page)

    def _build_tokens_page(self) -> None:
        self.token_edit = QLineEdit()
        self.token_edit.setObjectName("try_it_tokens")
        self.token_edit.setPlaceholderText("type tokens, separated by spaces")
        self.token_edit.textChanged.connect(lambda _t: self.update_prediction())
        self.token_help = QLabel()
        self.token_help.setWordWrap(True)
        self.token_status = QLabel()
        self.token_status.setObjectName("token_status")
        self.token_status.setWordWrap(True)
        self.token_status.setTextFormat(Qt.TextFormat.RichText)
        self.token_bars = ProbabilityBars()
        page = QWidget()
        col = QVBoxLayout(page)
        col.addWidget(self.token_help)
        col.addWidget(self.token_edit)
        col.addWidget(self.token_status)
        col.addWidget(self.token_bars)
        col.addStretch(1)
        self.tokens_page = page
        self.stack.addWidget(page)

    # ---- what the panel calls ---------------------------------------------------
    def clear(self) -> None:
        """No trained weights: the sentence that says to train first."""
        self.graph = self.weights = self.dataset = self.predictor = None
        self._stale = False
        self.prediction = None
        self._point = None
        self.edited_label.hide()
        self._show_message(TRAIN_FIRST)

    def set_training(self, training: bool) -> None:
        """A run started or ended: with nothing trained yet to try, the tab says one is on its way."""
        if self.weights is None and self.message.text() in (TRAIN_FIRST, TRAINING):
            self._show_message(TRAINING if training else TRAIN_FIRST)

    def note_graph(self, graph: Any) -> None:
        """The document as it is now (after each edit): when it differs from the graph the weights were
        trained on, a line says so and what changed; predictions keep using the trained network."""
        changes = graph_changes(self.graph, graph) if self.graph is not None and graph is not None else ""
        self.edited_label.setText(EDITED.format(changes=changes) if changes else "")
        self.edited_label.setVisible(bool(changes))

    def set_model(self, graph: Any, weights: dict[str, Any], dataset: Any) -> None:
        """New trained weights (of ``graph``, trained on ``dataset``): used from the next prediction on,
        built at once when the tab is shown, else when it is next shown."""
        self.graph, self.weights, self.dataset = graph, weights, dataset
        self.predictor = None
        self._stale = True
        self.edited_label.hide()
        if self.isVisible():
            self.build()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        if self._stale:
            self.build()

    def build(self) -> None:
        """The predictor for the weights set, and the page its Input calls for."""
        self._stale = False
        self.predictions = 0
        self.seconds = []
        self.off_thread = False
        if self.weights is None:
            self._show_message(TRAIN_FIRST)
            return
        if self.dataset is None:
            self._show_message(NO_DATA)
            return
        from studio.evaluation.predict import Predictor

        ds = self.dataset
        if ds.task in ("gan", "node_classification") or len(ds.inputs) != 1:
            why = {"gan": "a GAN generates from noise rather than answering for one sample",
                   "node_classification": "a node classifier answers for a whole graph at once"}.get(
                ds.task, f"the network takes {len(ds.inputs)} inputs")
            more = " The Samples tab shows what it generates." if ds.task == "gan" else ""
            self._show_message(f"Try it is not offered for this network: {why}.{more}")
            return
        try:
            self.predictor = Predictor.from_state(self.graph, self.weights, ds)
        except Exception as exc:  # a graph edited past its weights, a data set that does not fit: say so
            self.predictor = None
            self._show_message(f"Try it cannot use these weights: {exc}")
            return
        p = self.predictor
        shape, dtype = tuple(p.input_shape), p.input_dtype
        if image_input(shape, dtype, p.task):
            self.kind = "image"
            self.stack.setCurrentWidget(self.image_page)
            self._warm_up()
        elif shape == (2,) and dtype == "float":
            self.kind = "points"
            self._fill_plane()
            self.stack.setCurrentWidget(self.points_page)
        elif len(shape) == 1 and dtype == "long":
            self.kind = "tokens"
            self._fill_token_help()
            self.stack.setCurrentWidget(self.tokens_page)
        else:
            self._show_message(unsupported_text(shape, dtype, p.task))
            return
        self.update_prediction()

    def _warm_up(self) -> None:
        """Two predictions with saliency maps of a blank input, not shown: torch's first calls cost a
        hundred times a later one, and the first strokes should not pay for them. The second says
        what one costs: a network slower than OFF_THREAD_S is asked on a thread of its own."""
        lo, _hi = self.predictor.raw_range()
        blank = np.full(self.predictor.input_shape, lo, dtype=np.float32)
        try:
            image_outcome(self.predictor, blank)
            started = time.perf_counter()
            image_outcome(self.predictor, blank)
            self.cost = time.perf_counter() - started
        except Exception:  # noqa: BLE001 - the real prediction reports what is wrong
            self.cost = 0.0
        self.off_thread = self.cost > OFF_THREAD_S

    def _show_message(self, text: str) -> None:
        self.kind = "message" if text not in (TRAIN_FIRST, TRAINING) else "none"
        self.message.setText(text)
        self.stack.setCurrentWidget(self.message)

    # ---- predicting ---------------------------------------------------------------
    def _interval(self) -> float:
        """Seconds between predictions while drawing: RATE_HZ, or slower for a slow network."""
        if self.off_thread:
            return 1.0 / RATE_HZ  # the pen does not wait for those: the newest drawing is asked next
        # The quickest of the last few: a first call's warm-up or a stray slow one must not slow drawing.
        cost = min(self.seconds[-5:]) if self.seconds else 0.0
        return max(1.0 / RATE_HZ, cost / SHARE)

    def _on_stroke(self) -> None:
        if self.opened is not None and self.pad.shown is None:
            self.opened = None  # drawing replaced the opened image
        if self.pad.is_blank:
            self.update_prediction()  # cleared: nothing to wait for
            return
        wait = self._interval() - (time.monotonic() - self._last_at)
        if wait <= 0:
            self.update_prediction()
        elif not self._timer.isActive():
            self._timer.start(int(wait * 1000) + 1)

    def update_prediction(self) -> None:
        """Predict for what the page holds now (the drawing, the clicked point, the typed tokens)."""
        self._timer.stop()
        if self.predictor is None:
            return
        if self.kind == "image" and self.off_thread:
            self._predict_image_off_thread()
            return
        started = time.perf_counter()
        before = self.predictions
        if self.kind == "image":
            self._predict_image()
        elif self.kind == "tokens":
            self._predict_tokens()
        elif self.kind == "points" and self._point is not None:
            self._predict_point(*self._point)
        if self.predictions == before:
            return  # nothing to predict on (a blank pad, tokens still being typed)
        self._made(time.perf_counter() - started)

    def _made(self, seconds: float) -> None:
        self._last_at = time.monotonic()
        self.seconds.append(seconds)
        del self.seconds[:-50]

    def _image_sample(self) -> np.ndarray | None:
        from studio.evaluation.inputs import image_to_input, read_image
        from studio.evaluation.predict import PredictError

        p = self.predictor
        if self.opened is not None:
            try:  # read for this network: its channels, size, range, and ink the way it learnt it
                return read_image(Path(self.opened), p, Path(self.opened).name)
            except PredictError as exc:
                self.opened = None
                self.pad.clear()
                self.image_status.setText(str(exc))
                return None
        if self.pad.is_blank:
            return None
        gray = self.pad.gray()
        if self.fit_box.isChecked():
            gray = fit_to_frame(gray)
        return image_to_input(gray, p)

    def _image_input(self) -> np.ndarray | None:
        """The sample to predict on, or None (the page then says why, or asks for a drawing)."""
        x = self._image_sample()
        if x is None:
            self.prediction = None
            self.top_bars.clear()
            self.seen_label.clear()
            self.saliency_label.clear()
            if self.pad.is_blank:
                self.image_status.setText(DRAW_HINT)
            return None
        return np.asarray(x, dtype=np.float32)

    def _predict_image(self) -> None:
        x = self._image_input()
        if x is None:
            return
        p = self.predictor
        try:
            outcome = image_outcome(p, x)
        except Exception as exc:  # noqa: BLE001 - a network that fails on this input says so, in place
            self.image_status.setText(f"The network could not predict: {exc}")
            return
        self._show_image(p, x, outcome)

    def _predict_image_off_thread(self) -> None:
        """A big network: predicted on a thread of its own, shown when done (the newest drawing only)."""
        x = self._image_input()
        if x is None:
            return
        p = self.predictor

        def show(outcome: Any, error: BaseException | None, seconds: float) -> None:
            if p is not self.predictor:
                return  # new weights came meanwhile: this prediction is of the old ones
            if error is not None:
                self.image_status.setText(f"The network could not predict: {error}")
                return
            self._show_image(p, x, outcome)
            self._made(seconds)

        self.background.submit(lambda: image_outcome(p, x), show)
        self._last_at = time.monotonic()

    def _show_image(self, p: Any, x: np.ndarray, outcome: tuple[Any, np.ndarray | None]) -> None:
        pred, sal = outcome
        self.prediction = pred
        self.predictions += 1
        lo, hi = p.raw_range()
        self.seen_label.setPixmap(gray_pixmap(as_picture(to_unit(x, lo, hi)), PREVIEW_PX))
        if pred.kind == "classes":
            top = pred.top(TOP_K)[0]
            self.top_bars.show_top(top)
            self.image_status.setText(f"The network says <b>{top[0][0]}</b> ({100 * top[0][1]:.1f}%).")
            peak = float(sal.max()) if sal.size else 0.0
            self.saliency_label.setPixmap(heat_pixmap(sal / peak if peak > 0 else sal, PREVIEW_PX))
        else:
            self.top_bars.clear()
            self.saliency_label.clear()
            self.image_status.setText(f"The network gives {values_text(pred.values[0])}.")

    # ---- 2-D points ------------------------------------------------------------------
    _point: tuple[float, float] | None = None

    def _fill_plane(self) -> None:
        ds = self.dataset
        # The point clicked stays (new weights of the same network: it is predicted again by them).
        self.plane_marker.setData([], [])
        self.point_bars.clear()
        self.point_status.setText(CLICK_HINT)
        try:
            x = ds.train.x
            if ds.scaler is not None:
                x = ds.scaler.invert(x)
            x = np.asarray(x.detach().cpu().numpy() if hasattr(x, "detach") else x, dtype=np.float64)
            y = ds.train.y
            labels = np.asarray(y.detach().cpu().numpy() if hasattr(y, "detach") else y).reshape(len(x), -1)[:, 0]
        except Exception:  # the plane works without the data under it
            self.plane_points.setData([], [])
            return
        keep = np.linspace(0, len(x) - 1, min(len(x), MAX_POINTS)).astype(int) if len(x) else []
        x, labels = x[keep], labels[keep]
        brushes = [pg.mkBrush(*class_color(int(c))) for c in labels] if ds.is_classification else None
        self.plane_points.setData(x[:, 0], x[:, 1], brush=brushes or pg.mkBrush(127, 127, 127, 150))
        if len(x):
            self._fill_field(x)
        self.plane.getPlotItem().enableAutoRange()

    def _fill_field(self, x: np.ndarray) -> None:
        """The class the network predicts over the data's box (and a margin), under the points: where
        a click will land, before clicking."""
        self.plane_field.clear()
        if self.predictor.task != "classification":
            return
        lo, hi = x.min(axis=0), x.max(axis=0)
        pad = 0.15 * np.maximum(hi - lo, 1e-6)
        lo, hi = lo - pad, hi + pad
        xs, ys = np.linspace(lo[0], hi[0], FIELD_CELLS), np.linspace(lo[1], hi[1], FIELD_CELLS)
        gx, gy = np.meshgrid(xs, ys)
        try:
            probs = self.predictor.predict(np.stack([gx.ravel(), gy.ravel()], 1).astype(np.float32)).probabilities
        except Exception:  # noqa: BLE001 - the clicks report what is wrong
            return
        rgb = prediction_field(probs.argmax(1).reshape(gx.shape), probs.max(1).reshape(gx.shape), probs.shape[1])
        self.plane_field.setImage(rgb, autoLevels=False, levels=(0, 255))
        dx, dy = (hi[0] - lo[0]) / (FIELD_CELLS - 1), (hi[1] - lo[1]) / (FIELD_CELLS - 1)
        self.plane_field.setRect(QRectF(lo[0] - dx / 2, lo[1] - dy / 2, dx * FIELD_CELLS, dy * FIELD_CELLS))

    def _on_plane_click(self, event) -> None:
        if self.kind != "points" or event.button() != Qt.MouseButton.LeftButton:
            return
        vb = self.plane.getPlotItem().getViewBox()
        if not vb.sceneBoundingRect().contains(event.scenePos()):
            return
        pt = vb.mapSceneToView(event.scenePos())
        self.click_point(pt.x(), pt.y())

    def click_point(self, x: float, y: float) -> None:
        """Predict at (x, y) of the plane, as a click there does."""
        self._point = (float(x), float(y))
        self.update_prediction()

    def _predict_point(self, x: float, y: float) -> None:
        pred = self.predictor.predict(np.array([[x, y]], dtype=np.float32))
        self.prediction = pred
        self.predictions += 1
        where = f"({x:.3g}, {y:.3g})"
        if pred.kind == "classes":
            top = pred.top(TOP_K)[0]
            best = self.predictor.class_names.index(top[0][0]) if top[0][0] in self.predictor.class_names else 0
            self.plane_marker.setData([x], [y], brush=pg.mkBrush(*class_color(best)))
            self.point_bars.show_top(top)
            self.point_status.setText(f"At {where} the network says <b>{top[0][0]}</b> ({100 * top[0][1]:.1f}%).")
        else:
            self.plane_marker.setData([x], [y])
            self.point_bars.clear()
            self.point_status.setText(f"At {where} the network gives {values_text(pred.values[0])}.")

    # ---- token sequences -----------------------------------------------------------------
    def _fill_token_help(self) -> None:
        vocab = self.predictor.vocab
        length = self.predictor.input_shape[0]
        if vocab:
            shown = " ".join(vocab[:30]) + (" …" if len(vocab) > 30 else "")
            words = f"tokens of the vocabulary ({len(vocab)}: {shown})"
        else:
            words = "token ids (whole numbers)"
        self.token_help.setText(f"Type {length} {words}; the prediction follows as you type.")
        self._predict_tokens()

    def parse_tokens(self, text: str) -> tuple[list[int] | None, str]:
        """Token ids of ``text``, or None and what is wrong with it."""
        from studio.evaluation.inputs import tokenize

        vocab = self.predictor.vocab
        length = self.predictor.input_shape[0]
        parts = tokenize(text, vocab) if vocab else text.split()
        ids: list[int] = []
        index = {v: i for i, v in enumerate(vocab)} if vocab else None
        for i, part in enumerate(parts, 1):
            if index is not None:
                if part not in index:
                    return None, f"token {i}, {part!r}, is not in the vocabulary"
                ids.append(index[part])
            else:
                try:
                    ids.append(int(part))
                except ValueError:
                    return None, f"token {i}, {part!r}, is not a whole number"
                if ids[-1] < 0:
                    return None, f"token {i}, {part}, is negative: token ids count from 0"
        if len(ids) < length:
            return None, f"{len(ids)} of {length} tokens: type {length - len(ids)} more"
        if len(ids) > length:
            return None, f"{len(ids)} tokens: the network takes {length}"
        return ids, ""

    def _predict_tokens(self) -> None:
        ids, problem = self.parse_tokens(self.token_edit.text())
        self.token_status.setToolTip("")
        if ids is None:
            self.prediction = None
            self.token_bars.clear()
            self.token_status.setText(problem)
            return
        pred = self.predictor.predict(np.array([ids], dtype=np.int64))
        self.prediction = pred
        self.predictions += 1
        if pred.kind != "classes":
            self.token_bars.clear()
            self.token_status.setText(f"The network gives {values_text(pred.values[0])}.")
            return
        probs = np.asarray(pred.probabilities)[0]
        names = pred.class_names
        if probs.ndim == 1:
            top = pred.top(TOP_K)[0]
            self.token_bars.show_top(top)
            self.token_status.setText(f"The network says <b>{top[0][0]}</b> ({100 * top[0][1]:.1f}%).")
            return
        # A class at each position: the sequence it predicts, the unsure positions pale.
        probs = probs.reshape(-1, probs.shape[-1])
        best = probs.argmax(axis=-1)
        conf = probs.max(axis=-1)
        cells, lines = [], []
        for i, (b, c) in enumerate(zip(best, conf), 1):
            name = names[int(b)] if int(b) < len(names) else str(int(b))
            weight = "bold" if c >= 0.5 else "normal"
            cells.append(f"<span style='font-weight:{weight}'>{name}</span>")
            lines.append(f"position {i}: {name} ({100 * c:.1f}%)")
        self.token_bars.clear()
        self.token_status.setText(f"The network says: {' '.join(cells)} (least sure position "
                                  f"{100 * float(conf.min()):.1f}%)")
        # A label shows no tooltip of a span: each position's share is the line's own tooltip.
        self.token_status.setToolTip("\n".join(lines))

    # ---- image files --------------------------------------------------------------------
    def _on_open(self) -> None:
        path = open_image_name(self)
        if path:
            self.open_image(path)

    def open_image(self, path: str) -> None:
        """Try the image file at ``path`` (Open image…, or dropped on the pad)."""
        image = QImage(str(path))
        if image.isNull():
            self.image_status.setText(f"{Path(path).name}: not an image Studio can read "
                                      "(PNG, JPEG, BMP, GIF, TIFF, WebP).")
            return
        self.opened = str(path)
        self.pad.show_image(image)
        self.update_prediction()


def image_outcome(predictor: Any, x: np.ndarray) -> tuple[Any, np.ndarray | None]:
    """The prediction for one image sample and its saliency map [H, W] (classes only). Touches no
    widget: it may run on any thread."""
    pred = predictor.predict(x[None])
    sal = None
    if pred.kind == "classes":
        sal = as_picture(np.abs(np.asarray(predictor.saliency(x[None]))[0]))
    return pred, sal


def as_picture(a: np.ndarray) -> np.ndarray:
    """One sample of an image Input as [H, W]: channels averaged, a flattened square unfolded."""
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 3:
        return a.mean(axis=0)
    if a.ndim == 1:
        side = int(round(a.size ** 0.5))
        return a.reshape(side, side)
    return a


def values_text(values: Any) -> str:
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    shown = ", ".join(f"{x:.4g}" for x in v[:8]) + (", …" if v.size > 8 else "")
    return f"[{shown}]"
