"""Data set and training settings: edits of the document, undoable, saved in the file."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QComboBox, QFormLayout

from studio.files import dumps, loads
from studio.training.config import TrainingConfig, limits
from studio.training.settings_fields import find
from studio.ui.training.config_form import FIELDS, SHOWN_WHEN, TrainingConfigForm
from studio.ui.training.dataset_chooser import DatasetChooser


def type_into(qtbot, line_edit, text: str) -> None:
    line_edit.selectAll()
    qtbot.keyClicks(line_edit, text)
    qtbot.keyClick(line_edit, Qt.Key.Key_Return)


def test_settings_are_undoable_edits_saved_in_the_file(qtbot, spiral):
    graph = spiral(epochs=6)
    stack = QUndoStack()
    form = TrainingConfigForm(graph, stack)
    qtbot.addWidget(form)
    form.show()
    lr = form.widgets[("optimizer", "lr")]
    type_into(qtbot, lr, "0.05")
    assert graph.training["optimizer"]["lr"] == 0.05
    assert stack.count() == 1 and stack.undoText() == "Set training optimizer.lr"
    assert loads(dumps(graph)).training["optimizer"]["lr"] == 0.05  # saved in the graph file

    # The schedule plot follows: cosine falls from the lr to the lowest lr over the run.
    assert not form.widgets[("schedule", "min_lr")].isVisible()
    form.widgets[("schedule", "name")].setCurrentText("cosine")
    assert graph.training["schedule"] == {"name": "cosine"}
    assert form.widgets[("schedule", "min_lr")].isVisible()
    x, y = form.schedule_plot.curve.getData()
    assert y[0] == 0.05 and y[-1] < 0.001 and x[-1] == 6

    stack.undo()
    assert "schedule" not in graph.training and form.widgets[("schedule", "name")].currentText() == "constant"
    stack.undo()
    assert graph.training["optimizer"]["lr"] == 0.01 and lr.text() == "0.01"

    # A bad value is refused at its field, the typed text kept, and the document is untouched.
    type_into(qtbot, lr, "-3")
    assert graph.training["optimizer"]["lr"] == 0.01 and lr.text() == "-3"
    assert "training.optimizer.lr: must be > 0, got -3" in form.error_label.text()
    assert form.field_errors[("optimizer", "lr")].text() == "must be > 0, got -3"
    type_into(qtbot, lr, "fast")
    assert "'fast' is not a number" in form.field_errors[("optimizer", "lr")].text()
    type_into(qtbot, lr, "0.02")
    assert graph.training["optimizer"]["lr"] == 0.02 and not form.field_errors[("optimizer", "lr")].isVisible()

    # A held-down spin box is one undo step.
    epochs = form.widgets[("epochs",)]
    done = stack.index()
    for _ in range(3):
        qtbot.keyClick(epochs, Qt.Key.Key_Up)
    assert graph.training["epochs"] == 9 and stack.index() == done + 1
    stack.undo()
    assert graph.training["epochs"] == 6
    assert "CPU" in form.device_label.text()


def test_dataset_chooser_previews_and_undoes(qtbot, spiral, tmp_path):
    graph = spiral()
    stack = QUndoStack()
    chooser = DatasetChooser(graph, stack)
    qtbot.addWidget(chooser)
    chooser.show()

    def loaded():  # a load that takes longer than a blink goes on off the window's thread
        qtbot.waitUntil(lambda: not chooser.loading, timeout=10_000)
        return chooser.dataset

    assert loaded().name == "spiral" and chooser.preview.kind == "scatter"
    assert "3 classes" in chooser.describe_label.text()

    chooser.name_box.setCurrentIndex(chooser.name_box.findData("moons"))
    assert graph.training["dataset"] == {"name": "moons"}
    assert loaded().name == "moons" and chooser.preview.kind == "scatter"
    points = chooser.option_widgets["points"]
    points.setValue(120)
    assert graph.training["dataset"]["points"] == 120 and len(loaded().train) == 96
    stack.undo()
    stack.undo()
    assert loaded().name == "spiral" and chooser.name_box.currentData() == "spiral"

    # The person's own CSV file: a table preview.
    csv = tmp_path / "flowers.csv"
    csv.write_text("length,width,depth,kind\n1.0,0.5,2,a\n1.2,0.4,2,a\n3.1,1.9,5,b\n3.3,2.0,6,b\n2.9,1.7,5,b\n"
                   "1.1,0.6,1,a\n")
    chooser.set_base_dir(tmp_path)
    chooser.name_box.setCurrentIndex(chooser.name_box.findData("csv"))
    type_into(qtbot, chooser.option_widgets["path"].line, "flowers.csv")
    assert graph.training["dataset"]["path"] == "flowers.csv"
    qtbot.waitUntil(lambda: not chooser.loading)  # a person's file is read off the window's thread
    assert chooser.error is None, chooser.error
    assert chooser.preview.kind == "table"
    table = chooser.preview.table
    headers = [table.horizontalHeaderItem(i).text() for i in range(table.columnCount())]
    assert "length" in headers and table.rowCount() >= 4

    # A broken file names the file and line.
    csv.write_text("length,width,depth,kind\n1.0,0.5,2,a\n1.2,oops\n")
    chooser.set_base_dir(tmp_path)
    qtbot.waitUntil(lambda: not chooser.loading)
    assert chooser.dataset is None
    assert "flowers.csv" in chooser.error_label.text() and "3" in chooser.error_label.text()


def test_a_constant_schedule_plots_from_zero_to_just_above_its_lr(qtbot, spiral):
    graph = spiral(epochs=6)
    form = TrainingConfigForm(graph, QUndoStack())
    qtbot.addWidget(form)
    form.show()
    qtbot.wait(50)
    (x0, x1), (y0, y1) = form.schedule_plot.getPlotItem().viewRange()
    lr = graph.training["optimizer"]["lr"]
    assert y0 == 0.0 and lr < y1 <= lr * 1.2
    assert x0 <= 0.0 and 6 <= x1 <= 6.5


def test_the_form_says_what_the_declarations_say(qtbot, spiral):
    form = TrainingConfigForm(spiral(), QUndoStack())
    qtbot.addWidget(form)
    layout = form.findChild(QFormLayout)
    for f in FIELDS:
        spec = find(TrainingConfig, ".".join(f.path))
        widget = form.widgets[f.path]
        label = layout.labelForField(form._cells[f.path])
        assert label.text() == spec.setting.label and label.buddy() is widget
        assert widget.toolTip().startswith(spec.setting.help)
        if isinstance(widget, QComboBox):
            assert [widget.itemText(i) for i in range(widget.count())] == list(spec.setting.choices)
    epochs, seed = form.widgets[("epochs",)], form.widgets[("seed",)]
    assert (epochs.minimum(), epochs.maximum()) == (1, 1_000_000)
    assert (seed.minimum(), seed.maximum()) == (0, limits()["seed"].high)
    assert form.widgets[("optimizer", "lr")].toolTip() == "Step size of each update, e.g. 0.01. Range: > 0 and <= 10."
    assert SHOWN_WHEN[("optimizer", "momentum")] == (("optimizer", "name"), ("sgd", "rmsprop"))
    assert SHOWN_WHEN[("checkpoint", "every")] == (("checkpoint", "enabled"), (True,))
