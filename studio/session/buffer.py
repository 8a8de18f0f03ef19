"""Growing arrays for live curves.

A curve appends a few points per update and is redrawn from a slice of one
preallocated array; when the array is full it doubles, so appending a million
points costs about twenty copies in all instead of one per update.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np


class GrowingBuffer:
    """Parallel x/y arrays of float64 that double in place when full."""

    def __init__(self, capacity: int = 1024) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self._x = np.empty(capacity, dtype=np.float64)
        self._y = np.empty(capacity, dtype=np.float64)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    @property
    def capacity(self) -> int:
        return len(self._x)

    def _reserve(self, extra: int) -> None:
        need = self._n + extra
        if need <= len(self._x):
            return
        cap = len(self._x)
        while cap < need:
            cap *= 2
        for name in ("_x", "_y"):
            old = getattr(self, name)
            new = np.empty(cap, dtype=np.float64)
            new[: self._n] = old[: self._n]
            setattr(self, name, new)

    def append(self, x: float, y: float) -> None:
        self._reserve(1)
        self._x[self._n] = x
        self._y[self._n] = y
        self._n += 1

    def extend(self, xs: Iterable[float], ys: Iterable[float]) -> None:
        xa = np.asarray(xs, dtype=np.float64).ravel()
        ya = np.asarray(ys, dtype=np.float64).ravel()
        if len(xa) != len(ya):
            raise ValueError(f"x and y differ in length: {len(xa)} and {len(ya)}")
        self._reserve(len(xa))
        self._x[self._n: self._n + len(xa)] = xa
        self._y[self._n: self._n + len(ya)] = ya
        self._n += len(xa)

    def clear(self) -> None:
        self._n = 0

    @property
    def x(self) -> np.ndarray:
        """A view of the filled part (no copy)."""
        return self._x[: self._n]

    @property
    def y(self) -> np.ndarray:
        return self._y[: self._n]
