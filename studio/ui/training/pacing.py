"""Showing each probe a view is fed, one after another, evenly spaced.

The panel hands the probe views what arrived since their last turn about once a
second (less often when drawing is costly, see ``draw_budget``). A view that drew
only the newest probe of each hand-over would move once a second however often
the trainer looks. A ``FramePacer`` shows every probe in turn instead, spread
over the time the hand-over took to gather, so the view moves at the rate the
trainer probes (at least twice a second) at most one hand-over behind.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any, Callable

from PySide6.QtCore import QObject, QTimer

from .draw_budget import budget

MIN_FRAME_S = 0.1  # faster than this the eye does not follow; frames queue up instead
MAX_SPREAD_S = 1.5  # a hand-over's frames are shown within this, however late it came
MAX_QUEUED = 12  # behind by more than this, the oldest frames are dropped


class FramePacer(QObject):
    def __init__(self, show: Callable[[Any], None], parent: QObject | None = None,
                 clock: Callable[[], float] = time.monotonic, skip: Callable[[Any], None] | None = None) -> None:
        """``show(frame)`` draws a frame; ``skip(frame)``, if given, takes in one dropped unseen
        (a view that keeps a history of every frame, not only the one on screen)."""
        super().__init__(parent)
        self._show = show
        self._skip = skip
        self._clock = clock
        self._queue: deque[Any] = deque()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._on_timer)
        self._last_push: float | None = None
        self.interval_s = MAX_SPREAD_S

    @property
    def pending(self) -> int:
        """Frames fed but not shown yet."""
        return len(self._queue)

    def push(self, frames: list[Any], animate: bool = True) -> None:
        """Queue ``frames`` (oldest first) and show the first at once if none is waiting.
        ``animate=False`` (a hidden view): show the newest now, drop the rest."""
        if not frames:
            return
        now = self._clock()
        spread = MAX_SPREAD_S if self._last_push is None else min(MAX_SPREAD_S, now - self._last_push)
        self._last_push = now
        self._queue.extend(frames)
        if not animate:
            self.finish()
            return
        while len(self._queue) > MAX_QUEUED:
            self._drop(self._queue.popleft())
        self.interval_s = max(MIN_FRAME_S, spread / len(self._queue))
        if not self._timer.isActive():
            self._next()

    def finish(self) -> None:
        """Show the newest frame now, dropping those between."""
        if self._queue:
            self._timer.stop()
            while len(self._queue) > 1:
                self._drop(self._queue.popleft())
            self._show(self._queue.popleft())

    def _drop(self, frame: Any) -> None:
        if self._skip is not None:
            self._skip(frame)

    def clear(self) -> None:
        self._queue.clear()
        self._timer.stop()
        self._last_push = None

    def _on_timer(self) -> None:
        with budget.metered():  # drawn outside the panel's metered hand-over
            self._next()

    def _next(self) -> None:
        if not self._queue:
            return
        self._show(self._queue.popleft())
        if self._queue:
            self._timer.start(max(1, int(self.interval_s * 1000)))
