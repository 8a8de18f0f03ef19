"""The Qt binding must not leak or drop references on ordinary calls: PySide6
6.12.0 under Python 3.11 dropped one reference to None per void call, which
crashes a long session (pyproject excludes it)."""

import sys

from PySide6.QtCore import QObject


def test_void_calls_keep_none_alive(qapp):
    obj = QObject()
    before = sys.getrefcount(None)
    for _ in range(2000):
        obj.setObjectName("x")
    assert abs(sys.getrefcount(None) - before) < 50
