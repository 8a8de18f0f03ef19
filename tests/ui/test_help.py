"""The Help windows' content: every block's reference page, the shortcut list
read from actions, and the export wrapper's messages."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow

import blocks
from studio.graph import Graph
from studio.ui.exporting import ExportFailed, export_graph
from studio.ui.help import action_title, block_html, shortcut_rows


@pytest.mark.parametrize("spec", blocks.all_blocks(), ids=lambda s: s.name)
def test_every_block_has_a_reference_page_with_its_params(spec):
    page = block_html(spec)
    assert spec.name in page
    for p in spec.params:
        assert p.name in page


def test_shortcut_rows_come_from_the_actions(qtbot):
    window = QMainWindow()
    qtbot.addWidget(window)
    menu = window.menuBar().addMenu("&Edit")
    a = QAction("Save &As…", window)
    a.setShortcuts([QKeySequence("Ctrl+Shift+S")])
    b = QAction("&Frame", window)
    b.setShortcuts([QKeySequence("F"), QKeySequence(QKeySequence.StandardKey.ZoomIn)])
    plain = QAction("No keys", window)
    menu.addActions([a, plain])
    window.addAction(b)
    rows = shortcut_rows(window)
    assert rows[0] == ("Save As…", "Ctrl+Shift+S")
    assert rows[1][0] == "Frame" and rows[1][1].startswith("F")
    assert len(rows) == 2
    assert action_title(QAction("Add &Block…  (Tab)")) == "Add Block…"


def test_export_of_an_unknown_input_names_the_node(tmp_path):
    graph = Graph()
    graph.add_node("Linear", {}, (0, 0), "fc")
    with pytest.raises(ExportFailed, match="fc"):
        export_graph(graph, "python", tmp_path / "x.py")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name, inputs, outputs", [
    ("Add", "in1 ... in&lt;num_inputs&gt;", "out"),
    ("Split", "in", "out1 ... out&lt;number of sizes&gt;"),
    ("Chunk", "in", "out1 ... out&lt;chunks&gt;"),
    ("MultiheadAttention", "in (and context with cross)", "out"),
    ("Linear", "in", "out"),
])
def test_a_reference_page_says_which_ports_follow_a_parameter(name, inputs, outputs):
    page = block_html(blocks.get(name))
    assert f"<b>Inputs:</b> {inputs}<br><b>Outputs:</b> {outputs}</p>" in page
