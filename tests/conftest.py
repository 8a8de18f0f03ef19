import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Data sets larger than memory are cached on disk; no test writes into the user's own cache.
if "STUDIO_CACHE_DIR" not in os.environ:
    import atexit
    import shutil
    import tempfile

    os.environ["STUDIO_CACHE_DIR"] = tempfile.mkdtemp(prefix="studio-test-cache-")
    atexit.register(shutil.rmtree, os.environ["STUDIO_CACHE_DIR"], True)


import gc

import pytest


@pytest.fixture(autouse=True)
def _collect_like_the_app():
    # Once a run has started, the app collects garbage only from the window's thread, on a timer
    # (studio/ui/collector.py). Tests between event loops do the same, so cycles do not pile up.
    yield
    if not gc.isenabled():
        threshold, counts = gc.get_threshold(), gc.get_count()
        if counts[0] > threshold[0]:
            gc.collect(2 if counts[2] > threshold[2] else 1 if counts[1] > threshold[1] else 0)



@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    """Every widget a test gave pytest-qt is held until its teardown. pytest-qt keeps only weak
    references to them, and paints them once more after the test returns: a view held by nothing
    but its own reference cycles could then be collected by a garbage collection that one of its
    own paint handlers set off, and deleted while Qt was painting it (a segfault in
    ``GraphicsView.paintEvent`` or ``ImageItem.paint``, in shuffled orders). The references come
    from pytest-qt's own list: asking Qt for every top-level widget instead wraps widgets Python
    never made, and that segfaulted too."""
    yield
    alive = (ref() for ref, _ in getattr(item, "qt_widgets", ()))
    item.studio_open_windows = [w for w in alive if w is not None]


@pytest.hookimpl(hookwrapper=True, trylast=True)
def pytest_runtest_teardown(item):
    """Widgets a test closed are deleted at the end of that test, as an event loop would, so
    nothing of one test is painted during another; only then are the ones it gave pytest-qt let go."""
    yield
    import sys

    if "PySide6.QtCore" in sys.modules:
        from PySide6.QtCore import QCoreApplication, QEvent

        if QCoreApplication.instance() is not None:
            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
            item.studio_open_windows = []
            _TESTS_SINCE_SWEEP[0] += 1
            if _TESTS_SINCE_SWEEP[0] >= SWEEP_EVERY or not gc.get_freeze_count():
                # Widgets of earlier tests held only by their own cycles wait for a full collection;
                # thousands of them made every later window, theme change and close slower (a theme
                # change re-polishes each one). Swept here, between tests, on the window's thread;
                # again at once after a test unfroze the heap.
                _sweep()
                QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    item.studio_open_windows = []


def _sweep() -> None:
    """A full collection, then what survived it is frozen, as the app freezes its start-up heap
    (studio/ui/collector.py): torch, Qt, the test modules and what later tests imported live until
    the end, and no later full collection walks them again. Each one walked some 400,000 objects
    (0.2 to 0.3 s of CPU), and Python and the window's collector start them every few window tests."""
    _TESTS_SINCE_SWEEP[0] = 0
    gc.collect()
    gc.freeze()


def pytest_collection_finish(session):
    _sweep()


SWEEP_EVERY = 40
_TESTS_SINCE_SWEEP = [0]


_EXIT_STATUS = [0]


def pytest_sessionfinish(session, exitstatus):
    _EXIT_STATUS[0] = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    """The test process ends here, once every report is written, without the interpreter's
    teardown: there Python finalises the remaining Qt wrappers in no set order, some after the
    QApplication they belong to, and a test order that leaves the wrong one alive segfaulted at
    exit. The app ends through QApplication.exec() returning instead, with its windows closed."""
    import sys

    if "PySide6.QtCore" not in sys.modules:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(_EXIT_STATUS[0])


@pytest.fixture
def only_live_widgets():
    """A theme change re-polishes every widget the application holds; widgets earlier tests let go
    of wait for a collection and Qt's deferred deletes, and would make the change cost seconds a
    person never waits (one window holds about a thousand). Tidied up first, as an idle app is."""
    from PySide6.QtCore import QCoreApplication, QEvent

    gc.collect()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    yield
