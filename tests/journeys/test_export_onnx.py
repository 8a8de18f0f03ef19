"""File > Export > ONNX, as a practitioner uses it: train the digits example, export it with its
int8 copy, and read the table of sizes, latency and accuracy while the window stays responsive;
a plain ONNX export; and a block the exporter cannot express, refused naming the node."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import onnx
import torch
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from person import choose_in_menu, type_into
from test_try_it import EXAMPLES, open_file, train


def choose_export(window, qtbot, text: str) -> None:
    """File > Export > ``text``, with the keyboard in the Export menu."""
    menu = window.export_menu
    menu.popup(window.mapToGlobal(QPoint(40, 40)))
    qtbot.waitUntil(menu.isVisible)
    choose_in_menu(menu, text)
    # the export writes on a thread of its own; the window goes on meanwhile
    qtbot.waitUntil(lambda: not window.exporting, timeout=120_000)


def digits_copy(tmp_path) -> Path:
    path = tmp_path / "digits.json"
    shutil.copy(EXAMPLES / "lenet5_digits.json", path)
    return path


def test_trained_digits_exported_with_int8_copy_show_the_table(only_live_widgets, window, answers, qtbot, tmp_path):
    from studio.compile import compile_networks
    from studio.export.int8_table import _size

    graph_path = digits_copy(tmp_path)
    open_file(window, answers, graph_path)
    panel = window.training_panel
    type_into(panel.config_form.widgets[("epochs",)], "3", then="enter")
    train(window, qtbot)
    weights = next(iter(panel.weights.values()))

    out = tmp_path / "out"
    out.mkdir()
    answers.export_name = str(out / "digits.onnx")
    ticks: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(20)
    choose_export(window, qtbot, "ONNX with int8 Copy…")
    assert answers.errors() == []
    assert sorted(p.name for p in out.iterdir()) == ["digits.int8.onnx", "digits.onnx"]
    dialog = window.export_report
    assert dialog.isVisible() and not dialog.isModal()
    assert dialog.measuring and dialog.status.text().startswith("Measuring")
    # the export and then the table are made off the window's thread
    qtbot.waitUntil(lambda: not dialog.measuring, timeout=120_000)
    timer.stop()
    # and the window's event loop kept turning meanwhile (earlier tests' garbage collected first: a full
    # collection of the windows they let go of stalled this one for a second in a whole-suite run)
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    assert ticks and max(gaps, default=0.0) < 1.0, gaps
    assert dialog.error is None
    (table,) = dialog.tables
    assert [dialog.cell(r, 0) for r in range(dialog.table.rowCount())] == [
        "file size", "CPU latency / sample", "accuracy, validation (359)"]
    assert dialog.cell(0, 1) == _size((out / "digits.onnx").stat().st_size)
    assert dialog.cell(0, 2) == _size((out / "digits.int8.onnx").stat().st_size)
    assert dialog.cell(1, 1).endswith(" ms") and dialog.cell(1, 2).endswith(" ms")
    assert dialog.status.text() == "Latency: onnxruntime on 1 thread, batch 1, median of 50 interleaved runs each."
    # the file carries the trained weights: it scores what the trained network scores
    model = onnx.load(str(out / "digits.onnx"))
    stored = {i.name: torch.from_numpy(onnx.numpy_helper.to_array(i).copy()) for i in model.graph.initializer}
    assert torch.equal(stored["fc1.weight"], weights["fc1.weight"])
    (net,) = compile_networks(window.editor.graph).values()
    net.load_state_dict(weights)
    val = panel.chooser.dataset.val
    with torch.no_grad():
        accuracy = float((net.eval()(val.inputs[0]).argmax(-1) == val.targets).float().mean())
    assert abs(table.fp32_score - accuracy) <= 1 / len(val)
    assert dialog.cell(2, 1) == f"{100 * table.fp32_score:.2f} %"
    assert table.fp32_score > 0.5
    QTest.mouseClick(dialog.close_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible())


def test_plain_onnx_export_and_closing_the_table_while_it_measures(window, answers, qtbot, tmp_path):
    open_file(window, answers, digits_copy(tmp_path))
    answers.export_name = str(tmp_path / "plain.onnx")
    choose_export(window, qtbot, "ONNX (.onnx)…")
    assert answers.errors() == []
    model = onnx.load(str(tmp_path / "plain.onnx"))
    assert [i.name for i in model.graph.input] == ["image"]
    assert not (tmp_path / "plain.int8.onnx").exists()
    assert "Exported" in window.statusBar().currentMessage()

    answers.export_name = str(tmp_path / "again.onnx")
    choose_export(window, qtbot, "ONNX with int8 Copy…")
    dialog = window.export_report
    assert dialog.measuring
    QTest.mouseClick(dialog.close_button, Qt.LeftButton)  # closed at once: the measuring stops
    qtbot.waitUntil(lambda: not dialog.isVisible())
    QApplication.processEvents()
    assert answers.errors() == []


def test_a_network_the_check_cannot_run_is_refused_naming_the_node(window, answers, qtbot, tmp_path):
    from studio.files import save
    from studio.graph import Graph

    g = Graph("norm")  # a GroupNorm with one value per group: torch itself refuses a batch of 1
    g.add_node("Input", {"shape": [8]}, (0, 0), "x")
    g.add_node("Linear", {"out_features": 8}, (200, 0), "fc")
    g.add_node("GroupNorm", {"num_groups": 8}, (400, 0), "norm")
    g.connect("x", "out", "fc", "in")
    g.connect("fc", "out", "norm", "in")
    path = tmp_path / "norm.json"
    save(g, path)
    open_file(window, answers, path)
    out = tmp_path / "out"
    out.mkdir()
    answers.export_name = str(out / "norm.onnx")
    choose_export(window, qtbot, "ONNX with int8 Copy…")
    (message,) = answers.errors()
    assert message.startswith("Cannot export as ONNX: node norm (GroupNorm): the compiled network itself cannot "
                              "run a batch of 1"), message
    assert list(out.iterdir()) == []
    assert getattr(window, "export_report", None) is None
