import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


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



@pytest.hookimpl(hookwrapper=True, trylast=True)
def pytest_runtest_teardown(item):
    """Widgets a test closed are deleted at the end of that test, as an event loop would, so
    nothing of one test is left to be painted during another (a pyqtgraph view painted with its
    scene gone segfaulted one shuffled order)."""
    yield
    import sys

    if "PySide6.QtCore" in sys.modules:
        from PySide6.QtCore import QCoreApplication, QEvent

        if QCoreApplication.instance() is not None:
            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)


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
