"""Training on a background thread.

``TrainingWorker`` lives on a ``QThread`` and runs one blocking trainer. It
never touches a widget: the trainer's events are gathered under a lock and
handed to the UI thread as lists through a queued signal, at most ~30 lists a
second however fast the steps are (10 by default: the views redraw a few times
a second at most, and every list costs the UI thread, and so the trainer
waiting on the interpreter lock, a little time). ``TrainingSession`` is the UI-thread side:
it owns the thread, forwards pause/resume/stop (flags the trainer checks
between steps), and sweeps up events that arrive after a quiet spell.
"""

from __future__ import annotations

import threading
import time
import traceback
from typing import Any, Callable, Protocol

from PySide6.QtCore import QObject, QThread, QTimer, Qt, Signal, Slot


class Runnable(Protocol):
    def run(self) -> Any: ...
    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def stop(self) -> None: ...


# Builds the trainer on the worker thread (compiling and loading data there
# keeps the window responsive); receives the callback events go to.
TrainerFactory = Callable[[Callable[[Any], None]], Runnable]

MAX_BATCHES_PER_S = 10.0  # the design allows up to 30


def describe_exception(exc: BaseException) -> str:
    """One readable line plus where it was raised, for the panel's banner."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = ""
    if frames:
        last = frames[-1]
        where = f" (at {last.filename.rsplit('/', 1)[-1]}:{last.lineno} in {last.name})"
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}{where}"


class TrainingWorker(QObject):
    events = Signal(list)  # list of studio.training.events objects, oldest first
    failed = Signal(str)  # the run raised: a message for a person
    done = Signal()

    def __init__(self, make_trainer: TrainerFactory, max_rate_hz: float = MAX_BATCHES_PER_S) -> None:
        super().__init__()
        self._make_trainer = make_trainer
        self._interval = 1.0 / max_rate_hz
        self._lock = threading.Lock()
        self._pending: list[Any] = []
        self._last_emit = 0.0
        self._trainer: Runnable | None = None
        self._stop_requested = False
        self._pause_requested = False
        self.batches_sent = 0

    # ---- worker thread -------------------------------------------------
    @Slot()
    def run(self) -> None:
        try:
            trainer = self._make_trainer(self._on_event)
            with self._lock:
                self._trainer = trainer
                stop, pause = self._stop_requested, self._pause_requested
            # A stop or pause pressed while the trainer was being built still counts.
            if stop:
                trainer.stop()
            elif pause:
                trainer.pause()
            trainer.run()
        except Exception as exc:  # any failure ends this run, never the app
            self.flush(force=True)
            self.failed.emit(describe_exception(exc))
        finally:
            self.flush(force=True)
            self.done.emit()
            # End this thread's event loop from inside, so a UI thread blocked in wait() (closing
            # the window) is released without needing its own event loop to turn.
            QThread.currentThread().quit()

    def _on_event(self, event: Any) -> None:
        with self._lock:
            self._pending.append(event)
        self.flush()

    # ---- either thread -------------------------------------------------
    def flush(self, force: bool = False) -> bool:
        """Send what is pending if the last batch left long enough ago."""
        with self._lock:
            now = time.monotonic()
            if not self._pending or (not force and now - self._last_emit < self._interval):
                return False
            batch, self._pending = self._pending, []
            self._last_emit = now
            self.batches_sent += 1
        self.events.emit(batch)
        return True

    def pause(self) -> None:
        with self._lock:
            self._pause_requested = True
            trainer = self._trainer
        if trainer is not None:
            trainer.pause()

    def resume(self) -> None:
        with self._lock:
            self._pause_requested = False
            trainer = self._trainer
        if trainer is not None:
            trainer.resume()

    def stop(self) -> None:
        with self._lock:
            self._stop_requested = True
            trainer = self._trainer
        if trainer is not None:
            trainer.stop()

    @property
    def trainer(self) -> Runnable | None:
        return self._trainer


class TrainingSession(QObject):
    """One run on its own thread, seen from the UI thread."""

    events = Signal(list)
    failed = Signal(str)
    finished = Signal()

    def __init__(self, make_trainer: TrainerFactory, parent: QObject | None = None,
                 max_rate_hz: float = MAX_BATCHES_PER_S) -> None:
        super().__init__(parent)
        self._thread = QThread()
        self._thread.setObjectName("training")
        self.worker = TrainingWorker(make_trainer, max_rate_hz)
        self.worker.moveToThread(self._thread)
        # Queued: slots run on the UI thread, in order, whichever thread emitted.
        self.worker.events.connect(self.events, Qt.ConnectionType.QueuedConnection)
        self.worker.failed.connect(self.failed, Qt.ConnectionType.QueuedConnection)
        self.worker.done.connect(self._on_done, Qt.ConnectionType.QueuedConnection)
        self._thread.started.connect(self.worker.run)
        # Events that arrive just after a batch left would otherwise wait for the next one.
        self._sweep = QTimer(self)
        self._sweep.setInterval(int(1000 / max_rate_hz) + 1)
        # A plain callable runs on this (the UI) thread; the worker's own slot would wait in the
        # worker thread's event queue, which is blocked while the trainer runs.
        self._sweep.timeout.connect(lambda: self.worker.flush())
        self._running = False
        self._paused = False

    @property
    def running(self) -> bool:
        return self._running

    @property
    def paused(self) -> bool:
        return self._paused

    def start(self) -> None:
        if self._running:
            raise RuntimeError("this run has already started")
        self._running = True
        from ..collector import install as collector

        # Never on the training thread, where Qt wrappers must not die: collections are the UI's.
        self._collector = collector()
        if self._collector is not None:
            self._collector.hold()
        self._thread.start()
        self._sweep.start()

    def pause(self) -> None:
        self._paused = True
        self.worker.pause()

    def resume(self) -> None:
        self._paused = False
        self.worker.resume()

    def stop(self) -> None:
        self._paused = False
        self.worker.stop()

    def wait(self, timeout_ms: int = 10_000) -> bool:
        """Block until the thread ends (for closing the window)."""
        return self._thread.wait(timeout_ms)

    @Slot()
    def _on_done(self) -> None:
        self._sweep.stop()
        self._thread.quit()
        self._thread.wait()
        if getattr(self, "_collector", None) is not None:
            self._collector.release()
            self._collector = None
        self._running = False
        self._paused = False
        self.finished.emit()
