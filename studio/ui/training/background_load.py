"""Loading a data set off the window's thread: a 200 MB CSV must not freeze the window.

The job runs on a plain Python thread and touches no Qt object; its result
waits in a queue that a timer on the window's thread empties. A newer job
makes an older one's result stale: it is dropped when it arrives. While a job
runs the window's thread does the garbage collection (``collector.py``).

A job may say how far it is: it is handed a ``report(fraction, done, unit)``
that only stores the latest values (an assignment, safe from any thread); the
same timer hands them to the window's ``progress`` callback, at most once a
tick, so a loader reporting often costs the window nothing.
"""

from __future__ import annotations

import queue
import threading
from typing import Any, Callable

from PySide6.QtCore import QObject, QTimer

from ..collector import install as collector

POLL_MS = 30


class BackgroundLoad(QObject):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._results: queue.SimpleQueue = queue.SimpleQueue()
        self._generation = 0
        self._running = 0
        self._done: Callable[[Any], None] | None = None
        self._progress: Callable[[float, int, str], None] | None = None
        self._latest: tuple | None = None  # (generation, fraction, done, unit) from the job's thread
        self._shown: tuple | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._deliver)
        self._collector = collector()
        # A window closed mid-load: the collector must not stay held for a thread nobody waits for.
        held = self._collector
        counter = [0]
        self._held = counter
        self.destroyed.connect(lambda *_: [held.release() for _ in range(counter[0])] if held is not None else None)

    @property
    def busy(self) -> bool:
        """A job whose result is still wanted is running."""
        return self._done is not None

    def start(self, job: Callable[..., Any], done: Callable[[Any], None],
              progress: Callable[[float, int, str], None] | None = None) -> None:
        """Run ``job()`` on a thread; ``done(result)`` is called on this thread, with the
        exception when it raised. Any job still running is forgotten. With ``progress``,
        the job is called as ``job(report)`` and ``progress(fraction, done, unit)`` hears,
        on this thread, the latest of what it reports."""
        self._generation += 1
        self._done = done
        self._progress = progress
        self._latest = self._shown = None
        generation = self._generation

        def report(fraction: float, count: int, unit: str) -> None:
            self._latest = (generation, fraction, count, unit)

        def run() -> None:
            try:
                result: Any = job(report) if progress is not None else job()
            except BaseException as exc:  # handed to the window's thread, which shows it
                result = exc
            self._results.put((generation, result))

        if self._collector is not None:
            self._collector.hold()
            self._held[0] += 1
        self._running += 1
        threading.Thread(target=run, name="studio-data-load", daemon=True).start()
        self._timer.start()

    def cancel(self) -> None:
        """Forget the job running now (its result is dropped when it comes)."""
        self._generation += 1
        self._done = None
        self._progress = None

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the wanted job's result is delivered (for scripts and tests)."""
        import time

        end = None if timeout is None else time.monotonic() + timeout
        while self._done is not None:
            left = None if end is None else end - time.monotonic()
            if left is not None and left <= 0:
                return False
            try:
                item = self._results.get(timeout=left)
            except queue.Empty:
                return False
            self._take(*item)
        return True

    def _deliver(self) -> None:
        latest = self._latest
        if latest is not None and latest is not self._shown and latest[0] == self._generation \
                and self._progress is not None and self._done is not None:
            self._shown = latest
            self._progress(*latest[1:])
        while True:
            try:
                item = self._results.get_nowait()
            except queue.Empty:
                break
            self._take(*item)
        if self._running == 0:
            self._timer.stop()

    def _take(self, generation: int, result: Any) -> None:
        self._running -= 1
        if self._collector is not None and self._held[0] > 0:
            self._held[0] -= 1
            self._collector.release()
        if generation != self._generation or self._done is None:
            return
        done, self._done = self._done, None
        self._progress = None
        done(result)
