"""A small plot of the learning rate over the run, as the schedule will set it."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from studio.training.config import TrainingConfig

from .plot_style import plot_colors

POINTS = 200


def schedule_curve(cfg: TrainingConfig, steps_per_epoch: int) -> tuple[np.ndarray, np.ndarray]:
    """(epoch, lr) at up to POINTS steps spread over the whole run."""
    from studio.training.optim import Schedule  # imports torch: not on the window's start-up path

    spe = max(1, steps_per_epoch)
    schedule = Schedule(cfg.schedule, cfg.optimizer.lr, cfg.epochs, spe)
    total = cfg.epochs * spe
    steps = np.unique(np.linspace(0, total - 1, min(POINTS, total)).astype(int))
    lrs = np.array([schedule.lr(int(s)) for s in steps])
    return (steps + 1) / spe, lrs


class SchedulePlot(pg.PlotWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent, background=plot_colors().background)
        self.setMinimumHeight(90)
        self.setMaximumHeight(130)
        item = self.getPlotItem()
        item.setLabel("bottom", "epoch")
        item.setLabel("left", "lr")
        item.showGrid(x=True, y=True, alpha=0.25)
        item.setMouseEnabled(x=False, y=False)
        item.hideButtons()
        self.curve = item.plot([], [], pen=pg.mkPen("#2ca02c", width=2))

    def show_config(self, cfg: TrainingConfig, steps_per_epoch: int) -> None:
        x, y = schedule_curve(cfg, steps_per_epoch)
        self.curve.setData(x, y)
        # Set, not auto-ranged: a constant lr has no span, and pyqtgraph then spreads the axis
        # hundreds of units either side of it. From 0, so a decay reads as a share of the peak.
        top = float(y.max()) if len(y) else cfg.optimizer.lr
        item = self.getPlotItem()
        item.setYRange(0.0, top * 1.1 if top > 0 else 1.0, padding=0)
        item.setXRange(0.0, float(cfg.epochs), padding=0.02)
        self.getPlotItem().setTitle(f"Learning rate schedule: {cfg.schedule.name}", size="9pt")
