"""Making pyqtgraph plots cheap to repaint while a run streams into them.

A curve's update repaints its whole plot, axes and legend included; the axes
and legend are Python paint code. Cached as device pixmaps, they are blitted
instead and drawn again only when they themselves change (a new range, a new
legend entry).
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QGraphicsItem

CACHE = QGraphicsItem.CacheMode.DeviceCoordinateCache


def cache_static_parts(plot: pg.PlotItem) -> pg.PlotItem:
    for name in ("left", "bottom", "right", "top"):
        axis = plot.getAxis(name)
        if axis is not None:
            axis.setCacheMode(CACHE)
    plot.titleLabel.setCacheMode(CACHE)
    if plot.legend is not None:
        plot.legend.setCacheMode(CACHE)
    return plot


class GrowingYRange:
    """A y range that only grows to fit the data, never follows every wiggle.

    Auto-ranging moves the axis on every update, and a moved axis is laid out
    and drawn again in Python; a range that changes a handful of times per run
    costs next to nothing. ``log``: the plot's y axis is logarithmic.
    """

    def __init__(self, plot: pg.PlotItem, log: bool = False, floor: float | None = None) -> None:
        self.plot = plot
        self.log = log
        self.floor = floor
        self.lo: float | None = None
        self.hi: float | None = None
        plot.disableAutoRange(axis="y")

    def fit(self, lo: float, hi: float) -> bool:
        """Widen the range to hold [lo, hi]; True when the axis had to move."""
        import math

        if self.log:
            lo, hi = math.log10(max(lo, 1e-30)), math.log10(max(hi, 1e-30))
        if not (math.isfinite(lo) and math.isfinite(hi)):
            return False
        if self.lo is not None and self.lo <= lo and hi <= self.hi:
            return False
        span = max(hi - lo, 1e-12 if not self.log else 0.5)
        margin = 0.5 if self.log else 0.08 * span
        new_lo = lo - margin if self.lo is None else min(self.lo, lo - margin)
        new_hi = hi + margin if self.hi is None else max(self.hi, hi + margin)
        if self.floor is not None and not self.log:
            new_lo = max(new_lo, self.floor) if lo >= self.floor else new_lo
        self.lo, self.hi = new_lo, new_hi
        self.plot.setYRange(new_lo, new_hi, padding=0)
        return True

    def reset(self) -> None:
        self.lo = self.hi = None
