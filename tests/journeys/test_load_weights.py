"""File > Load Weights…, as a person uses it: weights saved from one session come back in the next,
Try it predicts with them at once and the next Train continues from them; a file that does not fit
the graph is refused with a message naming the file and the tensors, and nothing changes."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PySide6.QtCore import QPoint, Qt

from person import press, type_into
from test_try_it import DIGITS, EXAMPLES, open_file, settled, show_tab, stroke, train


def file_action(window, text: str):
    menu = getattr(window, "file_menu", None) or window.menuBar().actions()[0].menu()
    for action in menu.actions():
        if action.text().replace("&", "").lower().startswith(text.lower()):
            return menu, action
    raise AssertionError(f"no {text!r} in File: {[a.text() for a in menu.actions()]}")


def choose_in_file_menu(window, qtbot, text: str) -> None:
    """Open the File menu, move onto ``text`` and press Enter."""
    menu, action = file_action(window, text)
    assert action.isEnabled(), f"{text} is disabled"
    menu.popup(window.mapToGlobal(QPoint(0, 0)))
    qtbot.waitUntil(menu.isVisible)
    menu.setActiveAction(action)
    press(menu, Qt.Key_Return)


@pytest.fixture
def pick(monkeypatch):
    """The person's answers to the two weights dialogs: where to save, which file to load."""
    from studio.ui import dialogs
    from studio.ui.training import weights_file

    picked = {"save": "", "load": "", "asked": []}
    monkeypatch.setattr(dialogs, "save_weights_name", lambda parent, suggested="": picked["save"])

    def open_weights_name(parent, directory=""):
        picked["asked"].append(directory)
        return picked["load"]

    monkeypatch.setattr(weights_file, "open_weights_name", open_weights_name)
    return picked


def digits_copy(tmp_path) -> Path:
    path = tmp_path / "digits.json"
    shutil.copy(EXAMPLES / "lenet5_digits.json", path)
    return path


def test_weights_saved_in_one_session_come_back_in_the_next(window, answers, qtbot, tmp_path, pick):
    from studio.compile import compile_networks
    from studio.training import checkpoint

    graph_path = digits_copy(tmp_path)
    open_file(window, answers, graph_path)
    panel = window.training_panel
    menu, load_action = file_action(window, "Load Weights")
    _, save_action = file_action(window, "Save Trained Weights")
    actions = menu.actions()
    assert actions.index(load_action) + 1 == actions.index(save_action)  # side by side
    assert load_action.isEnabled()  # loading needs no run first

    type_into(panel.config_form.widgets[("epochs",)], "5", then="enter")
    train(window, qtbot)
    first_run = panel.run
    trained = {k: v.clone() for k, v in next(iter(panel.weights.values())).items()}
    pick["save"] = str(tmp_path / "digits.safetensors")
    choose_in_file_menu(window, qtbot, "Save Trained Weights")
    assert Path(pick["save"]).exists()

    # Another session on the same file: no weights until they are loaded.
    open_file(window, answers, graph_path)
    assert panel.weights is None and not save_action.isEnabled()
    show_tab(panel, "Try it")
    assert panel.try_it.message.text().startswith("Train first:")

    pick["load"] = pick["save"]
    choose_in_file_menu(window, qtbot, "Load Weights")
    assert pick["asked"] == [str(tmp_path)]  # the dialog opens in the graph's folder
    assert answers.errors() == []
    message = window.statusBar().currentMessage()
    params = window.editor.graph.total_params()
    assert params == 31_294
    assert message == f"Loaded 10 tensors, {params:,} values from digits.safetensors", message
    assert "the next run starts from them" in panel.status_label.text()
    loaded = next(iter(panel.weights.values()))
    assert set(loaded) == set(trained) and all(torch.equal(loaded[k], trained[k]) for k in trained)
    assert save_action.isEnabled()

    # The Evaluation tab measures them on the validation samples once it is looked at: the figures
    # of the epoch whose weights the run kept.
    view = panel.evaluation_view
    assert view.mode == "empty" and view.draws == 0
    show_tab(panel, "Evaluation")
    assert view.mode == "classes" and view.draws == 1
    assert view.report.counts.sum() == len(panel.chooser.dataset.val) == 359
    assert "weights loaded from digits.safetensors" in view.title.text()
    _, accs = first_run.curves["val_acc"]
    assert min(abs(view.report.accuracy - a) for a in accs) < 1e-6, (view.report.accuracy, accs)
    assert view.report.accuracy > 0.9

    # Try it uses them at once: a drawn zero gets what the saved network itself says of it.
    show_tab(panel, "Try it")
    try_it = panel.try_it
    qtbot.waitUntil(lambda: try_it.kind == "image", timeout=5000)
    for points in DIGITS["0"](try_it.pad):
        stroke(try_it.pad, points)
    settled(try_it, qtbot)
    shown = try_it.top_bars.shown
    from studio.evaluation.inputs import image_to_input
    from studio.ui.training.draw_pad import fit_to_frame

    nets = compile_networks(window.editor.graph)
    checkpoint.load_weights(pick["save"], nets)
    net = next(iter(nets.values())).eval()
    x = torch.as_tensor(image_to_input(fit_to_frame(try_it.pad.gray()), try_it.predictor))[None]
    dataset = panel.chooser.dataset
    with torch.no_grad():
        probs = torch.softmax(net(dataset.scaler.apply(x)), dim=-1)[0].numpy()
    best = np.argsort(-probs)[:3]
    assert [c for c, _ in shown] == [str(i) for i in best]
    assert np.allclose([p for _, p in shown], probs[best], atol=1e-5)

    # The next Train continues from them: its first epoch starts where the saved run ended, far
    # below where the first run's first epoch was.
    type_into(panel.config_form.widgets[("epochs",)], "1", then="enter")
    train(window, qtbot)
    _, first_losses = first_run.curves["val_loss"]
    _, continued = panel.run.curves["val_loss"]
    assert continued[0] < 0.5 * first_losses[0], (continued[0], first_losses)
    assert continued[0] < first_losses[-1] * 1.5


