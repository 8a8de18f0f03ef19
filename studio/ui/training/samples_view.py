"""What a generator or a sequence model produces, against the real thing.

GAN runs: generated samples drawn over real ones (points for 2-D data, a
grid of images otherwise). Sequence runs: predicted against true values.
Each probe fed is shown in turn (``FramePacer``), titled with its step.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from studio.training.events import ProbeEvent

from .draw_budget import MeteredPlotWidget
from .plot_style import steady_plot, plot_colors
from .activation_view import tile_maps
from .lazy_plots import PlotsWhenShown
from .pacing import FramePacer

CAPTION = "GAN runs show generated samples over the real ones; sequence runs show predicted against true values."


def _as_images(a: np.ndarray) -> np.ndarray | None:
    """[n, H, W] grey images from [n, H, W], [n, 1, H, W] or [n, C, H, W] (first channel)."""
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 4:
        return a[:, 0]
    if a.ndim == 3:
        return a
    return None


class SamplesView(PlotsWhenShown, QWidget):
    PLOTS = ("plot_widget", "plot", "real", "generated", "true_curve", "pred_curve", "images")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.caption = QLabel(CAPTION)
        self.caption.setWordWrap(True)
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)  # alone in the tab until samples come
        self.caption.setMargin(24)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.plot_place(), 1)  # the plot, once made (build_plots)
        box.addWidget(self.caption)
        self.mode: str | None = None  # "points", "images" or "sequence"
        self.last_step: int | None = None
        self.pacer = FramePacer(self._show, self)

    def build_plots(self) -> None:
        self.plot_widget = MeteredPlotWidget(background=plot_colors().background)
        self.plot: pg.PlotItem = self.plot_widget.getPlotItem()
        self.plot.addLegend(offset=(-10, 10))
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.real = pg.ScatterPlotItem(size=5, brush=pg.mkBrush(127, 127, 127, 120), pen=None, name="real")
        self.generated = pg.ScatterPlotItem(size=6, brush=pg.mkBrush(214, 39, 40, 200), pen=None, name="generated")
        # dots on the lines: a forecast of one step is one value each, which a line alone does not show
        self.true_curve = pg.PlotDataItem([], [], pen=pg.mkPen("#7f7f7f", width=2), name="true",
                                          symbol="o", symbolSize=6, symbolBrush="#7f7f7f", symbolPen=None)
        self.pred_curve = pg.PlotDataItem([], [], pen=pg.mkPen("#d62728", width=2), name="predicted",
                                          symbol="o", symbolSize=6, symbolBrush="#d62728", symbolPen=None)
        self.images = pg.ImageItem(axisOrder="row-major")
        for item in (self.real, self.generated, self.true_curve, self.pred_curve, self.images):
            self.plot.addItem(item)
        steady_plot(self.plot)
        self.put_plot(self.plot_widget)
        self._named: tuple = ()  # the items the legend names: those of the kind of samples shown
        self._show_plot(self.mode is not None)

    def _show_plot(self, shown: bool) -> None:
        """The plot where there are samples to draw; the caption alone, centred, where there are none."""
        self.plot_widget.setVisible(shown)
        self.caption.setAlignment(Qt.AlignmentFlag.AlignLeft if shown else Qt.AlignmentFlag.AlignCenter)
        self.caption.setMargin(0 if shown else 24)

    def _name(self, items: tuple) -> None:
        """The legend names ``items`` only (a GAN's points, or a sequence's two lines)."""
        if items == self._named:
            return
        legend = self.plot.legend
        legend.clear()
        for item in items:
            legend.addItem(item, item.name())
        self._named = items

    def clear(self) -> None:
        """Back to the empty state: nothing drawn, the caption that says what will be."""
        self.pacer.clear()
        self.mode = None
        self.last_step = None
        self.caption.setText(CAPTION)
        if not self.plots_built:
            return
        for item in (self.real, self.generated):
            item.setData([], [])
        self.true_curve.setData([], [])
        self.pred_curve.setData([], [])
        self.images.clear()
        self.plot.setTitle("")
        self._show_plot(False)

    def feed(self, events: Iterable[object]) -> None:
        frames = [ev for ev in events if isinstance(ev, ProbeEvent) and ev.samples]
        self.pacer.push(frames, animate=self.isVisible())

    def catch_up(self) -> None:
        """Show the newest probe fed now, skipping any still waiting their turn."""
        self.pacer.finish()

    def _show(self, probe: ProbeEvent) -> None:
        # Made by the first run that has samples to show (a GAN, a sequence), shown or not:
        # only such runs fill this tab.
        self.ensure_plots()
        s = probe.samples
        self.last_step = probe.step
        if "generated" in s:
            self._show_gan(np.asarray(s["generated"]), np.asarray(s["real"]) if "real" in s else None)
        elif "predicted" in s:
            self._show_sequence(np.asarray(s["predicted"]), np.asarray(s.get("true", [])))
        self._show_plot(self.mode is not None)
        self.plot.setTitle(f"Samples at step {probe.step:,} (epoch {probe.epoch:,})")

    def _show_gan(self, gen: np.ndarray, real: np.ndarray | None) -> None:
        flat = gen.reshape(len(gen), -1) if gen.ndim > 1 else gen.reshape(-1, 1)
        if flat.shape[1] == 2:
            self.mode = "points"
            self.images.clear()
            if real is not None:
                r = real.reshape(len(real), -1)
                self.real.setData(r[:, 0], r[:, 1])
            self.generated.setData(flat[:, 0], flat[:, 1])
            self._name((self.real, self.generated) if real is not None else (self.generated,))
            self.caption.setText("Red: what the generator makes; grey: the real data. "
                                 "A good generator covers every grey cluster.")
            return
        imgs = _as_images(gen)
        if imgs is not None:
            self.mode = "images"
            self.real.setData([], [])
            self.generated.setData([], [])
            self.images.setImage(tile_maps(imgs, 36)[::-1], autoLevels=False, levels=(0, 1))
            self._name(())
            self.caption.setText("Images the generator makes now.")

    def _show_sequence(self, pred: np.ndarray, true: np.ndarray) -> None:
        self.mode = "sequence"
        self.images.clear()
        self._name((self.true_curve, self.pred_curve) if true.size else (self.pred_curve,))
        p = pred.reshape(-1) if pred.ndim <= 1 else pred.reshape(len(pred), -1)[0]
        self.pred_curve.setData(np.arange(len(p)), p)
        if true.size:
            t = true.reshape(-1) if true.ndim <= 1 else true.reshape(len(true), -1)[0]
            self.true_curve.setData(np.arange(len(t)), t)
        self.caption.setText("Grey: the true sequence; red: what the network predicts.")
