"""The panel inside the main window: opened from a file, trained, wires coloured."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from studio.ui.settings import AppSettings

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "spiral_mlp.json"


def test_panel_in_window_trains_and_colours_wires(qtbot, tmp_path, spiral):
    from studio.files import save
    from studio.ui.main_window import MainWindow

    path = tmp_path / "spiral.json"
    save(spiral(epochs=30, every=2), path)
    window = MainWindow(AppSettings(tmp_path / "settings"))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: getattr(window, "training_panel", None) is not None, timeout=10_000)
    panel = window.training_panel
    assert window.training_dock.widget() is panel
    window.open_path(str(path), ask=False)
    assert panel.graph is window.editor.graph
    assert panel.chooser.dataset is not None and panel.chooser.dataset.name == "spiral"

    # Selecting a node on the canvas picks it in the activation view.
    window.scene.nodes["hidden2"].setSelected(True)
    assert panel.activation_view.wanted == "hidden2"

    colours = []
    panel.gradientNorms.connect(lambda norms: colours.append(
        {str(e): i.gradient_color for e, i in window.scene.edges.items()}))
    qtbot.mouseClick(panel.controls.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(colours) >= 2, timeout=30_000)
    last = colours[-1]
    assert all(c is not None for c in last.values())  # every wire carries a gradient colour
    panel.views.setCurrentWidget(panel.activation_view)
    assert panel.activation_view.node == "hidden2"
    qtbot.waitUntil(lambda: not panel.running, timeout=60_000)
    # After the run the wires return to their usual colour.
    assert all(i.gradient_color is None for i in window.scene.edges.values())

    # A training setting changed in the panel is an undoable edit of the document.
    panel.config_form.widgets[("epochs",)].setValue(12)
    assert window.editor.graph.training["epochs"] == 12
    assert window.isWindowModified()
    window.editor.undo_stack.undo()
    assert window.editor.graph.training["epochs"] == 30
    window.editor.undo_stack.setClean()
