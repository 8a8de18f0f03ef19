"""Screenshots of the real window during a run, as a person sees it on a desktop.

Run on an X server with a window manager (``tools/with-window``):

    tools/with-window .venv/bin/python tools/window_shots.py docs/images

Opens the spiral example at the window's first size (1400x860) and maximised
(1920x1080 screen), presses Train with a real click, and while the run trains
captures the window as the X server shows it (``import``, ImageMagick) on the
Loss and Decision boundary tabs: ``window-<size>-<tab>.png``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def pump(app, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def capture(window, path: Path) -> None:
    subprocess.run(["import", "-window", hex(int(window.winId())), "-frame", str(path)], check=True)
    print(path)


def main(out: Path) -> int:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv[:1])
    from studio.ui.main_window import MainWindow
    from studio.ui.settings import AppSettings

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as config:
        for size, maximised in (("1400x860", False), ("1920x1080", True)):
            window = MainWindow(AppSettings(Path(config) / size))
            window.set_theme("dark")
            window.showMaximized() if maximised else window.show()
            pump(app, 1.5)
            window.open_path(ROOT / "examples" / "spiral_mlp.json", ask=False)
            pump(app, 1.0)
            panel = window.training_panel
            training = dict(window.editor.graph.training, epochs=400)  # long enough to catch it mid-run
            window.editor.graph.set_training(training)
            pump(app, 0.3)
            QTest.mouseClick(panel.controls.train_button, Qt.LeftButton)
            pump(app, 3.0)
            capture(window, out / f"window-{size}-loss.png")
            bar = panel.views.tabBar()
            QTest.mouseClick(bar, Qt.LeftButton, pos=bar.tabRect(panel.views.indexOf(panel.boundary_view)).center())
            pump(app, 2.5)
            capture(window, out / f"window-{size}-boundary.png")
            panel.stop()
            pump(app, 1.0)
            window.editor.undo_stack.setClean()
            window.close()
            pump(app, 0.5)
    return 0


if __name__ == "__main__":
    if not os.environ.get("DISPLAY"):
        sys.exit("window_shots: needs an X display with a window manager (tools/with-window)")
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/images")))
