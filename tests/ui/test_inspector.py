"""The inspector edits the selected node with a widget per parameter kind and
refuses bad values with a message, leaving the document as it was."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit

from .conftest import node_point


def select(window, node_id):
    window.view.frame_all()
    QTest.mouseClick(window.view.viewport(), Qt.LeftButton, Qt.NoModifier, node_point(window, node_id))
    assert window.inspector.node_id == node_id


def type_into(editor, text):
    edit = editor.edit
    edit.setFocus()
    edit.selectAll()
    QTest.keyClick(edit, Qt.Key_Delete)
    QTest.keyClicks(edit, text)
    QTest.keyClick(edit, Qt.Key_Return)


def test_clicking_a_node_shows_a_widget_per_parameter(window):
    window.editor.add_block("Conv2d", (0, 0))
    select(window, "conv2d1")
    eds = window.inspector.editors
    assert isinstance(eds["out_channels"].edit, QLineEdit)
    assert isinstance(eds["bias"].box, QCheckBox)
    assert eds["kernel_size"].edit.text() == "3"
    assert "≥ 1" in eds["out_channels"].edit.placeholderText()
    window.editor.add_block("GELU", (0, 300))
    select(window, "gelu1")
    assert isinstance(window.inspector.editors["approximate"].combo, QComboBox)


def test_bad_values_are_refused_with_a_message(window):
    ed = window.editor
    ed.add_block("Input", (0, 0), {"shape": [3, 32, 32]})
    ed.add_block("Conv2d", (300, 0))
    ed.connect("input1", "out", "conv2d1", "in")
    select(window, "conv2d1")
    before = ed.graph.snapshot()
    steps = ed.undo_stack.count()
    insp = window.inspector
    cases = {
        "out_channels": ("0", "out_channels must be >= 1, got 0"),
        "kernel_size": ("3, 0", "kernel_size must be >= 1, got 0"),
        "stride": ("two", "stride must be a whole number, got 'two'"),
        "groups": ("1.5", "groups must be a whole number, got '1.5'"),
    }
    for name, (text, message) in cases.items():
        type_into(insp.editors[name], text)
        assert insp.errors[name].isVisible()
        assert insp.errors[name].text() == message
        assert insp.editors[name].edit.property("invalid") is True
        assert insp.editors[name].edit.text() == text  # what was typed stays to be fixed
    assert ed.graph.snapshot() == before
    assert ed.undo_stack.count() == steps
    # A good value clears the message and is one undo step.
    type_into(insp.editors["out_channels"], "8")
    assert not insp.errors["out_channels"].isVisible()
    assert ed.graph.node("conv2d1").params["out_channels"] == 8
    assert ed.graph.shapes.output("conv2d1") == (8, 30, 30)
    assert ed.undo_stack.count() == steps + 1
    type_into(insp.editors["kernel_size"], "5, 3")
    assert ed.graph.node("conv2d1").params["kernel_size"] == (5, 3)
    assert window.scene.nodes["conv2d1"]._keys.startswith("out 8  k 5×3")


def test_dropping_a_wired_port_is_refused(window):
    ed = window.editor
    ed.add_block("Input", (0, 0), {"shape": [4]})
    ed.add_block("Add", (300, 0), {"num_inputs": 3})
    ed.connect("input1", "out", "add1", "in3")
    select(window, "add1")
    type_into(window.inspector.editors["num_inputs"], "2")
    assert "add1.in3 is wired" in window.inspector.errors["num_inputs"].text()
    assert ed.graph.node("add1").params["num_inputs"] == 3
    assert list(window.scene.nodes["add1"].inputs) == ["in1", "in2", "in3"]


def test_bools_choices_and_labels_edit_through_undo(window):
    ed = window.editor
    ed.add_block("GELU", (0, 0))
    ed.add_block("Linear", (0, 300))
    select(window, "gelu1")
    combo = window.inspector.editors["approximate"].combo
    combo.setCurrentIndex(combo.findData("tanh"))
    combo.activated.emit(combo.currentIndex())
    assert ed.graph.node("gelu1").params["approximate"] == "tanh"
    select(window, "linear1")
    box = window.inspector.editors["bias"].box
    QTest.mouseClick(box, Qt.LeftButton, Qt.NoModifier, box.rect().center())
    assert ed.graph.node("linear1").params["bias"] is False
    label = window.inspector.label_edit
    label.setFocus()
    QTest.keyClicks(label, "classifier")
    QTest.keyClick(label, Qt.Key_Return)
    assert ed.graph.node("linear1").label == "classifier"
    assert window.scene.nodes["linear1"]._title == "classifier"
    window.act_undo.trigger()
    assert ed.graph.node("linear1").label == ""
    assert window.inspector.label_edit.text() == ""
    window.act_undo.trigger()
    assert window.inspector.editors["bias"].box.isChecked()  # the inspector follows undo
    assert ed.graph.node("linear1").params["bias"] is True


def test_optional_values_accept_empty_for_auto(window):
    ed = window.editor
    ed.add_block("MaxPool2d", (0, 0))
    select(window, "maxpool2d1")
    stride = window.inspector.editors["stride"]
    assert stride.edit.text() == ""
    type_into(stride, "2")
    assert ed.graph.node("maxpool2d1").params["stride"] == 2
    type_into(stride, "")
    assert ed.graph.node("maxpool2d1").params["stride"] is None
