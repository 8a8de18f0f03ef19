"""Every field of the Training dock, edited by keyboard as a person does: click into
it, type, then Tab or Enter. Each edit lands in the document, once, undoably, and the
window survives (editing a data set option used to delete the very box being edited
from inside its own signal, and the app died)."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QCheckBox, QComboBox

from person import Answers, choose, click, type_into

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BUILTINS = ["xor", "spiral", "moons", "circles", "blobs", "sine", "reverse", "sort", "copy", "digits", "iris",
            "karate", "ring"]


def settle(qtbot, ms: int = 30) -> None:
    qtbot.wait(ms)
    QApplication.processEvents()


def new_value(param, current):
    """A different, valid value a person might type."""
    if param.kind == "int":
        hi = param.max if param.max is not None else 10_000
        v = int(current or 0) + 1
        return v if v <= hi else int(current) - 1
    if param.kind == "float":
        hi = param.max if param.max is not None else 100.0
        v = round(float(current or 0.0) + 0.05, 4)
        return v if v <= hi else round(float(current) - 0.05, 4)
    raise AssertionError(param.kind)


def text_of(value) -> str:
    return str(value)


def open_example(window, name: str) -> None:
    assert window.open_path(EXAMPLES / f"{name}.json", ask=False)
    QApplication.processEvents()


def dataset_spec(window) -> dict:
    return dict(window.editor.graph.training.get("dataset") or {})


def test_typing_noise_then_tab_keeps_the_window(window, qtbot):
    """The crash as it was met: spiral example, noise box, 0.3, Tab."""
    open_example(window, "spiral_mlp")
    panel = window.training_panel
    box = panel.chooser.option_widgets["noise"]
    count = window.editor.undo_stack.count()
    type_into(box, "0.3", then="tab")
    settle(qtbot)
    assert dataset_spec(window)["noise"] == pytest.approx(0.3)
    assert window.isVisible()
    assert window.editor.undo_stack.count() == count + 1
    # The box is still the live one, and the next edit works too.
    box = panel.chooser.option_widgets["noise"]
    type_into(box, "0.25", then="enter")
    settle(qtbot)
    assert dataset_spec(window)["noise"] == pytest.approx(0.25)
    # Two edits of one field in a row are one step, as typing is: Ctrl+Z on the canvas goes back to the file's.
    click(window.view.viewport())
    QTest.keyClick(window.view, Qt.Key_Z, Qt.ControlModifier)
    settle(qtbot)
    assert dataset_spec(window)["noise"] == pytest.approx(0.2)
    assert panel.chooser.option_widgets["noise"].value() == pytest.approx(0.2)


def test_standardize_to_zscore_keeps_the_window(window, qtbot):
    open_example(window, "spiral_mlp")
    chooser = window.training_panel.chooser
    choose(chooser.option_widgets["standardize"], "zscore")
    settle(qtbot)
    assert dataset_spec(window)["standardize"] == "zscore"
    choose(chooser.option_widgets["standardize"], "minmax")
    settle(qtbot)
    assert dataset_spec(window)["standardize"] == "minmax"
    assert chooser.dataset is not None


@pytest.fixture(scope="module")
def one_window(qapp, tmp_path_factory):
    """One main window for the thirteen data sets below (a window costs about a second to build).
    Each test starts it on a new, empty document, as the window starts (see ``new_window``)."""
    from studio.ui.main_window import MainWindow
    from studio.ui.settings import AppSettings

    patches = pytest.MonkeyPatch()
    config = tmp_path_factory.mktemp("one window") / "config"
    patches.setenv("STUDIO_CONFIG_DIR", str(config))
    Answers().install(patches)  # a new document after edits: the person discards them
    window = MainWindow(AppSettings(config))
    window.show()
    while not hasattr(window, "training_panel"):  # the dock fills in on the loop's first turns
        QApplication.processEvents()
    fresh = window.training_panel.chooser.name_box.currentText(), dataset_spec(window)
    yield window, fresh
    window.close()
    window.deleteLater()
    patches.undo()
    # A sweep between these tests froze the window's objects with the heap (tests/conftest.py):
    # thawed, so the next sweep collects its reference cycles with it.
    gc.unfreeze()


@pytest.fixture
def new_window(one_window, qtbot):
    """The shared window after File > New (Ctrl+N), its data set box as a new window has it."""
    window, fresh = one_window
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    window.view.setFocus()
    QTest.keyClick(window.view, Qt.Key_N, Qt.ControlModifier)
    settle(qtbot)
    assert len(window.editor.graph) == 0 and window.path is None
    assert (window.training_panel.chooser.name_box.currentText(), dataset_spec(window)) == fresh
    return window


@pytest.mark.parametrize("name", BUILTINS)
def test_every_option_of_every_builtin_data_set(new_window, qtbot, name):
    window = new_window
    panel = window.training_panel
    chooser = panel.chooser
    choose(chooser.name_box, name)
    settle(qtbot)
    assert dataset_spec(window)["name"] == name
    info = chooser._infos[name]
    for then in ("tab", "enter"):
        for param in info.options:
            widget = chooser.option_widgets[param.name]
            before = window.editor.undo_stack.count()
            current = dataset_spec(window).get(param.name, param.default)
            if param.kind == "choice":
                value = next(c for c in param.choices if c != current)
                choose(widget, value)
            elif param.kind == "bool":
                assert isinstance(widget, QCheckBox)
                widget.setFocus(Qt.TabFocusReason)
                QTest.keyClick(widget, Qt.Key_Space)
                value = not current
            else:
                value = new_value(param, current)
                type_into(widget, text_of(value), then=then)
            settle(qtbot)
            assert window.isVisible()
            got = dataset_spec(window).get(param.name)
            assert got == pytest.approx(value), f"{name}.{param.name} after {then}: {got!r}, typed {value!r}"
            assert window.editor.undo_stack.count() == before + 1, f"{name}.{param.name}: one undoable edit"
            # The form shows what the document holds, in a live widget.
            shown = chooser.option_widgets[param.name]
            if isinstance(shown, QComboBox):
                assert shown.currentText() == str(value)
            elif isinstance(shown, QCheckBox):
                assert shown.isChecked() == value
            else:
                assert shown.value() == pytest.approx(value)
    assert chooser.error is None, chooser.error
    assert chooser.dataset is not None
