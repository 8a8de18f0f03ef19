"""Garbage is collected on the window's thread only, even while the training thread allocates."""

from __future__ import annotations

import gc
import threading

from PySide6.QtCore import QObject

from studio.ui.training.worker import TrainingSession


class Cyclic(QObject):
    """A Qt wrapper kept alive only by a reference cycle, as dropped forms often are."""

    died_on: list[str] = []

    def __init__(self):
        super().__init__()
        self.me = self

    def __del__(self):
        Cyclic.died_on.append(threading.current_thread().name)


class Allocating:
    """A trainer stand-in that allocates enough container objects to trigger collections."""

    def __init__(self, callback):
        self.callback = callback

    def run(self):
        self.kept = [[i] for i in range(20_000)]  # past every threshold, as a run's tensors are
        self.callback("done")

    def pause(self):
        pass

    def resume(self):
        pass

    def stop(self):
        pass


def test_cycles_die_on_the_window_thread_during_a_run(qtbot):
    Cyclic.died_on.clear()
    session = TrainingSession(lambda cb: Allocating(cb))
    session.start()
    assert not gc.isenabled()  # the worker thread can no longer start a collection
    for _ in range(20):
        Cyclic()
    with qtbot.waitSignal(session.finished, timeout=10_000):
        pass
    qtbot.waitUntil(lambda: len(Cyclic.died_on) == 20, timeout=5_000)
    assert set(Cyclic.died_on) == {threading.main_thread().name}
    assert gc.isenabled()  # no thread left to fear: Python collects as it always does
