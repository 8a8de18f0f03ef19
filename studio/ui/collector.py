"""Garbage collection on the window's thread only, while another Python thread runs.

Python runs a collection on whichever thread happens to allocate past the
threshold: during a run that is often the training thread. A Qt wrapper in a
reference cycle (a widget a form dropped, a lambda connected to its own
widget's signal) is then destroyed on that thread, and Qt, which allows a
QObject to be destroyed only on its own thread, warns ("Timers cannot be
started from another thread") and may crash. So while a background thread
runs (a training run, the start-up warm-up), automatic collection is off and
a timer on the window's thread collects young objects by the thresholds Python
uses; full collections, which walk the whole heap, at most every
``FULL_EVERY_S``. When the last such thread ends, Python collects as before.
"""

from __future__ import annotations

import gc
import time
from typing import Callable

from PySide6.QtCore import QCoreApplication, QObject, QThread, QTimer, Signal

INTERVAL_MS = 250
FULL_EVERY_S = 30.0


class GuiThreadCollector(QObject):
    # emitted from any thread, handled on this object's: a job whose window went still ends its pause
    _resume_requested = Signal()

    def __init__(self, parent: QObject, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(parent)
        self._resume_requested.connect(self.resume)
        self.threshold = gc.get_threshold()
        self.holds = 0
        self.paused = 0  # jobs during which nothing is collected at all (see pause)
        self._last_full = time.monotonic()
        self._freeze_when: Callable[[], bool] | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.check)

    def hold(self) -> None:
        """A background thread starts: from now on only this thread collects."""
        self.holds += 1
        if self.holds == 1:
            gc.disable()
            self._timer.start()

    def release(self) -> None:
        """A background thread ended; with none left, Python collects by itself again."""
        self.holds = max(0, self.holds - 1)
        if self.holds == 0:
            self._timer.stop()
            self.check()
            if not self.paused:
                gc.enable()

    def pause(self) -> None:
        """A job starts during which no thread may collect, this one included: CPython 3.11 can
        crash when it collects while another thread runs a generator (torch.export runs thousands
        of them; a collection on this thread during an ONNX export segfaulted). Short jobs only:
        an export, an import, a prediction."""
        self.paused += 1
        gc.disable()

    def resume(self) -> None:
        self.paused = max(0, self.paused - 1)
        if self.paused == 0:
            if self.holds == 0:
                gc.enable()
            self.check()

    def resume_soon(self) -> None:
        """``resume`` on this object's thread, asked from any thread."""
        self._resume_requested.emit()

    def check(self) -> None:
        """Collect the generations past their thresholds, as Python would (a full one rarely)."""
        if self.paused:
            return
        counts = gc.get_count()
        if counts[0] > self.threshold[0]:
            generation = 1 if counts[1] > self.threshold[1] else 0
            if generation == 1 and counts[2] > self.threshold[2] \
                    and time.monotonic() - self._last_full >= FULL_EVERY_S:
                generation = 2
                self._last_full = time.monotonic()
            gc.collect(generation)
        if self._freeze_when is not None and self._freeze_when():
            # Start-up objects live until exit: out of every later full collection's way.
            self._freeze_when = None
            gc.collect()
            gc.freeze()
            self.release()

    def hold_until(self, ready: Callable[[], bool]) -> None:
        """Hold while a start-up thread works; when ``ready()``, collect once, freeze the heap
        and release, all on this thread."""
        self.hold()
        self._freeze_when = ready


def install() -> GuiThreadCollector | None:
    """Once per application, from its own thread; later calls return the same collector."""
    app = QCoreApplication.instance()
    if app is None or QThread.currentThread() is not app.thread():
        return None
    found = app.findChild(GuiThreadCollector)
    return found if found is not None else GuiThreadCollector(app)


class no_collection:
    """No garbage collection on any thread while a burst of Qt objects is made (the training dock:
    hundreds of plot items, each connected to its view's signals). A collection set off inside
    PySide's ``disconnect`` callback, which holds one of Qt's signal locks, can destroy a QObject
    whose destructor waits on that same lock: the window hung for good there. Afterwards the
    young objects are collected here, where no lock is held."""

    def __enter__(self) -> "no_collection":
        self.was = gc.isenabled()
        gc.disable()
        return self

    def __exit__(self, *exc) -> None:
        if self.was:
            gc.enable()
            gc.collect(0)
