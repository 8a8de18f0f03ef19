"""How far a load has come, for a progress bar: ``report(fraction, done, unit)``.

``load_dataset(spec, ..., progress=callback)`` makes ``callback`` the reporter of
the thread that loads; the loaders call ``report`` as they read (rows of a CSV,
files of an image folder) without knowing who listens. The callback runs on the
loading thread: a window hands it on to its own thread, never touches a widget
from it. Without a callback a load that takes long says how far it is on
stderr, so a headless ``studio train`` on a large data set is not silent.
"""

from __future__ import annotations

import contextvars
import sys
import time
from contextlib import contextmanager
from typing import Callable, Iterator

# (fraction in [0, 1], items done, unit: "rows", "files", "bytes") -> None
Progress = Callable[[float, int, str], None]

# Reports closer together than this are dropped (a callback per row would cost more than the row).
EVERY_S = 0.1
# Without a callback, stderr hears of a load only once it has taken this long.
QUIET_S = 2.0

_current: contextvars.ContextVar["_Reporter | None"] = contextvars.ContextVar("studio_data_progress", default=None)


class _Reporter:
    def __init__(self, callback: Progress | None, what: str = ""):
        self.callback = callback
        self.what = what
        self.start = time.monotonic()
        self.last = -1.0
        self.printed = -1

    def __call__(self, fraction: float, done: int, unit: str, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < EVERY_S:
            return
        self.last = now
        fraction = min(max(float(fraction), 0.0), 1.0)
        if self.callback is not None:
            self.callback(fraction, int(done), unit)
        elif now - self.start >= QUIET_S:
            self._print(fraction, done, unit)

    def _print(self, fraction: float, done: int, unit: str) -> None:
        tenth = int(fraction * 10)
        tty = sys.stderr.isatty()
        if not tty and tenth == self.printed:
            return  # a log gets a line per tenth, a terminal one line rewritten
        self.printed = tenth
        end = "\r" if tty and fraction < 1 else "\n"
        sys.stderr.write(f"loading {self.what}: {fraction:4.0%} ({done:,} {unit}){end}")
        sys.stderr.flush()


@contextmanager
def reporting(callback: Progress | None, what: str = "") -> Iterator[None]:
    """Make ``callback`` (or, when None, the quiet stderr reporter) hear this thread's loads."""
    token = _current.set(_Reporter(callback, what))
    try:
        yield
    finally:
        _current.reset(token)


def report(fraction: float, done: int, unit: str, force: bool = False) -> None:
    """Tell the listener of this thread's load how far it is (at most every ``EVERY_S``; ``force`` for the end)."""
    reporter = _current.get()
    if reporter is not None:
        reporter(fraction, done, unit, force)
