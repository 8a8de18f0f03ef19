"""Garbage collection on the window's thread only.

Python runs a collection on whichever thread happens to allocate past the
threshold: during a run that is often the training thread. A Qt wrapper in a
reference cycle (a widget a form dropped, a lambda connected to its own
widget's signal) is then destroyed on that thread, and Qt, which allows a
QObject to be destroyed only on its own thread, warns ("Timers cannot be
started from another thread") and may crash. So once a window is up,
automatic collection is off and a timer on the window's thread collects, by
the same thresholds Python uses, a few times a second.
"""

from __future__ import annotations

import gc
from typing import Callable

from PySide6.QtCore import QCoreApplication, QObject, QThread, QTimer

INTERVAL_MS = 250


class GuiThreadCollector(QObject):
    def __init__(self, parent: QObject, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(parent)
        self.threshold = gc.get_threshold()
        self._freeze_when: Callable[[], bool] | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.check)
        gc.disable()
        self._timer.start()
        parent.destroyed.connect(lambda *_: gc.enable())

    def check(self) -> None:
        """Collect the generations whose counts are past their thresholds, as Python would."""
        counts = gc.get_count()
        if counts[0] > self.threshold[0]:
            generation = 0
            if counts[1] > self.threshold[1]:
                generation = 2 if counts[2] > self.threshold[2] else 1
            gc.collect(generation)
        if self._freeze_when is not None and self._freeze_when():
            # Start-up objects live until exit: out of every later full collection's way.
            self._freeze_when = None
            gc.collect()
            gc.freeze()

    def freeze_when(self, ready: Callable[[], bool]) -> None:
        """Collect once and freeze the heap, on this thread, as soon as ``ready()`` says so."""
        self._freeze_when = ready


def install() -> GuiThreadCollector | None:
    """Once per application, from its own thread; later calls return the same collector."""
    app = QCoreApplication.instance()
    if app is None or QThread.currentThread() is not app.thread():
        return None
    found = app.findChild(GuiThreadCollector)
    return found if found is not None else GuiThreadCollector(app)
