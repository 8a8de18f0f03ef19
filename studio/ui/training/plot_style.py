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
