"""Files as a person meets them: save, close, open; unsaved marks and the
question on close; a broken file leaves the document alone; recent files,
examples, settings and crash recovery."""

from __future__ import annotations

import json
import os
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from studio import files
from studio.ui import recovery
from studio.ui.main_window import EXAMPLES_DIR

from .conftest import scene_agrees


def build(window):
    ed = window.editor
    ed.add_block("Input", (0, 0), {"shape": [2]})
    ed.add_block("Linear", (240, 0), {"out_features": 5})
    ed.connect("input1", "out", "linear1", "in")
    ed.set_label("linear1", "head")


def test_save_close_open_gives_back_the_same_graph(make_window, answers, tmp_path):
    window = make_window()
    build(window)
    assert window.windowTitle() == "Untitled[*] — Studio" and window.isWindowModified()
    path = tmp_path / "net.json"
    answers.save_name = str(path)
    QTest.keyClick(window.view, Qt.Key_S, Qt.ControlModifier)
    assert answers.errors() == []
    assert path.exists()
    assert window.windowTitle() == "net.json[*] — Studio" and not window.isWindowModified()
    snapshot = window.editor.graph.snapshot()
    assert window.close()
    assert answers.asked == []  # nothing unsaved: no question

    again = make_window()
    assert again.settings.recent_files() == [str(path.resolve())]
    answers.open_name = str(path)
    QTest.keyClick(again.view, Qt.Key_O, Qt.ControlModifier)
    assert again.editor.graph.snapshot() == snapshot
    assert not again.isWindowModified()
    scene_agrees(again)
    # Editing marks it, undoing back to the saved state clears the mark.
    again.editor.add_block("ReLU", (500, 0))
    assert again.isWindowModified()
    again.act_undo.trigger()
    assert not again.isWindowModified()


def test_closing_with_unsaved_changes_asks(window, answers, tmp_path):
    build(window)
    answers.save_changes = "cancel"
    assert not window.close()
    assert answers.asked == [("save_changes", "Untitled")]
    assert window.isVisible()
    answers.save_changes = "save"
    answers.save_name = str(tmp_path / "kept.json")
    assert window.close()
    assert files.load(tmp_path / "kept.json").snapshot()["nodes"] == window.editor.graph.snapshot()["nodes"]


def test_a_file_that_fails_to_load_shows_the_message_and_keeps_the_document(window, answers, tmp_path):
    build(window)
    before = window.editor.graph.snapshot()
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "studio-graph", "version": 1, "name": "", "description": "",
                               "nodes": [{"id": "a", "block": "Nope", "position": [0, 0], "params": {}}],
                               "edges": []}))
    answers.save_changes = "discard"
    assert not window.open_path(bad)
    [message] = answers.errors()
    assert message.endswith("bad.json: nodes[0].block: unknown block 'Nope'")
    assert window.editor.graph.snapshot() == before
    assert window.editor.undo_stack.count() == 4  # history kept too
    assert window.open_path(tmp_path / "missing.json") is False
    assert "missing.json" in answers.errors()[1]


def test_new_clears_the_document_after_asking(window, answers):
    build(window)
    answers.save_changes = "discard"
    QTest.keyClick(window.view, Qt.Key_N, Qt.ControlModifier)
    assert len(window.editor.graph) == 0 and window.editor.undo_stack.count() == 0
    assert len(window.scene.nodes) == 0


def test_examples_menu_opens_untitled_copies(window):
    actions = {Path(a.data()).stem: a for a in window.examples_menu.actions()}
    assert {"lenet5", "resnet18"} <= set(actions)
    assert actions["lenet5"].text() == "LeNet-5"
    actions["lenet5"].trigger()
    assert window.editor.graph.name == "LeNet-5"
    assert window.path is None
    assert len(window.scene.nodes) == len(files.load(EXAMPLES_DIR / "lenet5.json"))


def test_recent_files_menu(window, tmp_path):
    build(window)
    for name in ("a.json", "b.json"):
        window.save_to(tmp_path / name)
    texts = [a.text() for a in window.recent_menu.actions()]
    assert texts == ["b.json", "a.json"]
    window.editor.add_block("ReLU", (0, 300))
    window.save_to(tmp_path / "b.json")
    window.recent_menu.actions()[1].trigger()  # a.json, without the ReLU
    assert "relu1" not in window.editor.graph
    assert window.path == tmp_path / "a.json"


def test_layout_theme_and_snap_persist(only_live_widgets, make_window, config_dir):
    window = make_window()
    window.theme_actions["light"].trigger()
    window.act_snap.trigger()
    window.inspector_dock.hide()
    window.resize(1111, 777)
    window.close()
    again = make_window()
    assert again.settings.theme == "light" and again.theme_actions["light"].isChecked()
    assert not again.scene.snapping
    assert again.inspector_dock.isHidden()
    assert (config_dir / "studio.ini").exists()


def crash(window):
    """What a crash leaves: the window's recovery files, and nobody holding its lock."""
    window.autosaver.timer.stop()
    window.autosaver.lock.unlock()
    window.closeEvent = lambda event: event.accept()


