"""A practitioner's tasks end to end in the whole window: a CNN on images with its
feature maps, and their own CSV file from Browse to an exported network."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from person import choose, click, node_point, palette_drag, type_into, wire

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def train_to_end(window, qtbot, timeout_ms: int = 120_000) -> str:
    panel = window.training_panel
    with qtbot.waitSignal(panel.runFinished, timeout=timeout_ms) as blocker:
        click(panel.controls.train_button)
    return blocker.args[0]


def test_lenet_on_digits_shows_its_feature_maps(window, qtbot):
    assert window.open_path(EXAMPLES / "lenet5_digits.json", ask=False)
    panel = window.training_panel
    # The first convolution, picked on the canvas, is what the Activations tab follows.
    conv = next(n for n in window.editor.graph.topological_order() if window.editor.graph.node(n).block == "Conv2d")
    click(window.view.viewport(), node_point(window, conv))
    assert window.scene.selected_node_ids() == [conv]
    panel.views.setCurrentWidget(panel.activation_view)
    assert train_to_end(window, qtbot) == "finished", panel.last_error
    accuracy = panel.run.curves["val_acc"][1]
    assert accuracy[-1] > 0.9, f"LeNet-5 on digits ended at {accuracy[-1]:.1%}"
    view = panel.activation_view
    assert view.maps_plot.isVisible()
    image = view.maps_image.image
    assert image is not None and image.ndim == 2 and np.nanmax(image) - np.nanmin(image) > 0.1  # contrast, not a blank tile (NaN: the gaps)
    # Readable: the tiles fill a good part of the tab, not a 60 px thumbnail.
    rect = view.maps_plot.getViewBox().sceneBoundingRect()
    assert min(rect.width(), rect.height()) >= 150


def write_flowers(folder: Path) -> Path:
    rng = np.random.default_rng(0)
    rows = ["length,width,kind"]
    for i in range(150):
        kind = i % 3
        length, width = rng.normal(1.0 + 2.0 * kind, 0.3), rng.normal(0.5 + kind, 0.2)
        rows.append(f"{length:.3f},{width:.3f},{'abc'[kind]}")
    path = folder / "flowers.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_own_csv_from_browse_to_export(window, qtbot, answers, tmp_path, monkeypatch):
    from studio.ui.training import dataset_chooser

    csv = write_flowers(tmp_path)
    graph_path = tmp_path / "flowers.json"
    answers.save_name = str(graph_path)
    # Save first, so the data file sits beside the graph and is kept as a relative path.
    width = window.view.viewport().width()
    for block, share in (("Input", 0.1), ("Linear", 0.4), ("ReLU", 0.65), ("Linear", 0.9)):
        assert palette_drag(window, block, QPoint(int(width * share), 220)).isAccepted()
    wire(window, "input1", "linear1")
    wire(window, "linear1", "relu1")
    wire(window, "relu1", "linear2")
    click(window.view.viewport(), node_point(window, "linear2"))
    type_into(window.inspector.editors["out_features"].edit, "3", then="enter")
    click(window.view.viewport(), QPoint(20, 20))
    QTest.keyClick(window.view, Qt.Key_S, Qt.ControlModifier)
    assert graph_path.exists()

    panel = window.training_panel
    chooser = panel.chooser
    choose(chooser.name_box, "csv (your file)")
    QApplication.processEvents()
    assert not chooser.error_label.isVisible()  # no red error before the file is chosen
    assert panel.status_label.text() == "Choose your file with Browse… next to path, then press Train."
    asked = []
    monkeypatch.setattr(dataset_chooser, "ask_data_path",
                        lambda parent, name, start: asked.append((name, start)) or str(csv))
    path_row = chooser.option_widgets["path"]
    browse = next(b for b in path_row.children() if getattr(b, "text", lambda: "")() == "Browse…")
    click(browse)
    QApplication.processEvents()
    assert asked == [("csv", str(tmp_path))]
    assert window.editor.graph.training["dataset"]["path"] == "flowers.csv"
    qtbot.waitUntil(lambda: not chooser.loading)
    assert chooser.error is None, chooser.error
    assert chooser.preview.kind == "scatter"  # two numeric columns: the points themselves
    type_into(chooser.option_widgets["target"], "kind", then="enter")
    qtbot.waitUntil(lambda: not chooser.loading)
    assert chooser.dataset is not None and chooser.dataset.num_classes == 3

    epochs = panel.config_form.widgets[("epochs",)]
    type_into(epochs, "40", then="enter")
    type_into(panel.config_form.widgets[("optimizer", "lr")], "0.02", then="enter")
    assert train_to_end(window, qtbot) == "finished", panel.last_error
    assert panel.run.curves["val_acc"][1][-1] >= 0.9

    # File > Export > PyTorch source, then the exported file runs on its own.
    out = tmp_path / "flowers_model.py"
    answers.export_name = str(out)
    action = next(a for a in window.export_menu.actions() if "PyTorch" in a.text())
    action.trigger()
    qtbot.waitUntil(lambda: not window.exporting)  # written on a thread of its own
    assert out.exists(), answers.asked
    code = (f"import runpy, torch; ns = runpy.run_path({str(out)!r}); "
            "cls = [v for v in ns.values() if isinstance(v, type) and issubclass(v, torch.nn.Module)][-1]; "
            "print(list(cls()(torch.zeros(4, 2)).shape))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [4, 3]
