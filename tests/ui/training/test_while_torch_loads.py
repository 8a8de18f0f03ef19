"""Opening an example and pressing Train while the start-up loader still imports torch: the
window stays free (neither scikit-learn nor torch imported on its thread), says what it waits
for, then loads the data set and trains."""

from __future__ import annotations

import sys
import threading

import pytest

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from studio.ui import torch_loader
from studio.ui.training import dataset_chooser


@pytest.fixture
def loader_running(monkeypatch):
    """The start-up loader planned and still importing (scikit-learn's data sets not yet there);
    set the event for its end."""
    done = threading.Event()
    monkeypatch.setattr(torch_loader, "_done", done)
    monkeypatch.setattr(torch_loader, "_planned", True)
    monkeypatch.setattr(torch_loader, "_waiting", [])
    monkeypatch.delitem(sys.modules, "sklearn.datasets", raising=False)
    return done


def test_train_pressed_before_torch_has_loaded_waits_says_so_then_trains(make_panel, spiral, qtbot, monkeypatch,
                                                                         loader_running):
    done = loader_running
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


def test_a_csv_is_read_at_once_while_torch_loads(make_panel, spiral, qtbot, tmp_path, monkeypatch, loader_running):
    monkeypatch.setenv("STUDIO_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "points.csv").write_text("x0,x1,label\n" + "".join(f"{i},{i % 5},{i % 3}\n" for i in range(90)))
    graph = spiral(epochs=1)
    graph.set_training({**graph.training, "dataset": {"name": "csv", "path": "points.csv",
                                                       "target": "label"}})
    panel = make_panel(graph)
    panel.set_base_dir(tmp_path)
    qtbot.waitUntil(lambda: panel.chooser.dataset is not None, timeout=5000)  # no wait for the loader
    assert not loader_running.is_set()
