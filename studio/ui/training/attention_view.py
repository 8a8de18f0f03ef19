"""Attention maps: how much each query position of one attention node looks at each key position.

One sample, one head (or the mean of the heads) as a heat map, queries down the side, keys
along the top, each row summing to 1; token texts label the axes where the data set has a
vocabulary. A network that reverses its input draws the anti-diagonal here as it learns.
The plot is built when the tab is first shown; each probe fed is shown in turn (``FramePacer``).
"""

from __future__ import annotations

from typing import Iterable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from studio.training.events import AttentionMaps, ProbeEvent

from .draw_budget import MeteredPlotWidget
from .pacing import FramePacer
from .plot_style import plot_colors, steady_plot
from .steady import SteadyLabel

MEAN = "Mean of heads"
HINT = "Train to see where each position looks: the attention weights of one sample, query by key."
CAPTION = ("Row: a query position; column: the key position it attends to. Brighter is more weight; "
           "each row sums to 1.")
STEP_TEMPLATE = "step 0000000 (epoch 00000)"
MAX_LABELS = 40  # token texts on an axis; a longer sequence is labelled by position every few steps


class AttentionView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.node_box = QComboBox()
        self.node_box.setObjectName("attention_node")
        self.node_box.setToolTip("The attention node whose weights are shown")
        self.head_box = QComboBox()
        self.head_box.setObjectName("attention_head")
        self.head_box.setToolTip("One head's weights, or their mean")
        self.sample_box = QSpinBox()
        self.sample_box.setObjectName("attention_sample")
        self.sample_box.setPrefix("sample ")
        self.sample_box.setRange(1, 1)
        self.sample_box.setToolTip("Which of the first validation samples")
        # the step shown, beside the choosers: a plot title changed on every frame cost a third of its paint
        self.step_label = SteadyLabel(template=STEP_TEMPLATE)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Node"))
        controls.addWidget(self.node_box, 1)
        controls.addWidget(self.head_box, 1)
        controls.addWidget(self.sample_box)
        controls.addWidget(self.step_label)
        self.caption = QLabel(HINT)
        self.caption.setWordWrap(True)
        self.box = QVBoxLayout(self)
        self.box.setContentsMargins(0, 0, 0, 0)
        self.box.addLayout(controls)
        self.box.addWidget(self.caption)
        # Made when the tab is first shown (``_ensure_plot``): most graphs have no attention node.
        self.plot_widget: MeteredPlotWidget | None = None
        self.probe: ProbeEvent | None = None  # the probe shown (or to show once the plot is built)
        self.matrix: np.ndarray | None = None  # the [queries, keys] weights drawn last
        # what the last frame set up, kept while it holds: axes, ranges and levels set again on
        # every frame repaint their axes (a third of a frame's cost)
        self._ticks: tuple | None = None
        self._top = 0.0
        self.redraws = 0
        self.pacer = FramePacer(self._take, self)
        for box in (self.node_box, self.head_box):
            box.currentIndexChanged.connect(self._redraw)
        self.sample_box.valueChanged.connect(self._redraw)
        self._set_ready(False)

    # ---- building -----------------------------------------------------------
    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        self._ensure_plot()
        super().showEvent(event)
        self._redraw()

    def _ensure_plot(self) -> None:
        if self.plot_widget is not None:
            return
        colors = plot_colors()
        self.plot_widget = MeteredPlotWidget(background=colors.background)
        self.plot_widget.setObjectName("attention_plot")
        plot = self.plot = self.plot_widget.getPlotItem()
        plot.setLabel("left", "query")
        plot.setLabel("bottom", "key")
        plot.invertY(True)  # the first query on top, as a matrix reads
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        self.image = pg.ImageItem(axisOrder="row-major")
        plot.addItem(self.image)
        self.color_bar = pg.ColorBarItem(values=(0.0, 1.0), colorMap=pg.colormap.get("viridis"), interactive=False,
                                         label="weight")
        self.color_bar.setImageItem(self.image, insert_in=plot)
        steady_plot(plot)
        self.box.insertWidget(1, self.plot_widget, 1)
        self.plot_widget.setVisible(self.probe is not None)  # before a run: the hint alone
        self.caption.setText(CAPTION if self.probe is not None else HINT)

    # ---- feeding ------------------------------------------------------------
    def _set_ready(self, ready: bool) -> None:
        """The choosers and the plot once there is something to show; before that, the hint alone."""
        for box in (self.node_box, self.head_box, self.sample_box):
            box.setEnabled(ready)
        if self.plot_widget is not None:
            self.plot_widget.setVisible(ready)

    def clear(self) -> None:
        """No run yet: no nodes, no map, the hint."""
        self.pacer.clear()
        self.probe = None
        self.matrix = None
        self._ticks = None
        self._top = 0.0
        self.redraws = 0
        self.node_box.clear()
        self.head_box.clear()
        self.sample_box.setRange(1, 1)
        self.caption.setText(HINT)
        self._set_ready(False)
        if self.plot_widget is not None:
            self.image.clear()
            self.plot.setTitle("")
        self.step_label.setText("")

    def feed(self, events: Iterable[object]) -> None:
        frames = [ev for ev in events if isinstance(ev, ProbeEvent) and ev.attention]
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
    def _sync_choices(self, probe: ProbeEvent) -> AttentionMaps | None:
        """The choosers offer what ``probe`` holds, keeping what was chosen; the maps chosen."""
        nodes = list(probe.attention)
        if [self.node_box.itemText(i) for i in range(self.node_box.count())] != nodes:
            keep = self.node_box.currentText()
            self.node_box.blockSignals(True)
            self.node_box.clear()
            self.node_box.addItems(nodes)
            self.node_box.setCurrentIndex(nodes.index(keep) if keep in nodes else 0)
            self.node_box.blockSignals(False)
        maps = probe.attention.get(self.node_box.currentText())
        if maps is None:
            return None
        samples, heads = maps.weights.shape[:2]
        if self.head_box.count() != heads + 1:
            keep = self.head_box.currentIndex()
            self.head_box.blockSignals(True)
            self.head_box.clear()
            self.head_box.addItems([MEAN] + [f"Head {h + 1}" for h in range(heads)])
            self.head_box.setCurrentIndex(keep if 0 <= keep <= heads else 0)
            self.head_box.blockSignals(False)
        if self.sample_box.maximum() != samples:
            self.sample_box.blockSignals(True)
            self.sample_box.setRange(1, samples)
            self.sample_box.blockSignals(False)
        return maps

    def _redraw(self, *_args) -> None:
        probe = self.probe
        if probe is None or self.plot_widget is None or not self.isVisible():
            return
        maps = self._sync_choices(probe)
        if maps is None:
            return
        sample = self.sample_box.value() - 1
        head = self.head_box.currentIndex() - 1
        weights = maps.weights[sample]
        matrix = weights.mean(axis=0) if head < 0 else weights[head]
        self.matrix = matrix
        queries, keys = matrix.shape
        top = level_above(float(matrix.max()) if matrix.size else 1.0)
        self.image.setImage(matrix, autoLevels=False)
        if top != self._top:
            self._top = top
            self.color_bar.setLevels((0.0, top))
        else:
            self.image.setLevels((0.0, top))
        tokens = maps.tokens[sample] if maps.tokens is not None else None
        if self._ticks != (queries, keys, tokens):
            self._ticks = (queries, keys, tokens)
            self.image.setRect(QRectF(-0.5, -0.5, keys, queries))
            self._label_axes(queries, keys, tokens)
            self.plot.setRange(xRange=(-0.5, keys - 0.5), yRange=(-0.5, queries - 0.5), padding=0)
        which = MEAN.lower() if head < 0 else f"head {head + 1}"
        title = f"{self.node_box.currentText()}, {which}, sample {sample + 1}"
        if self.plot.titleLabel.text != title:
            self.plot.setTitle(title, color=plot_colors().text)
        self.step_label.setText(f"step {probe.step} (epoch {probe.epoch})")
        self.caption.setText(CAPTION)
        if not self.plot_widget.isVisible():
            self._set_ready(True)
        self.redraws += 1

    def _label_axes(self, queries: int, keys: int, tokens: list[str] | None) -> None:
        for axis, count in (("left", queries), ("bottom", keys)):
            step = max(1, -(-count // MAX_LABELS))
            if tokens is not None and len(tokens) == count:
                ticks = [(i, tokens[i]) for i in range(0, count, step)]
            else:
                ticks = [(i, str(i)) for i in range(0, count, step)]
            self.plot.getAxis(axis).setTicks([ticks, []])


def level_above(top: float) -> float:
    """The colour scale's top: 1, 1/2, 1/4, ... the smallest at or above ``top``. A weight spread
    over 64 keys still shows, and the scale changes a few times a run, not on every frame."""
    level = 1.0
    while level / 2 >= top and level > 1 / 1024:
        level /= 2
    return level
