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


def test_a_name_that_cannot_be_saved_never_reaches_the_window(window, answers, tmp_path):
    doc = json.loads(SPIRAL.read_text())
    text = json.dumps(doc).replace('"name": "' + doc["name"] + '"', '"name": "lone \\ud800 half"', 1)
    bad = crafted(tmp_path, "surrogate.json", text)
    open_with_keys(window, answers, bad)
    if window.path == bad:  # opened: then it must save, with Ctrl+S, and leave no temp file behind
        QTest.keyClick(window, Qt.Key_S, Qt.ControlModifier)
        assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
        assert window.autosaver.save_now() or answers.errors()
    else:
        assert answers.errors() and "name" in answers.errors()[-1]
    assert not [p for p in window.autosaver.slot.glob("*.tmp")]
