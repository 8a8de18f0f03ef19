"""Every training setting, edited by keyboard in the whole window: type, then Tab or
Enter; a refused value is explained at its field, in view, in the theme's error colour."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QCheckBox, QComboBox, QScrollArea

from person import choose, type_into
from studio.ui.training.config_form import FIELDS, SHOWN_WHEN, get_path

TYPED = {
    ("optimizer", "lr"): ["0.02", "0.03"],
    ("optimizer", "momentum"): ["0.5", "0.9"],
    ("schedule", "gamma"): ["0.5", "0.8"],
    ("schedule", "min_lr"): ["0.0001", "0.0002"],
    ("schedule", "warmup_epochs"): ["2", "3"],
    ("schedule", "max_lr"): ["0.1", "0.2"],
    ("weight_decay",): ["0.001", "0.002"],
    ("l1",): ["0.0001", "0.0002"],
    ("grad_clip",): ["1", "2"],
}
# What a field needs shown first: (field it depends on, value to give it).
NEEDS = {path: (dep, shown[0]) for path, (dep, shown) in SHOWN_WHEN.items()}


def document_value(window, path):
    from studio.training.config import TrainingConfig

    return get_path(TrainingConfig.from_dict(window.editor.graph.training).to_dict(), path)


def set_by_keyboard(form, path, value, then: str) -> None:
    widget = form.widgets[path]
    if isinstance(widget, QComboBox):
        choose(widget, str(value), must_take=False)
    elif isinstance(widget, QCheckBox):
        if widget.isChecked() != value:
            widget.setFocus(Qt.TabFocusReason)
            QTest.keyClick(widget, Qt.Key_Space)
    else:
        type_into(widget, str(value), then=then)
    QApplication.processEvents()


@pytest.mark.parametrize("then", ["tab", "enter"])
def test_every_setting_by_keyboard(window, qtbot, then):
    form = window.training_panel.config_form
    stack = window.editor.undo_stack
    refused = []
    for f in FIELDS:
        if f.path in NEEDS:
            dep, shown = NEEDS[f.path]
            set_by_keyboard(form, dep, shown, then)
        widget = form.widgets[f.path]
        assert widget.isVisible(), f"{f.path} should be shown"
        before = document_value(window, f.path)
        count = stack.count()
        if f.kind == "choice":
            value = next(c for c in f.choices if c != before)
            expect = value
        elif f.kind == "bool":
            value = expect = not before
        elif f.kind == "int":
            value = expect = int(before) + 1
        else:
            text = TYPED[f.path][0 if then == "tab" else 1]
            value, expect = text, float(text)
        set_by_keyboard(form, f.path, value, then)
        assert window.isVisible()
        error = form.field_errors[f.path]
        if document_value(window, f.path) == pytest.approx(expect):
            assert stack.count() == count + 1, f"{f.path}: one undoable edit"
            assert not error.isVisible()
        else:
            # Only a choice this machine cannot honour may be refused, and then it says so at the field.
            assert f.kind == "choice", f"{f.path}: {value!r} was not taken"
            assert error.isVisible() and error.text(), f"{f.path} refused without a word"
            assert document_value(window, f.path) == before
            refused.append(f.path)
    assert len(refused) <= 2, refused


def test_a_refused_learning_rate_is_explained_at_its_field(window, qtbot):
    panel = window.training_panel
    form = panel.config_form
    lr = form.widgets[("optimizer", "lr")]
    before = window.editor.graph.training.get("optimizer")
    type_into(lr, "-0.1", then="enter")
    QApplication.processEvents()
    assert window.editor.graph.training.get("optimizer") == before  # nothing changed in the document
    assert lr.text() == "-0.1"  # and nothing the person typed is lost
    error = form.field_errors[("optimizer", "lr")]
    assert error.isVisible() and error.text() == "must be > 0, got -0.1"
    # Right under the field, inside the visible part of the scrolled form.
    field_bottom = lr.mapTo(window, QPoint(0, lr.height())).y()
    error_top = error.mapTo(window, QPoint(0, 0)).y()
    assert 0 <= error_top - field_bottom <= 12
    scroll = next(p for p in _ancestors(error) if isinstance(p, QScrollArea))
    viewport = scroll.viewport()
    top_left = error.mapTo(viewport, QPoint(0, 0))
    assert 0 <= top_left.y() and top_left.y() + error.height() <= viewport.height()
    # In the theme's error colour, readable on the form's background.
    colour = error.palette().color(error.foregroundRole())
    background = error.palette().color(error.backgroundRole())
    assert colour.red() > 180 and abs(colour.lightness() - background.lightness()) > 60

    type_into(lr, "0.02", then="tab")
    assert window.editor.graph.training["optimizer"]["lr"] == 0.02
    assert not error.isVisible()


def test_the_checkpoint_setting_is_in_the_dock(window, qtbot):
    form = window.training_panel.config_form
    box = form.widgets[("checkpoint", "enabled")]
    assert not form.widgets[("checkpoint", "every")].isVisible()
    box.setFocus(Qt.TabFocusReason)
    QTest.keyClick(box, Qt.Key_Space)
    assert window.editor.graph.training["checkpoint"] == {"enabled": True}
    every = form.widgets[("checkpoint", "every")]
    assert every.isVisible()
    type_into(every, "5", then="enter")
    assert window.editor.graph.training["checkpoint"] == {"enabled": True, "every": 5}


def _ancestors(widget):
    parent = widget.parentWidget()
    while parent is not None:
        yield parent
        parent = parent.parentWidget()
