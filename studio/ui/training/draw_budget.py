"""How often the live views redraw: as often as a fixed share of the UI thread allows.

While a run trains on its background thread, every millisecond the UI thread
spends in Python or in Qt's painting is a millisecond the trainer waits for
the interpreter lock. ``DrawBudget`` measures the CPU time the views spend
taking in events and painting (``metered``), and stretches or shortens every
view's redraw interval so that drawing stays near ``share`` of the wall
time: a big window or a slow machine redraws less often, a small one more
often, and training keeps its speed either way (like the trainer's 2% probe
budget). ``MeteredPlotWidget`` and ``MeteredLayoutWidget`` are pyqtgraph's
widgets with their paints counted.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Callable, Iterator

import pyqtgraph as pg

DRAW_SHARE = 0.02  # of one core's time, for feeding and painting every live view together
MIN_SCALE, MAX_SCALE = 0.5, 3.0  # redraw at most twice as often as the base rate, at least a third
WINDOW_S = 1.0  # how much history one adjustment looks at


class DrawBudget:
    def __init__(self, share: float = DRAW_SHARE, window_s: float = WINDOW_S,
                 clock: Callable[[], float] = time.monotonic, cpu: Callable[[], float] = time.thread_time) -> None:
        self.share = share
        self.window = window_s
        self._clock = clock
        self._cpu = cpu
        self.scale = 1.0  # multiplies every view's base interval
        self.spent = 0.0  # CPU seconds drawn since the window began
        self._began = clock()
        self.last_share: float | None = None

    @contextmanager
    def metered(self) -> Iterator[None]:
        start = self._cpu()
        try:
            yield
        finally:
            self.spent += self._cpu() - start

    def restart(self) -> None:
        """A new run: forget the last run's costs, keep the scale it settled on."""
        self.spent = 0.0
        self._began = self._clock()

    def adjust(self) -> bool:
        """Once a window has passed, move the scale toward the one that meets the share.
        True when it changed."""
        now = self._clock()
        elapsed = now - self._began
        if elapsed < self.window:
            return False
        measured = self.spent / elapsed
        self.last_share = measured
        self.spent, self._began = 0.0, now
        # Drawing cost per second falls as the intervals grow: the scale that meets the share is
        # the current one times measured/target. Half that step per window: no see-sawing.
        wanted = self.scale * max(measured, 1e-6) / self.share
        new = min(MAX_SCALE, max(MIN_SCALE, (self.scale * wanted) ** 0.5))
        changed = abs(new - self.scale) > 1e-9
        self.scale = new
        return changed

    def interval(self, base_s: float) -> float:
        return base_s * self.scale


# Every live view's paints count against one budget: there is one UI thread.
budget = DrawBudget()


class _Metered:
    def paintEvent(self, event) -> None:  # noqa: N802 (Qt name)
        with budget.metered():
            super().paintEvent(event)


class MeteredPlotWidget(_Metered, pg.PlotWidget):
    pass


class MeteredLayoutWidget(_Metered, pg.GraphicsLayoutWidget):
    pass
