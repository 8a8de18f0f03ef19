"""Attention maps: how much each query position of one attention node looks at each key position.

One sample, one head (or the mean of the heads) as a heat map, queries down the side, keys
along the top, each row summing to 1; token texts label the axes where the data set has a
vocabulary. A network that reverses its input draws the anti-diagonal here as it learns.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QComboBox, QSpinBox, QWidget

from studio.training.events import AttentionMaps, ProbeEvent

from .draw_budget import MeteredPlotWidget
from .node_tab import NodeTab
from .plot_style import plot_colors, steady_plot

MEAN = "Mean of heads"
HINT = "Train to see where each position looks: the attention weights of one sample, query by key."
CAPTION = ("Row: a query position; column: the key position it attends to. Brighter is more weight; "
           "each row sums to 1.")
MAX_LABELS = 40  # token texts on an axis; a longer sequence is labelled by position every few steps


class AttentionView(NodeTab):
    HINT = HINT
    CAPTION = CAPTION

    def __init__(self, parent: QWidget | None = None) -> None:
        self.head_box = QComboBox()
        self.head_box.setObjectName("attention_head")
        self.head_box.setToolTip("One head's weights, or their mean")
        self.sample_box = QSpinBox()
        self.sample_box.setObjectName("attention_sample")
        self.sample_box.setPrefix("sample ")
        self.sample_box.setRange(1, 1)
        self.sample_box.setToolTip("Which of the first validation samples")
        super().__init__("attention", "The attention node whose weights are shown",
                         (self.head_box, self.sample_box), parent)
        self.matrix: np.ndarray | None = None  # the [queries, keys] weights drawn last
        # what the last frame set up, kept while it holds: axes, ranges and levels set again on
        # every frame repaint their axes (a third of a frame's cost)
        self._ticks: tuple | None = None
        self._top = 0.0
        self.head_box.currentIndexChanged.connect(self.redraw)
        self.sample_box.valueChanged.connect(self.redraw)

    def holds(self, probe: ProbeEvent) -> bool:
        return bool(probe.attention)

    def build_plot(self) -> None:
        colors = plot_colors()
        self.plot_widget = MeteredPlotWidget(background=colors.background)
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

    def forget(self) -> None:
        self.matrix = None
        self._ticks = None
        self._top = 0.0
        self.head_box.clear()
        self.sample_box.setRange(1, 1)
        if self.plot_widget is not None:
            self.image.clear()

    # ---- drawing ------------------------------------------------------------
    def _sync_choices(self, probe: ProbeEvent) -> AttentionMaps | None:
        """The choosers offer what ``probe`` holds, keeping what was chosen; the maps chosen."""
        maps = probe.attention.get(self.choose_node(list(probe.attention)))
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

    def draw(self, probe: ProbeEvent) -> bool:
        maps = self._sync_choices(probe)
        if maps is None:
            return False
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
        return True

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
