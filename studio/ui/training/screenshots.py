"""Pictures of a run in progress, for the documentation.

``python -m studio.ui.training.screenshots OUT_DIR`` opens the spiral example
in the main window (offscreen works), presses Train, and while the run is
going saves the window and each live view as ``training-*.png``.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "spiral_mlp.json"


def _wait(app, until, timeout: float = 120.0) -> None:
    end = time.monotonic() + timeout
    while not until():
        if time.monotonic() > end:
            raise TimeoutError("the run did not get there in time")
        app.processEvents()
        time.sleep(0.005)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    out = Path(argv[0] if argv else "docs/images")
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from studio.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    window = MainWindow()
    window.resize(1600, 1100)
    window.show()
    _wait(app, lambda: getattr(window, "training_panel", None) is not None)
    window.open_path(str(EXAMPLE), ask=False)
    panel = window.training_panel
    window.resizeDocks([window.training_dock], [640], Qt.Vertical)
    panel.graph.set_training({**panel.graph.training, "epochs": 150})
    window.scene.nodes["relu2"].setSelected(True)
    panel.controls.train_button.click()
    _wait(app, lambda: panel.progress is not None and panel.progress.epochs_done >= 60)
    shots = [("loss", panel.loss_view), ("boundary", panel.boundary_view), ("activations", panel.activation_view),
             ("gradients", panel.gradient_view)]
    window.grab().save(str(out / "training-window.png"))
    for name, view in shots:
        panel.views.setCurrentWidget(view)
        app.processEvents()
        panel.grab().save(str(out / f"training-{name}.png"))
    panel.stop()
    _wait(app, lambda: not panel.running)
    panel.history_view.compare([1])
    window.editor.undo_stack.setClean()
    window.close()
    print("\n".join(sorted(str(p) for p in out.glob("training-*.png"))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
