"""The questions the window asks. Kept in one place so each is one call, and
so tests can answer them without a person at the keyboard."""

from __future__ import annotations

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

FILE_FILTER = "Studio graphs (*.json);;All files (*)"

# What File > Export writes: (dialog title, filter, suffix), by export kind.
EXPORT_KINDS = {
    "python": ("Export PyTorch source", "Python source (*.py);;All files (*)", ".py"),
    "torchrun": ("Export torchrun training script", "Python script (*.py);;All files (*)", ".py"),
    "program": ("Export program", "PyTorch exported program (*.pt2);;All files (*)", ".pt2"),
    "onnx": ("Export ONNX", "ONNX model (*.onnx);;All files (*)", ".onnx"),
    "onnx-int8": ("Export ONNX with an int8 copy", "ONNX model (*.onnx);;All files (*)", ".onnx"),
}


def ask_save_changes(parent: QWidget, name: str) -> str:
    """'save', 'discard' or 'cancel'."""
    box = QMessageBox(QMessageBox.Warning, "Unsaved changes", f"Save the changes to {name}?",
                      QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel, parent)
    box.setInformativeText("Your changes are lost if you don't save them.")
    box.setDefaultButton(QMessageBox.Save)
    answer = box.exec()
    return {QMessageBox.Save: "save", QMessageBox.Discard: "discard"}.get(QMessageBox.StandardButton(answer), "cancel")


def show_error(parent: QWidget, title: str, message: str) -> None:
    box = QMessageBox(QMessageBox.Critical, title, message, QMessageBox.Ok, parent)
    box.exec()


def ask_outside(parent: QWidget, graph_name: str, written: str, resolved: str, folder: str) -> bool:
    """Whether a graph file may read or write a place outside its own folder (No by default:
    a file from a stranger must not reach the rest of the disk by itself). Names and paths come from
    the file: control and reordering characters are shown escaped, so a path cannot pose as another."""
    from studio.graph.text import terminal_text

    graph_name, written, resolved, folder = (terminal_text(t) for t in (graph_name, written, resolved, folder))
    box = QMessageBox(QMessageBox.Warning, "Outside the graph's folder",
                      f"{graph_name} names {written!r}, which is outside its folder:\n\n{resolved}\n\n"
                      "Allow this graph to use it? Allow only if you trust the file.",
                      QMessageBox.Yes | QMessageBox.No, parent)
    box.setInformativeText(f"The graph's folder is {folder}. Your answer is remembered for this file.")
    box.setDefaultButton(QMessageBox.No)
    return box.exec() == QMessageBox.Yes


def ask_recover(parent: QWidget, description: str) -> bool:
    box = QMessageBox(QMessageBox.Question, "Recover unsaved work",
                      f"Studio did not close normally. Recover the unsaved graph?\n\n{description}",
                      QMessageBox.Yes | QMessageBox.No, parent)
    box.setDefaultButton(QMessageBox.Yes)
    return box.exec() == QMessageBox.Yes


def open_file_name(parent: QWidget, directory: str = "") -> str:
    path, _ = QFileDialog.getOpenFileName(parent, "Open graph", directory, FILE_FILTER)
    return path


def save_file_name(parent: QWidget, suggested: str = "") -> str:
    path, _ = QFileDialog.getSaveFileName(parent, "Save graph", suggested, FILE_FILTER)
    if path and not path.lower().endswith(".json"):
        path += ".json"
    return path


WEIGHTS_FILTER = "Trained weights (*.safetensors);;All files (*)"


def save_weights_name(parent: QWidget, suggested: str = "") -> str:
    """Where to save trained weights ('' when cancelled); always a ``.safetensors`` name."""
    path, _ = QFileDialog.getSaveFileName(parent, "Save trained weights", suggested, WEIGHTS_FILTER)
    if path and not path.lower().endswith(".safetensors"):
        path += ".safetensors"
    return path


def export_file_name(parent: QWidget, kind: str, suggested: str = "") -> str:
    """Where to write an export of ``kind`` (a key of EXPORT_KINDS); '' when cancelled."""
    title, file_filter, suffix = EXPORT_KINDS[kind]
    path, _ = QFileDialog.getSaveFileName(parent, title, suggested, file_filter)
    if path and not path.lower().endswith(suffix):
        path += suffix
    return path


def show_about(parent: QWidget, title: str, text: str) -> None:
    QMessageBox.about(parent, title, text)
