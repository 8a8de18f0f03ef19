"""Crafted graph files opened with Ctrl+O in the window: each gets a dialog or a message
naming the place, and the window goes on showing a whole document."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from studio.ui.main_window import EXAMPLES_DIR

SPIRAL = EXAMPLES_DIR / "spiral_mlp.json"


def crafted(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def open_with_keys(window, answers, path) -> None:
    answers.open_name = str(path)
    QTest.keyClick(window, Qt.Key_O, Qt.ControlModifier)


def test_a_5000_digit_number_gets_a_dialog_and_the_document_stays(window, answers, tmp_path):
    open_with_keys(window, answers, SPIRAL)
    text = SPIRAL.read_text().replace('"epochs": ', '"epochs": ' + "9" * 5000 + ", \"x_epochs\": ", 1)
    bad = crafted(tmp_path, "huge.json", text)
    open_with_keys(window, answers, bad)
    assert answers.errors() and "huge.json" in answers.errors()[-1]
    assert window.path == SPIRAL and len(window.editor.graph) > 0


def test_settings_beyond_a_spin_box_are_refused_by_key_not_shown_stale(window, answers, tmp_path):
    open_with_keys(window, answers, SPIRAL)
    doc = json.loads(SPIRAL.read_text())
    doc["training"].update(epochs=2**40, seed=2**70, batch_size=2**31)
    bad = crafted(tmp_path, "overflow.json", json.dumps(doc))
    open_with_keys(window, answers, bad)
    assert window.path == bad  # the network itself is fine
    form = window.training_panel.config_form
    shown = form.error_label.text()
    assert not form.error_label.isHidden()
    for key in ("training.epochs", "training.seed", "training.batch_size"):
        assert key in shown, shown
    # Not the last document's 80 epochs: the refused file's settings are not shown as if they held.
    assert form.widgets[("epochs",)].value() != 80


def test_a_name_that_cannot_be_saved_never_reaches_the_window(window, answers, tmp_path):
    open_with_keys(window, answers, SPIRAL)
    doc = json.loads(SPIRAL.read_text())
    text = json.dumps(doc).replace('"name": "' + doc["name"] + '"', '"name": "lone \\ud800 half"', 1)
    bad = crafted(tmp_path, "surrogate.json", text)
    open_with_keys(window, answers, bad)
    # Refused when read, by its place: the window keeps the document it had, which saves.
    assert answers.errors() and "name" in answers.errors()[-1] and "surrogate" in answers.errors()[-1]
    assert window.path == SPIRAL
    window.editor.add_block("ReLU", (0, 400))
    assert window.autosaver.save_now()
    assert not [p for p in window.autosaver.slot.iterdir() if p.name.endswith(".tmp")]


def test_a_built_in_set_asked_to_be_huge_loads_while_the_window_answers(window, answers, tmp_path, qtbot):
    import time

    doc = json.loads(SPIRAL.read_text())
    doc["training"]["dataset"] = {"name": "blobs", "points": 30000, "features": 500}
    path = crafted(tmp_path, "big_blobs.json", json.dumps(doc))
    start = time.perf_counter()
    open_with_keys(window, answers, path)
    opened_in = time.perf_counter() - start
    chooser = window.training_panel.chooser
    assert window.path == path and chooser.loading and chooser.busy.isVisible()
    qtbot.waitUntil(lambda: not chooser.loading, timeout=60_000)
    loaded_in = time.perf_counter() - start
    assert opened_in < loaded_in / 2, (opened_in, loaded_in)


def test_a_network_past_two_billion_parameters_is_counted_whole(window, answers, tmp_path, qtbot):
    doc = {"format": "studio-graph", "version": 1, "name": "wide",
           "nodes": [{"id": "x", "block": "Input", "position": [0, 0], "params": {"shape": [50000]}},
                     {"id": "fc", "block": "Linear", "position": [240, 0], "params": {"out_features": 50000}}],
           "edges": [{"from": "x.out", "to": "fc.in"}], "training": {}}
    path = crafted(tmp_path, "wide.json", json.dumps(doc))
    open_with_keys(window, answers, path)
    assert window.path == path
    # 50,000 x 50,000 weights + 50,000 biases: past 2^31, counted on the meta device, never allocated
    from PySide6.QtWidgets import QLabel

    def shown() -> str:
        return " ".join(label.text() for label in window.statusBar().findChildren(QLabel))

    qtbot.waitUntil(lambda: "2,500,050,000 params" in shown(), timeout=10_000)
