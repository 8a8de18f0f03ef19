"""Loading torch off the window's thread, once the window has painted.

Importing torch and the parts of studio that use it takes seconds on a small
machine; done before the first paint, the window appears that much later.
The app starts ``load_in_background`` after its first paint: a plain Python
thread imports them and pays torch's first-run costs (``warm_up``), so the
first Train or Check press finds everything loaded. The thread never touches
a widget and never collects garbage (see ``collector``): the window's thread
holds collection until ``loaded()``. What the window shows that needs torch
(the device a run will use, the learning-rate schedule) asks ``ready()`` and,
while the load is under way, waits for it with ``when_loaded``.
"""

from __future__ import annotations

import importlib
import sys
import threading
from typing import Callable

from PySide6.QtCore import QCoreApplication, QObject, QTimer
from shiboken6 import isValid

# What a first Train or Check imports; torch first, as everything after it needs it.
MODULES = (
    "torch",
    "studio.compile",
    "studio.training.trainer",
    "studio.training.probes",
    "studio.training.probe_rows",
    "studio.training.optim",
    "studio.training.setup",
    "studio.training.supervised",
    "studio.doctor.preview",
    "studio.doctor.run_setup",
    "studio.training.warmup",
    "sklearn.datasets",  # the built-in data sets: an example opened at start waits for it here
)

_done = threading.Event()
_thread: threading.Thread | None = None
_planned = False  # a loader runs, or will once the window has started up
error: BaseException | None = None  # what stopped the load, for whoever asks; Train reports it itself


def load() -> None:
    """Import ``MODULES`` and warm torch up; sets ``loaded()`` however it ends."""
    global error
    try:
        for name in MODULES:
            try:
                importlib.import_module(name)
            except ModuleNotFoundError as exc:
                if exc.name != name:  # a module of ours gone is fine; one it needs missing is not
                    raise
        from studio.training.warmup import warm_up

        warm_up(freeze=False)  # the heap is frozen on the window's thread (collector.hold_until)
    except BaseException as exc:  # noqa: BLE001 (a failed import surfaces again, with its message, at Train)
        error = exc
    finally:
        _done.set()


def loaded() -> bool:
    return _done.is_set()


def plan() -> None:
    """The app will start the loader once its window is up: until the load has finished, what
    needs torch waits for it (``ready``, ``when_loaded``) rather than importing it there and then."""
    global _planned
    _planned = True


def ready() -> bool:
    """Whether torch may be used on this thread now without waiting for the loader: it has
    finished, or none is planned (a test, a screenshot: the caller imports torch itself)."""
    return _done.is_set() or not _planned


POLL_MS = 100
_waiting: list[tuple[QObject, Callable[[], None]]] = []
_poll: QTimer | None = None


def when_loaded(receiver: QObject, callback: Callable[[], None]) -> None:
    """Call ``callback`` on this (the window's) thread once the load has finished, unless
    ``receiver`` is gone by then; at once if ``ready()``."""
    global _poll
    if ready():
        callback()
        return
    if any(r is receiver and c == callback for r, c in _waiting):
        return
    _waiting.append((receiver, callback))
    if _poll is None:
        _poll = QTimer(QCoreApplication.instance())
        _poll.setInterval(POLL_MS)
        _poll.timeout.connect(_deliver)
    _poll.start()


def _deliver() -> None:
    if not _done.is_set():
        return
    _poll.stop()
    waiting = list(_waiting)
    _waiting.clear()
    for receiver, callback in waiting:
        if isValid(receiver):
            callback()


def load_in_background() -> threading.Thread:
    """Start the load once per process; later calls return the same thread."""
    global _thread
    plan()
    if _thread is None:
        _thread = threading.Thread(target=load, name="torch loader", daemon=True)
        _thread.start()
    return _thread
