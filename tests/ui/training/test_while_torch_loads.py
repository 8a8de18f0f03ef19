"""Opening an example and pressing Train while the start-up loader still imports torch: the
window stays free (neither scikit-learn nor torch imported on its thread), says what it waits
for, then loads the data set and trains."""

from __future__ import annotations

import threading

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from studio.ui import torch_loader
from studio.ui.training import dataset_chooser


def test_train_pressed_before_torch_has_loaded_waits_says_so_then_trains(make_panel, spiral, qtbot, monkeypatch):
    done = threading.Event()
    monkeypatch.setattr(torch_loader, "_done", done)
    monkeypatch.setattr(torch_loader, "_planned", True)
    monkeypatch.setattr(torch_loader, "_waiting", [])
    imported = []
    first = dataset_chooser._import_first
    monkeypatch.setattr(dataset_chooser, "_import_first", lambda kind: (imported.append(kind), first(kind)))
    panel = make_panel(spiral(epochs=1))
    chooser = panel.chooser
    assert chooser.loading and chooser.dataset is None and not imported  # waits for the loader's imports
    assert chooser.describe_label.text() == "Loading spiral…"
    QTest.mouseClick(panel.controls.train_button, Qt.MouseButton.LeftButton)
    assert not panel.running and panel.session is None
    assert panel.status_label.text() == "Loading PyTorch… training starts when it has loaded."
    done.set()  # the loader has finished
    qtbot.waitUntil(lambda: panel.session is not None, timeout=5000)
    assert imported == ["builtin"] and chooser.dataset is not None
    qtbot.waitUntil(lambda: not panel.running, timeout=20_000)
    assert panel.run.progress.epochs_done == 1
