"""The doctor's checks, one at a time, on a thread of their own.

``CheckRunner.start(kind, work, show, points)`` runs ``work(progress, stop)`` on a
worker thread: ``progress(step, loss)`` is what the check calls after each step,
``stop()`` what it asks between steps. The losses come back to the window's thread
through a queued signal at most every ``PROGRESS_S`` (a check takes hundreds of
steps a second; a curve redrawn 20 times a second looks as smooth), as lists of
``(step, loss)`` handed to ``points``; the result (or the exception) goes to
``show(result, error)``. The worker thread never touches a widget.

While a check runs, garbage is collected on the window's thread only (the
collector's ``hold``, as during a training run: a Qt wrapper must not be destroyed
on the worker thread), and the interpreter hands the lock to the window's thread
within a few milliseconds so the window keeps answering.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal

from ..collector import install as install_collector

PROGRESS_S = 0.05  # losses reach the window at most 20 times a second
GIL_SWITCH_S = 0.005

Progress = Callable[[int, float], None]
Stop = Callable[[], bool]


class CheckRunner(QObject):
    _progressed = Signal(object)  # (generation, [(step, loss), ...]) from the worker thread
    _finished = Signal(object)  # (generation, result, error)

    def __init__(self, parent: QObject | None = None, name: str = "studio-doctor") -> None:
        super().__init__(parent)
        self.name = name
        self.kind: str | None = None  # the check running now ("preview", "overfit", "lr_find")
        self.progress_s = PROGRESS_S
        self.emits = 0  # progress lists sent (for measuring)
        self._generation = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._show: Callable[[Any, BaseException | None], None] | None = None
        self._points: Callable[[list], None] | None = None
        self._collector = None
        self._switch_interval = sys.getswitchinterval()
        self._progressed.connect(self._on_progress)  # queued: emitted from the worker thread
        self._finished.connect(self._on_finished)

    @property
    def busy(self) -> bool:
        return self.kind is not None

    @property
    def stopping(self) -> bool:
        return self.busy and self._stop.is_set()

    def start(self, kind: str, work: Callable[[Progress, Stop], Any],
              show: Callable[[Any, BaseException | None], None],
              points: Callable[[list], None] | None = None) -> bool:
        """Run ``work`` off this thread; False (nothing started) while another check runs."""
        if self.busy:
            return False
        self.kind = kind
        self._generation += 1
        self._stop = threading.Event()
        self._show, self._points = show, points
        self._collector = install_collector()
        if self._collector is not None:
            self._collector.hold()
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(GIL_SWITCH_S)
        self._thread = threading.Thread(target=self._work, args=(self._generation, work, self._stop),
                                        name=f"{self.name}-{kind}")
        self._thread.start()
        return True

    def stop(self) -> None:
        """Ask the check to end before its next step (its result says it was stopped)."""
        self._stop.set()

    def forget(self, timeout_s: float = 30.0) -> None:
        """Stop the check, wait for its thread, and drop what it still sends (another document
        came, or the window closes: the thread must not be torn down inside torch)."""
        if not self.busy:
            return
        self._stop.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout_s)
        self._end()

    # ---- the worker thread -------------------------------------------------
    def _work(self, generation: int, work: Callable[[Progress, Stop], Any], stop: threading.Event) -> None:
        pending: list[tuple[int, float]] = []
        last = [time.monotonic()]

        def progress(step: int, loss: float) -> None:
            pending.append((int(step), float(loss)))
            now = time.monotonic()
            if now - last[0] >= self.progress_s:
                last[0] = now
                batch = pending[:]
                pending.clear()
                self._send(self._progressed, (generation, batch))

        try:
            result, error = work(progress, stop.is_set), None
        except BaseException as exc:  # noqa: BLE001 - shown in the Check tab, never the end of the app
            result, error = None, exc
        if pending:
            self._send(self._progressed, (generation, pending[:]))
        self._send(self._finished, (generation, result, error))

    def _send(self, signal, payload) -> None:
        try:
            signal.emit(payload)
            if signal is self._progressed:
                self.emits += 1
        except RuntimeError:  # the panel went while the check ran
            pass

    # ---- the window's thread ---------------------------------------------
    def _on_progress(self, payload: tuple) -> None:
        generation, batch = payload
        if generation == self._generation and self.busy and self._points is not None:
            self._points(batch)

    def _on_finished(self, payload: tuple) -> None:
        generation, result, error = payload
        if generation != self._generation or not self.busy:
            return  # a check forgotten for another document
        show = self._show
        self._end()
        if show is not None:
            show(result, error)

    def _end(self) -> None:
        self.kind = None
        self._thread = None
        self._show = self._points = None
        self._generation += 1  # anything the old thread still sends is dropped
        sys.setswitchinterval(self._switch_interval)
        if self._collector is not None:
            self._collector.release()
            self._collector = None
