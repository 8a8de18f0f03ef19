"""Feeding a view no more often than it is worth redrawing.

Events reach the panel up to 20 times a second; a curve redrawn ten times a
second looks as smooth, and a histogram or a decision boundary four times a
second is more than the eye follows. Each view gets the events it missed in
one list, in order, so nothing is lost, only drawn less often.
"""

from __future__ import annotations

import time
from typing import Any, Callable


class Throttle:
    def __init__(self, consume: Callable[[list[Any]], None], interval_s: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.consume = consume
        self.interval = interval_s
        self._clock = clock
        self._pending: list[Any] = []
        self._last = float("-inf")
        self.calls = 0

    def push(self, batch: list[Any]) -> bool:
        """Queue ``batch``; hand everything queued over if the interval has passed."""
        self._pending.extend(batch)
        if self._clock() - self._last >= self.interval:
            return self.flush()
        return False

    def queue(self, batch: list[Any]) -> None:
        """Queue ``batch`` for the next hand-over (the caller decides when)."""
        self._pending.extend(batch)

    @property
    def last(self) -> float:
        return self._last

    def due(self) -> bool:
        return bool(self._pending) and self._clock() - self._last >= self.interval

    def flush(self) -> bool:
        if not self._pending:
            return False
        batch, self._pending = self._pending, []
        self._last = self._clock()
        self.calls += 1
        self.consume(batch)
        return True

    def clear(self) -> None:
        self._pending = []
        self._last = float("-inf")
