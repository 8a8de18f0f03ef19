"""A person's data file that takes a while: the loading bar fills as the rows are read."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from studio.data import progress
from studio.data.files import csv_fast
from studio.ui.training import dataset_chooser

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "spiral_mlp.json"


def csv_graph(tmp_path, rows: int = 1000) -> Path:
    lines = ["x0,x1,label"] + [f"{i * 0.01:.2f},{(i * 7) % 13 * 0.1:.1f},{i % 3}" for i in range(rows)]
    (tmp_path / "points.csv").write_text("\n".join(lines) + "\n")
    doc = json.loads(EXAMPLE.read_text())
    doc["training"]["dataset"] = {"name": "csv", "path": "points.csv", "target": "label"}
    path = tmp_path / "points.json"
    path.write_text(json.dumps(doc))
    return path


def test_the_loading_bar_fills_while_a_csv_is_read(make_window, answers, tmp_path, qtbot, monkeypatch):
    path = csv_graph(tmp_path)
    monkeypatch.setenv("STUDIO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(progress, "EVERY_S", 0.0)
    monkeypatch.setattr(dataset_chooser, "QUICK_LOAD_S", 0.0)
    monkeypatch.setattr(csv_fast, "CHUNK_ROWS", 200)
    # The reader stops after its second block of rows until the test has looked at the bar.
    looked, blocks = threading.Event(), []
    take = csv_fast._take

    def held(*args):
        take(*args)
        blocks.append(1)
        if len(blocks) == 2:
            looked.wait(10)

    monkeypatch.setattr(csv_fast, "_take", held)
    window = make_window()
    chooser = window.training_panel.chooser
    answers.open_name = str(path)
    try:
        QTest.keyClick(window, Qt.Key_O, Qt.ControlModifier)
        bar = chooser.busy
        # The first block's 200 of about 1,000 rows have been read and reported; the second is held.
        qtbot.waitUntil(lambda: bar.maximum() == dataset_chooser.PROGRESS_STEPS, timeout=5000)
        assert bar.isVisible() and bar.value() == 200
        assert chooser.describe_label.text() == "Loading points.csv… 200 rows (20%)"
        assert chooser.dataset is None
        # the decision boundary's tab says the data is being read, not that it has no boundary
        view = window.training_panel.boundary_view
        assert view.is_empty and view.empty_label.text().startswith("Reading the data set…")
    finally:
        looked.set()
    qtbot.waitUntil(lambda: chooser.dataset is not None, timeout=10_000)
    qtbot.waitUntil(lambda: not view.is_empty, timeout=5000)  # the 2-D points, under the boundary to come
    assert bar.isHidden() and bar.maximum() == 0  # moving to and fro again for the next load
    assert chooser.describe_label.text().startswith("csv: classification; 800 training / 200 validation")
