"""Work too slow for the window's thread, done one job at a time on a thread of its own.

``OneAtATime.submit(compute, show)`` runs ``compute()`` on a worker thread and
hands its result to ``show`` back on the window's thread. While a job runs,
only the newest job submitted waits: a person drawing faster than a big
network predicts sees the prediction for the drawing as it is now, never a
queue of stale ones. ``compute`` must not touch widgets. While a job runs no
garbage is collected on any thread (``GuiThreadCollector.pause``).
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal

from .collector import install as install_collector


class OneAtATime(QObject):
    _finished = Signal(object)  # (show, result, error, seconds), emitted from the worker thread

    def __init__(self, parent: QObject | None = None, name: str = "studio-worker") -> None:
        super().__init__(parent)
        self.name = name
        self.busy = False
        self.waiting: tuple[Callable[[], Any], Callable[..., None]] | None = None
        self.thread_ids: set[int] = set()  # the threads jobs ran on
        self._collector = None  # paused while a job runs
        self._finished.connect(self._on_finished)  # queued: the signal comes from the worker thread

    def submit(self, compute: Callable[[], Any], show: Callable[[Any, BaseException | None, float], None]) -> None:
        """Run ``compute`` off this thread, then ``show(result, error, seconds)`` on it; a job submitted
        while one runs replaces any other still waiting."""
        if self.busy:
            self.waiting = (compute, show)
            return
        self.busy = True
        self._collector = install_collector()
        if self._collector is not None:
            self._collector.pause()
        # A thread for the job, not a daemon: when the person quits while an export is being written,
        # Python waits for it at exit, so the file is finished and the thread is never torn down
        # inside torch (which aborts the process). Jobs are seldom (an export, a prediction now and
        # then), so a thread each costs nothing that shows.
        threading.Thread(target=self._work, args=(compute, show, self._collector), name=self.name).start()

    def _work(self, compute: Callable[[], Any], show: Callable[..., None], collector) -> None:
        self.thread_ids.add(threading.get_ident())
        started = time.perf_counter()
        try:
            result, error = compute(), None
        except BaseException as exc:  # noqa: BLE001 - shown by the window, even a sys.exit() in a model file
            result, error = None, exc
        # The pause ends through the collector itself (it lives as long as the app): a result queued
        # to a window deleted before it arrives is dropped, and so would its resume be.
        if collector is not None:
            collector.resume_soon()
        try:
            self._finished.emit((show, result, error, time.perf_counter() - started))
        except RuntimeError:  # the window went while this ran: nothing to show
            pass

    def _on_finished(self, outcome: tuple) -> None:
        show, result, error, seconds = outcome
        self.busy = False
        self._collector = None  # its pause ended as the job did (``_work``)
        show(result, error, seconds)
        if self.waiting is not None and not self.busy:
            compute, show = self.waiting
            self.waiting = None
            self.submit(compute, show)
