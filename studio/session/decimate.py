"""A long series drawn from a few thousand points, kept up to date as it grows.

A run of a million steps cannot be handed to the plot on every redraw: the
plot would search, downsample and bound all of it each time, and the cost of a
redraw would grow with the run. ``PeakSeries`` keeps, next to the full data,
the smallest and the largest value of each bucket of consecutive points; a
spike stays visible however far the view is zoomed out. New points only touch
the buckets they fall in. When the buckets outgrow ``cap`` points, each
bucket doubles in length and the summary is rebuilt once, so appending costs
about the same per point whether the run has a thousand steps or a million.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

from .buffer import GrowingBuffer

DISPLAY_CAP = 4096  # points drawn: a few per pixel of the widest plot


class PeakSeries:
    def __init__(self, cap: int = DISPLAY_CAP, capacity: int = 1024) -> None:
        if cap < 4:
            raise ValueError(f"cap must be at least 4, got {cap}")
        self.cap = cap
        self.full = GrowingBuffer(capacity)  # every point, as given
        self.bucket = 1  # points per bucket; 1: the full data is drawn as it is
        self._done = 0  # full buckets summarised so far
        self._summary = GrowingBuffer(cap)  # two points per full bucket, in x order

    def __len__(self) -> int:
        return len(self.full)

    @property
    def x(self) -> np.ndarray:
        return self.full.x

    @property
    def y(self) -> np.ndarray:
        return self.full.y

    def clear(self) -> None:
        self.full.clear()
        self._summary.clear()
        self.bucket = 1
        self._done = 0

    def append(self, x: float, y: float) -> None:
        self.extend((x,), (y,))

    def extend(self, xs: Iterable[float], ys: Iterable[float]) -> None:
        self.full.extend(xs, ys)
        if self.bucket == 1 and len(self.full) > self.cap:
            self.bucket = 2
            while len(self.full) // self.bucket * 2 > self.cap:
                self.bucket *= 2
            self._rebuild()
        elif self.bucket > 1:
            self._summarise_new()
            if self._done * 2 > self.cap:
                self.bucket *= 2
                self._rebuild()

    def display(self) -> tuple[np.ndarray, np.ndarray]:
        """The points to draw: the summary of the full buckets, then the last, unfinished one as it is."""
        if self.bucket == 1:
            return self.full.x, self.full.y
        tail = slice(self._done * self.bucket, len(self.full))
        return (np.concatenate([self._summary.x, self.full.x[tail]]),
                np.concatenate([self._summary.y, self.full.y[tail]]))

    # ---- the summary ---------------------------------------------------
    def _rebuild(self) -> None:
        self._summary.clear()
        self._done = 0
        self._summarise_new()

    def _summarise_new(self) -> None:
        k = self.bucket
        whole = len(self.full) // k
        if whole <= self._done:
            return
        start, stop = self._done * k, whole * k
        xs = self.full.x[start:stop].reshape(-1, k)
        ys = self.full.y[start:stop].reshape(-1, k)
        finite = np.isfinite(ys)
        lo = np.where(finite, ys, np.inf).argmin(axis=1)
        hi = np.where(finite, ys, -np.inf).argmax(axis=1)
        first, second = np.minimum(lo, hi), np.maximum(lo, hi)  # keep each pair in x order
        rows = np.arange(len(ys))
        px = np.stack([xs[rows, first], xs[rows, second]], axis=1).ravel()
        py = np.stack([ys[rows, first], ys[rows, second]], axis=1).ravel()
        # A bucket with no finite value at all stays a gap (NaN), as the full data has one there.
        empty = np.repeat(~finite.any(axis=1), 2)
        py[empty] = np.nan
        self._summary.extend(px, py)
        self._done = whole
