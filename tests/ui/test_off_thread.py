"""Work done off the window's thread (File > Export, Try it's big networks) and quitting: a person
who closes the window while an export is being written gets a process that ends cleanly once the
file is written whole, never an abort from a thread torn down inside torch."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent('''
    import sys, time
    from pathlib import Path
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    import torch
    import studio.export
    from studio.ui import dialogs
    from studio.ui.main_window import MainWindow
    from studio.ui.settings import AppSettings

    real = studio.export.export_onnx

    def slow_export(*args, **kwargs):
        # A large network: torch busy in C++ for a while before the file is written.
        a = torch.randn(400, 400)
        end = time.monotonic() + 2.0
        while time.monotonic() < end:
            a = torch.tanh(a @ a)
        return real(*args, **kwargs)

    studio.export.export_onnx = slow_export
    target = Path(sys.argv[2])
    dialogs.export_file_name = lambda parent, kind, suggested="": str(target)
    dialogs.ask_save_changes = lambda parent, name: "discard"
    window = MainWindow(AppSettings(Path(sys.argv[3])))
    window.show()
    while not hasattr(window, "training_panel"):  # the dock fills in on the loop's first turns
        app.processEvents()
    window.open_path(Path(sys.argv[1]), ask=False)
    window.act_export["onnx"].trigger()
    assert window.exporting
    # Ctrl+Q while the export runs: the window goes, the app's loop ends.
    def quit_with_the_keyboard():
        window.activateWindow()
        window.view.setFocus()
        QTest.keyClick(window.view, Qt.Key_Q, Qt.ControlModifier)

    QTimer.singleShot(300, quit_with_the_keyboard)
    app.exec()
    assert not window.isVisible()
    print("loop ended", flush=True)
''')


def test_quitting_while_an_export_is_written_ends_cleanly_with_the_file_whole(tmp_path):
    target = tmp_path / "xor net.onnx"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", STUDIO_CONFIG_DIR=str(tmp_path / "config"))
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(ROOT / "examples" / "xor_mlp.json"), str(target),
                           str(tmp_path / "config")], env=env, capture_output=True, text=True, timeout=120)
    assert "loop ended" in done.stdout, done.stderr[-2000:]
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    assert "terminate called" not in done.stderr
    assert "studio: finishing the export of" in done.stderr and "xor net.onnx before quitting" in done.stderr
    # The export finished before the process ended: the file is there, whole, and no temporary file.
    import onnx

    onnx.checker.check_model(onnx.load(str(target)))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config", "xor net.onnx"]


MEASURING = textwrap.dedent('''
    import sys, time
    from pathlib import Path
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    import torch
    import studio.export.int8_table as table
    from studio.ui import dialogs
    from studio.ui.main_window import MainWindow
    from studio.ui.settings import AppSettings

    real = table.session

    class Slow:
        """A session of a large network: each run busy in C++ for a while."""
        def __init__(self, inner):
            self.inner = inner
        def __getattr__(self, name):
            return getattr(self.inner, name)
        def run(self, *args, **kwargs):
            a = torch.randn(300, 300)
            end = time.monotonic() + 0.2
            while time.monotonic() < end:
                a = torch.tanh(a @ a)
            return self.inner.run(*args, **kwargs)

    table.session = lambda *a, **k: Slow(real(*a, **k))
    target = Path(sys.argv[2])
    dialogs.export_file_name = lambda parent, kind, suggested="": str(target)
    dialogs.ask_save_changes = lambda parent, name: "discard"
    window = MainWindow(AppSettings(Path(sys.argv[3])))
    window.show()
    while not hasattr(window, "training_panel"):
        app.processEvents()
    window.open_path(Path(sys.argv[1]), ask=False)
    window.act_export["onnx-int8"].trigger()

    def quit_while_measuring():
        report = getattr(window, "export_report", None)
        if report is None or not report.measuring:
            QTimer.singleShot(50, quit_while_measuring)
            return
        time.sleep(0.5)
        window.close()  # the main window's close button, the table still open beside it
        global quit_at
        quit_at = time.monotonic()

    QTimer.singleShot(0, quit_while_measuring)
    app.exec()
    print("loop ended", flush=True)
    import atexit
    atexit.register(lambda: print(f"ended {time.monotonic() - quit_at:.2f} s after Ctrl+Q", flush=True))
''')


def test_quitting_while_the_int8_table_measures_stops_it_and_ends_cleanly(tmp_path):
    target = tmp_path / "xor.onnx"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", STUDIO_CONFIG_DIR=str(tmp_path / "config"))
    done = subprocess.run([sys.executable, "-c", MEASURING, str(ROOT / "examples" / "xor_mlp.json"), str(target),
                           str(tmp_path / "config")], env=env, capture_output=True, text=True, timeout=120)
    assert "loop ended" in done.stdout, done.stderr[-2000:]
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    assert "terminate called" not in done.stderr
    # Stopped at its next run (50 runs of each model would take 20 s here).
    seconds = float(done.stdout.split("ended ")[1].split(" s")[0])
    assert seconds < 3, done.stdout


def test_no_thread_collects_garbage_while_a_job_runs(qtbot):
    """CPython 3.11 can crash collecting while another thread runs a generator, and torch.export
    runs thousands: a collection on the window's thread during an ONNX export segfaulted. So from a
    job's start to its end nothing collects, and afterwards collection is as it was."""
    import gc
    import threading

    from studio.ui.collector import install
    from studio.ui.off_thread import OneAtATime

    collector = install()
    was_enabled = gc.isenabled()
    worker = OneAtATime(None, "studio-test")
    started, release = threading.Event(), threading.Event()
    seen = {}

    def job():
        started.set()
        seen["during"] = gc.isenabled()
        release.wait(10)
        return 1

    collected = []
    gc.callbacks.append(lambda phase, info: collected.append(phase) if phase == "start" else None)
    try:
        worker.submit(job, lambda result, error, seconds: seen.setdefault("shown", result))
        assert started.wait(10)
        for _ in range(gc.get_threshold()[0] * 3):
            [[]]  # young garbage past the threshold: the collector's timer would collect it
        collected.clear()
        collector.check()
        qtbot.wait(600)  # past the collector's interval
        assert collected == [] and not gc.isenabled() and seen["during"] is False
        release.set()
        qtbot.waitUntil(lambda: "shown" in seen)
    finally:
        release.set()
        gc.callbacks.pop()
    assert gc.isenabled() == was_enabled
    assert collector.paused == 0


def test_a_job_whose_window_went_still_ends_the_pause(qtbot):
    """The window (and the worker object with it) deleted while a job runs: nothing is shown, and
    garbage is collected again afterwards (the pause used to last for the rest of the app's life)."""
    import threading

    from shiboken6 import delete

    from studio.ui.collector import install
    from studio.ui.off_thread import OneAtATime

    collector = install()
    worker = OneAtATime(None, "studio-test")
    release = threading.Event()
    worker.submit(lambda: release.wait(10), lambda *_: None)
    assert collector.paused == 1
    delete(worker)
    release.set()
    qtbot.waitUntil(lambda: collector.paused == 0, timeout=5000)
