"""Work too slow for the window's thread, done one job at a time on a thread of its own.

``OneAtATime.submit(compute, show)`` runs ``compute()`` on a worker thread and
hands its result to ``show`` back on the window's thread. While a job runs,
only the newest job submitted waits: a person drawing faster than a big
network predicts sees the prediction for the drawing as it is now, never a
queue of stale ones. ``compute`` must not touch widgets.
"""

from __future__ import annotations

import queue
import threading
import time
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal


class OneAtATime(QObject):
    _finished = Signal(object)  # (show, result, error, seconds), emitted from the worker thread

    def __init__(self, parent: QObject | None = None, name: str = "studio-worker") -> None:
        super().__init__(parent)
        self.name = name
        self._jobs: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self.busy = False
        self.waiting: tuple[Callable[[], Any], Callable[..., None]] | None = None
        self.thread_ids: set[int] = set()  # the threads jobs ran on (one)
        self._finished.connect(self._on_finished)  # queued: the signal comes from the worker thread

    def submit(self, compute: Callable[[], Any], show: Callable[[Any, BaseException | None, float], None]) -> None:
        """Run ``compute`` off this thread, then ``show(result, error, seconds)`` on it; a job submitted
        while one runs replaces any other still waiting."""
        if self.busy:
            self.waiting = (compute, show)
            return
        self.busy = True
        if self._thread is None:
            # A daemon thread: the app may quit while a job runs, and nothing of it is kept (an
            # export writes to a temporary name and renames it last).
            self._thread = threading.Thread(target=self._work, name=self.name, daemon=True)
            self._thread.start()
        self._jobs.put((compute, show))

    def _work(self) -> None:
        while True:
            compute, show = self._jobs.get()
            self.thread_ids.add(threading.get_ident())
            started = time.perf_counter()
            try:
                result, error = compute(), None
            except Exception as exc:  # noqa: BLE001 - shown by the window, never lost on this thread
                result, error = None, exc
            try:
                self._finished.emit((show, result, error, time.perf_counter() - started))
            except RuntimeError:  # the window went while this ran
                return

    def _on_finished(self, outcome: tuple) -> None:
        show, result, error, seconds = outcome
        self.busy = False
        show(result, error, seconds)
        if self.waiting is not None and not self.busy:
            compute, show = self.waiting
            self.waiting = None
            self.submit(compute, show)
