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


def pytest_sessionfinish(session, exitstatus):
    """Qt objects go while Qt is still there: windows closed, deferred deletes run and cycles
    collected before the interpreter tears down (a wrapper finalised after QApplication is
    gone is a segfault at exit)."""
    import sys

    if "PySide6.QtWidgets" not in sys.modules:
        return
    from PySide6.QtCore import QCoreApplication, QEvent
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        return
    for widget in QApplication.topLevelWidgets():
        widget.deleteLater()  # not close(): a window with unsaved changes would ask, with nobody to answer
    for _ in range(3):
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
        QCoreApplication.processEvents()
        gc.collect()