def test_weights_that_do_not_fit_are_refused_naming_the_file_and_tensor(window, answers, qtbot, tmp_path, pick):
    from studio.compile import compile_networks
    from studio.files import load
    from studio.training import checkpoint

    graph_path = digits_copy(tmp_path)
    open_file(window, answers, graph_path)
    panel = window.training_panel
    graph = load(graph_path)
    good = {k: v.state_dict() for k, v in compile_networks(graph).items()}
    good_file = checkpoint.save_weights(tmp_path / "good.safetensors", good)
    pick["load"] = str(good_file)
    choose_in_file_menu(window, qtbot, "Load Weights")
    assert answers.errors() == [] and panel.weights is not None
    kept = {k: v.clone() for k, v in next(iter(panel.weights.values())).items()}

    # Weights of another graph (the XOR network): refused, naming the file and the tensors it lacks.
    xor = load(EXAMPLES / "xor_mlp.json")
    other = checkpoint.save_weights(tmp_path / "xor.safetensors",
                                    {k: v.state_dict() for k, v in compile_networks(xor).items()})
    # One tensor of the right name and the wrong shape.
    (key, value), = [(k, v) for k, v in next(iter(good.values())).items() if k == "conv1.weight"]
    wrong = {name: dict(state) for name, state in good.items()}
    next(iter(wrong.values()))[key] = torch.zeros(8, 1, 3, 3)
    wrong_file = checkpoint.save_weights(tmp_path / "wrong.safetensors", wrong)
    # A pickle dressed up as safetensors: never unpickled.
    pickle_file = tmp_path / "pickled.safetensors"
    torch.save(next(iter(good.values())), pickle_file)

    cases = [
        (other, ["xor.safetensors", "no weights for conv1.bias"]),
        (wrong_file, ["wrong.safetensors", "conv1.weight has shape [8, 1, 3, 3], the graph needs [16, 1, 3, 3]"]),
        (pickle_file, ["pickled.safetensors", "pickle"]),
        (tmp_path / "missing.safetensors", ["missing.safetensors", "no such file"]),
    ]
    for path, words in cases:
        before = len(answers.errors())
        pick["load"] = str(path)
        choose_in_file_menu(window, qtbot, "Load Weights")
        errors = answers.errors()[before:]
        assert len(errors) == 1, errors
        for w in words:
            assert w in errors[0], (w, errors[0])
        assert str(path) in errors[0]
        assert window.statusBar().currentMessage() == f"Weights not loaded from {Path(path).name}"
        # Nothing changed: the weights loaded before are still the panel's.
        now = next(iter(panel.weights.values()))
        assert all(torch.equal(now[k], kept[k]) for k in kept)
