"""Hostile input met through the whole window: the window fixtures of the journeys."""

from __future__ import annotations

import pytest

from person import Answers, _private_settings, answers, config_dir, make_window  # noqa: F401 (fixtures)


@pytest.fixture
def window(make_window):
    """The main window at its first size, as a person opening Studio gets it."""
    from PySide6.QtWidgets import QApplication

    w = make_window(size=None)
    for _ in range(5):
        QApplication.processEvents()
    return w
