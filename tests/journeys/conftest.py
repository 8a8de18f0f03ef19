"""Journeys: whole tasks through the whole main window, driven by real mouse and
key events, with the app's shipped defaults (window size, settings, probe
budgets). Only the person's answers to dialogs are given in advance."""

from __future__ import annotations

import pytest

from person import Answers, _private_settings, answers, config_dir, make_window  # noqa: F401 (fixtures)


@pytest.fixture
def window(make_window):
    """The main window at its first size, as a person opening Studio gets it."""
    w = make_window(size=None)
    # The training dock fills in on the first turn of the event loop.
    from PySide6.QtWidgets import QApplication

    for _ in range(5):
        QApplication.processEvents()
    assert hasattr(w, "training_panel")
    return w
