"""The command line: ``studio --screenshot OUT.png FILE`` renders the window
and exits; undo commands work on their own, without a window."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtGui import QImage, QUndoStack

from studio.graph import Graph
from studio.ui.app import main
from studio.ui.document import AddNodeCommand, ConnectCommand, MacroCommand, RemoveNodeCommand
from studio.ui.main_window import EXAMPLES_DIR

ROOT = Path(__file__).resolve().parents[2]


def test_screenshot_renders_the_window_with_the_graph(tmp_path, qapp):
    out = tmp_path / "shot.png"
    assert main(["--screenshot", str(out), "--size", "1200x800", str(EXAMPLES_DIR / "lenet5.json")]) == 0
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1200, 800)
    # Not a blank picture: many distinct colours (nodes, wires, text).
    colours = {image.pixel(x, y) for x in range(0, 1200, 7) for y in range(0, 800, 7)}
    assert len(colours) > 50
    assert not (tmp_path / "config").exists()  # the user's settings are never touched


def test_screenshot_of_a_broken_file_fails_with_the_message(tmp_path, qapp, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{ not json")
    assert main(["--screenshot", str(tmp_path / "x.png"), str(bad)]) == 1
    assert "bad.json" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


def test_studio_command_runs_offscreen(tmp_path):
    out = tmp_path / "cli.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "STUDIO_CONFIG_DIR": str(tmp_path / "cfg")}
    result = subprocess.run(
        [sys.executable, "-m", "studio", "--screenshot", str(out), "--theme", "light", "--size", "800x600"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert QImage(str(out)).width() == 800


def test_remove_node_command_restores_wires_and_place():
    g = Graph()
    stack = QUndoStack()
    for cmd in (AddNodeCommand(g, "Input", {"shape": [3]}, (0, 0)), AddNodeCommand(g, "Linear", None, (200, 40)),
                AddNodeCommand(g, "ReLU", None, (400, 40))):
        stack.push(cmd)
    stack.push(ConnectCommand(g, "input1", "out", "linear1", "in"))
    stack.push(ConnectCommand(g, "linear1", "out", "relu1", "in"))
    before = g.snapshot()
    macro = MacroCommand("Delete")
    RemoveNodeCommand(g, "linear1", parent=macro)
    RemoveNodeCommand(g, "input1", parent=macro)
    stack.push(macro)
    assert list(g.nodes) == ["relu1"] and g.edges == []
    stack.undo()
    assert g.snapshot() == before
    assert g.shapes.output("relu1") == (10,)
    stack.redo()
    assert list(g.nodes) == ["relu1"]
