"""Starting the app: the window paints before torch is imported, torch then loads on a thread
of its own, and Train pressed right after start trains."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Runs ``studio`` (the real entry point, no file) offscreen; right after its first paint, once the
# loader is under way, opens the XOR example from the window, presses Train with the mouse, lets
# two epochs train, presses Stop.
DRIVER = r"""
import faulthandler, json, os, sys, threading
faulthandler.dump_traceback_later(100, exit=True)  # a hang says where it hangs
from importlib.abc import MetaPathFinder

importer = {}

class WhoImportsTorch(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "torch" and "thread" not in importer:
            importer["thread"] = threading.current_thread().name
        return None

sys.meta_path.insert(0, WhoImportsTorch())
from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

app = QApplication(sys.argv[:1])
out = {}

def finish(**more):
    out.update(more, importer=importer.get("thread"))
    print("RESULT " + json.dumps(out), flush=True)
    os._exit(0)

def window():
    return next(w for w in app.topLevelWidgets() if type(w).__name__ == "MainWindow")

def after_paint():
    from studio.ui import torch_loader

    out["torch_when_dock_made"] = out.get("torch_when_dock_made", "torch" in sys.modules)
    out["loader_started"] = torch_loader._thread is not None
    # A person's first click comes once the loader is under way (the example's file names a place
    # that imports torch to resolve: that waits for the loader then).
    def when_loading():
        if "torch" not in sys.modules:
            QTimer.singleShot(5, when_loading)
        else:
            open_and_train()
    when_loading()

def open_and_train():
    from studio.lessons.catalog import EXAMPLES_DIR
    from studio.ui import torch_loader

    w = window()
    w.open_example(EXAMPLES_DIR / "xor_mlp.json")
    panel = w.training_panel
    out["torch_when_panel_built"] = torch_loader.loaded()
    out["device_before"] = panel.controls.device_label.text()
    panel.runFinished.connect(lambda status: finish(status=status, epochs=panel.progress.epochs_done,
                                                    device_after=panel.controls.device_label.text()))
    QTest.mouseClick(panel.controls.train_button, Qt.MouseButton.LeftButton)

    def stop_after_two_epochs():
        if panel.progress is not None and panel.progress.epochs_done >= 2:
            QTest.mouseClick(panel.controls.stop_button, Qt.MouseButton.LeftButton)
        else:
            QTimer.singleShot(20, stop_after_two_epochs)

    stop_after_two_epochs()

class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and "torch_at_first_paint" not in out:
            out["torch_at_first_paint"] = "torch" in sys.modules
            QTimer.singleShot(0, lambda: QTimer.singleShot(0, after_paint))  # after the window's own
        return False

from studio.ui.main_window import MainWindow
made = MainWindow._install_training

def install_training(self):
    made(self)
    out.setdefault("torch_when_dock_made", "torch" in sys.modules)  # before the loader starts

MainWindow._install_training = install_training

first_paint = FirstPaint(app)
app.installEventFilter(first_paint)
from studio.launch import main
main([])
"""


def test_the_window_paints_before_torch_loads_and_train_right_after_start_trains(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "STUDIO_CONFIG_DIR": str(tmp_path / "config")}
    done = subprocess.run([sys.executable, "-c", DRIVER], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, done.stderr[-3000:]
    out = json.loads(lines[-1][len("RESULT "):])
    assert out["torch_at_first_paint"] is False and out["torch_when_dock_made"] is False
    assert out["loader_started"] is True
    assert out["importer"] == "torch loader"  # not the window's thread
    assert out["status"] in ("stopped", "finished") and out["epochs"] >= 2, out  # XOR may end before the Stop
    assert out["device_after"] == "device: CPU"
    if not out["torch_when_panel_built"]:  # the usual case: the dock is up before torch is
        assert out["device_before"] == "device: …"


# Runs ``studio FILE`` with torch kept out of reach (its data set then cannot load, which the
# window says): reports whether torch was imported at the first paint, and the parameter total
# the status bar reads, which must come without torch.
WITH_FILE = r"""
import faulthandler, json, os, sys
faulthandler.dump_traceback_later(60, exit=True)
from importlib.abc import MetaPathFinder

class NoTorch(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("torch kept out of reach")
        return None

sys.meta_path.insert(0, NoTorch())
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication

app = QApplication(sys.argv[:1])
out = {}

def window():
    return next(w for w in app.topLevelWidgets() if type(w).__name__ == "MainWindow")

def counted():
    total, status = window().counter.total, window().status_label.text()
    if total and f"{total:,} params" in status:
        out.update(total=total, status=status)
        print("RESULT " + json.dumps(out), flush=True)
        os._exit(0)
    QTimer.singleShot(1, counted)

class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and "torch_at_first_paint" not in out:
            out["torch_at_first_paint"] = "torch" in sys.modules
            QTimer.singleShot(0, counted)
        return False

first_paint = FirstPaint(app)
app.installEventFilter(first_paint)
from studio.launch import main
main([sys.argv[1]])
"""


def test_a_file_opened_at_start_paints_and_counts_its_parameters_without_torch(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "STUDIO_CONFIG_DIR": str(tmp_path / "config")}
    done = subprocess.run([sys.executable, "-c", WITH_FILE, str(ROOT / "examples" / "lenet5_digits.json")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, done.stderr[-3000:]
    out = json.loads(lines[-1][len("RESULT "):])
    assert out["torch_at_first_paint"] is False
    assert out["total"] == 31_294, out  # 6 + 16 filters of 5x5, then 120, 84, 10 units (8x8 digits)
    assert "31,294 params" in out["status"], out


# Runs ``studio`` (no file) offscreen with a question at start (the recovery offer after a crash):
# open_at_start runs a modal loop in which the window paints before the question is answered.
# Reports whether the torch loader started once the window is up.
QUESTION_AT_START = r"""
import faulthandler, json, os, sys
faulthandler.dump_traceback_later(60, exit=True)
from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

app = QApplication(sys.argv[:1])
from studio.ui import torch_loader
from studio.ui.main_window import MainWindow

def open_at_start(self, path):
    loop = QEventLoop()  # as QMessageBox.exec does
    def answered():
        if self._painted and self._training_panel is not None:
            loop.quit()
        else:
            QTimer.singleShot(5, answered)
    answered()
    loop.exec()
    QTimer.singleShot(500, report)

def report():
    print("RESULT " + json.dumps({"loader_started": torch_loader._thread is not None}), flush=True)
    os._exit(0)

MainWindow.open_at_start = open_at_start
from studio.launch import main
main([])
"""


def test_torch_loads_when_the_window_paints_while_a_question_at_start_waits(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "STUDIO_CONFIG_DIR": str(tmp_path / "config")}
    done = subprocess.run([sys.executable, "-c", QUESTION_AT_START], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, done.stderr[-3000:]
    assert json.loads(lines[-1][len("RESULT "):]) == {"loader_started": True}