def test_autosave_and_recovery_after_a_crash(make_window, answers, config_dir, qtbot):
    window = make_window(autosave_ms=50)
    build(window)
    qtbot.waitUntil(lambda: (window.autosaver.slot / recovery.GRAPH_FILE).exists(), timeout=3000)
    snapshot = window.editor.graph.snapshot()
    crash(window)

    answers.recover = True
    again = make_window()
    assert again.offer_recovery()
    assert answers.asked[-1][0] == "recover" and "2 nodes" in answers.asked[-1][1]
    assert again.editor.graph.snapshot() == snapshot
    assert again.isWindowModified()  # recovered work is not saved work
    assert not window.autosaver.slot.exists()  # moved into the window that took it
    answers.save_changes = "discard"
    again.close()
    assert recovery.pending(config_dir / "recovery") == []


def test_a_crash_s_work_is_offered_before_the_file_asked_for(make_window, answers, config_dir, tmp_path):
    on_disk = tmp_path / "mine.json"
    window = make_window()
    build(window)
    window.save_to(on_disk)
    window.editor.add_block("ReLU", (600, 0))  # unsaved when the crash comes
    assert window.autosaver.save_now()
    unsaved = window.editor.graph.snapshot()
    crash(window)

    # Started again on the same file: the recovered version wins, marked unsaved.
    answers.recover = True
    again = make_window()
    again.open_at_start(str(on_disk))
    assert again.editor.graph.snapshot() == unsaved and again.isWindowModified()
    assert again.path == on_disk
    assert (again.autosaver.slot / recovery.GRAPH_FILE).exists()  # kept until the work is saved

    # That window crashes too; the next start on another file takes the work, the other file waits.
    crash(again)
    other_file = tmp_path / "other.json"
    other_file.write_bytes(on_disk.read_bytes())
    third = make_window()
    third.open_at_start(str(other_file))
    assert third.editor.graph.snapshot() == unsaved and third.path == on_disk
    assert "other.json is not opened yet" in third.statusBar().currentMessage()

    # A living window's work is not offered to another; declined, the file asked for opens as it is.
    answers.recover = False
    asked = len(answers.asked)
    fourth = make_window()
    fourth.open_at_start(str(other_file))
    assert len(answers.asked) == asked
    assert fourth.path == other_file and not fourth.isWindowModified()
    assert len(fourth.editor.graph) == 2
    answers.save_changes = "discard"
    third.close()


def test_recovery_declined_removes_the_file(make_window, answers, config_dir):
    window = make_window()
    build(window)
    assert window.autosaver.save_now()
    crash(window)
    answers.recover = False
    other = make_window()
    assert not other.offer_recovery()
    assert recovery.pending(config_dir / "recovery") == []
    assert len(other.editor.graph) == 0


def test_each_window_has_its_own_recovery_file(make_window, answers, config_dir):
    first, second = make_window(), make_window()
    build(first)
    second.editor.add_block("ReLU", (0, 0))
    assert first.autosaver.save_now() and second.autosaver.save_now()
    assert first.autosaver.slot != second.autosaver.slot
    # The second closes cleanly: the first one's autosave stays.
    answers.save_changes = "discard"
    second.close()
    assert (first.autosaver.slot / recovery.GRAPH_FILE).exists()
    # And while the first lives, no other window is offered its work.
    answers.recover = True
    third = make_window()
    assert not third.offer_recovery()
    # Then the first crashes: its work is there for the next window.
    snapshot = first.editor.graph.snapshot()
    crash(first)
    fourth = make_window()
    assert fourth.offer_recovery() and fourth.editor.graph.snapshot() == snapshot


def test_a_killed_process_s_work_is_recovered(make_window, answers, config_dir):
    """A real crash: another process autosaves and is killed; its lock dies with it."""
    import subprocess
    import sys

    script = f"""
import os, sys
sys.path[:0] = [{str(Path.cwd())!r}, {str(Path.cwd() / "tests")!r}]
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtWidgets import QApplication
app = QApplication([])
from studio.ui.main_window import MainWindow
from studio.ui.settings import AppSettings
window = MainWindow(AppSettings({str(config_dir)!r}))
window.editor.add_block("Input", (0, 0))
window.editor.add_block("ReLU", (0, 100))
assert window.autosaver.save_now()
os.kill(os.getpid(), 9)
"""
    done = subprocess.run([sys.executable, "-c", script], env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == -9, done.stderr
    answers.recover = True
    window = make_window()
    assert window.offer_recovery()
    assert sorted(window.editor.graph.nodes) == ["input1", "relu1"]


def test_an_autosave_that_fails_says_so_once(make_window, config_dir, monkeypatch):
    window = make_window()
    build(window)

    def refuse(graph, path):
        raise files.GraphFileError(str(path), None, "cannot write: No space left on device")

    monkeypatch.setattr(recovery.files, "save", refuse)
    messages = []
    window.autosaver.failed.connect(messages.append)
    assert not window.autosaver.save_now() and not window.autosaver.save_now()
    assert len(messages) == 1 and "No space left" in window.statusBar().currentMessage()


def test_training_dock_takes_a_panel(window):
    from PySide6.QtWidgets import QLabel

    assert window.training_dock.objectName() == "Training"
    panel = QLabel("live")
    window.set_training_panel(panel)
    assert window.training_dock.widget() is panel
