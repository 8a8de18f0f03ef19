"""Where a run stands: epoch and run fractions, speed, elapsed and remaining time.

Plain Python fed with the run's events, so the numbers can be tested without
a window. Paused time counts neither as elapsed training time nor as speed.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Callable

from studio.training.events import EndEvent, EpochEvent, StepsEvent


class RunProgress:
    def __init__(self, epochs: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.epochs = max(1, int(epochs))
        self._clock = clock
        self._started = clock()
        self._paused_at: float | None = None
        self._paused_total = 0.0
        self.epoch = 1  # the epoch in progress, 1-based
        self.epochs_done = 0
        self.steps_done = 0  # over the whole run
        self.steps_per_epoch = 0
        self.step_in_epoch = 0
        self.ended: EndEvent | None = None
        self._recent: deque[tuple[float, int]] = deque(maxlen=64)  # (active time, steps_done)

    # ---- feeding -------------------------------------------------------
    def feed(self, event: object) -> None:
        if isinstance(event, StepsEvent):
            self.steps_per_epoch = max(1, event.steps_per_epoch)
            self.steps_done = event.first_step + len(event.losses)
            # From the step count, so it holds whether the trainer counts epochs from 0 or 1.
            spe = self.steps_per_epoch
            self.epoch = max(0, self.steps_done - 1) // spe + 1
            self.step_in_epoch = self.steps_done - (self.epoch - 1) * spe
            self._recent.append((self.active_seconds(), self.steps_done))
        elif isinstance(event, EpochEvent):
            self.epochs_done = max(self.epochs_done, event.epoch)
            self.step_in_epoch = self.steps_per_epoch
        elif isinstance(event, EndEvent):
            self.ended = event

    def pause(self) -> None:
        if self._paused_at is None:
            self._paused_at = self._clock()

    def resume(self) -> None:
        if self._paused_at is not None:
            self._paused_total += self._clock() - self._paused_at
            self._paused_at = None
            self._recent.clear()  # speed before the pause says nothing of speed after it

    # ---- reading -------------------------------------------------------
    def active_seconds(self) -> float:
        now = self._paused_at if self._paused_at is not None else self._clock()
        return max(0.0, now - self._started - self._paused_total)

    def epoch_fraction(self) -> float:
        if not self.steps_per_epoch:
            return 0.0
        return self.step_in_epoch / self.steps_per_epoch

    def run_fraction(self) -> float:
        if self.ended is not None and self.ended.status == "finished":
            return 1.0
        if self.steps_per_epoch:
            return min(1.0, self.steps_done / (self.steps_per_epoch * self.epochs))
        return self.epochs_done / self.epochs

    def steps_per_second(self) -> float | None:
        if len(self._recent) < 2:
            t = self.active_seconds()
            return self.steps_done / t if self.steps_done and t > 0 else None
        (t0, s0), (t1, s1) = self._recent[0], self._recent[-1]
        return (s1 - s0) / (t1 - t0) if t1 > t0 else None

    def remaining_seconds(self) -> float | None:
        rate = self.steps_per_second()
        if not rate or not self.steps_per_epoch:
            return None
        left = self.steps_per_epoch * self.epochs - self.steps_done
        return max(0.0, left / rate)


def format_duration(seconds: float | None) -> str:
    """``1:05`` for 65 s, ``1:02:03`` past an hour, an em dash when unknown."""
    if seconds is None:
        return "—"
    s = int(round(seconds))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
