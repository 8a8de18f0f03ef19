"""File > Import…, as a person uses it: a Python file with a model, the class and its input
shape typed into the dialog; the model appears on the canvas as blocks with their shapes, as a new
unsaved document, and its weights come along as the training panel's weights. A model that cannot
become blocks is refused in the dialog, saying where, and the document stays as it was."""

from __future__ import annotations

import pytest
import torch
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication

from person import choose_in_menu, menu_texts, press, scene_agrees, type_into

MODELS = '''
import torch
from torch import nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self, hidden=16):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU())
        self.fc1 = nn.Linear(4 * 6 * 6, hidden)
        self.fc2 = nn.Linear(hidden, 3)

    def forward(self, x):
        x = F.max_pool2d(self.features(x), 2)
        x = x.view(x.size(0), -1)
        return self.fc2(torch.relu(self.fc1(x)))


class Erf(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        return torch.special.erf(self.fc(x))
'''


@pytest.fixture
def models_file(tmp_path):
    path = tmp_path / "my_models.py"
    path.write_text(MODELS)
    return path


def open_import_dialog(window, qtbot):
    """File menu, down to Import PyTorch Model…, Enter."""
    menu = window.file_menu
    assert "Import PyTorch Model…" in menu_texts(menu)
    menu.popup(window.mapToGlobal(QPoint(0, 0)))
    qtbot.waitUntil(menu.isVisible)
    choose_in_menu(menu, "Import PyTorch Model…")
    qtbot.waitUntil(lambda: getattr(window, "import_dialog", None) is not None and window.import_dialog.isVisible())
    return window.import_dialog


def test_import_a_model_file_onto_the_canvas_with_its_weights(window, answers, qtbot, models_file):
    from studio.compile import compile_networks
    from studio.importing import model_from
    from studio.training.checkpoint import flatten, load_flat_state

    dialog = open_import_dialog(window, qtbot)
    type_into(dialog.file, str(models_file))
    type_into(dialog.callable, "Net")
    type_into(dialog.kwargs, '{"hidden": 10}')
    torch.manual_seed(7)  # the model the dialog builds draws its weights from here
    type_into(dialog.shapes, "1,12,12", then="enter")  # Enter presses Import
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=30_000)
    QApplication.processEvents()
    assert answers.errors() == []

    graph = window.editor.graph
    assert [n.id for n in graph.nodes.values()] == [
        "x", "features_0", "features_1", "features_2", "max_pool2d", "view", "fc1", "relu", "fc2"]
    assert graph.node("fc1").params["out_features"] == 10
    # on the canvas, every wire labelled with its shape
    scene_agrees(window)
    labels = {str(e): item.label for e, item in window.scene.edges.items()}
    assert labels["max_pool2d.out -> view.in"] == "[4, 6, 6]"
    assert labels["view.out -> fc1.in"] == "[144]"
    assert not any(item.problem for item in window.scene.nodes.values())
    # a new unsaved document
    assert window.path is None and window.is_modified()
    assert window.isWindowModified() and window.windowTitle().startswith("Net[*]")
    assert "Imported my_models.py:Net: 9 blocks, 1,531 parameters" in window.statusBar().currentMessage()

    # its weights are the panel's trained weights: the module's own
    panel = window.training_panel
    assert panel.has_weights
    networks = compile_networks(graph)
    load_flat_state(networks, flatten(panel.weights), "the panel's weights")
    torch.manual_seed(7)
    original, _ = model_from(f"{models_file}:Net", {"hidden": 10})
    x = torch.randn(5, 1, 12, 12)
    net = next(iter(networks.values())).eval()
    assert torch.allclose(net(x), original.eval()(x), atol=1e-6)

    # Undo does not take the import apart: it is the document's starting point
    assert not window.act_undo.isEnabled()


def test_a_model_without_blocks_is_refused_in_the_dialog(window, answers, qtbot, models_file):
    before = window.editor.graph.snapshot()
    dialog = open_import_dialog(window, qtbot)
    type_into(dialog.file, str(models_file))
    type_into(dialog.callable, "Erf")
    type_into(dialog.shapes, "4", then="enter")
    qtbot.waitUntil(lambda: not dialog.importing, timeout=30_000)
    QApplication.processEvents()
    assert dialog.isVisible()  # the person can fix a field and try again
    assert dialog.message.text() == "node 'special_erf': torch.special.erf (called in Erf.forward) has no block"
    assert window.editor.graph.snapshot() == before
    # a wrong shape is said in the same place
    type_into(dialog.callable, "Net")
    type_into(dialog.shapes, "1,12,x", then="enter")
    assert dialog.message.text().startswith("--input-shape '1,12,x': sizes are whole numbers")
    press(dialog, Qt.Key_Escape)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert window.editor.graph.snapshot() == before
    assert not window.training_panel.has_weights


def test_tab_walks_the_fields_in_the_order_a_person_fills_them(window, qtbot):
    from PySide6.QtTest import QTest

    dialog = open_import_dialog(window, qtbot)
    qtbot.waitUntil(lambda: dialog.file.hasFocus())
    seen = []
    for _ in range(4):
        QTest.keyClick(QApplication.focusWidget(), Qt.Key_Tab)
        seen.append(QApplication.focusWidget())
    assert seen == [dialog.callable, dialog.kwargs, dialog.shapes, dialog.dtype]
    dialog.reject()
