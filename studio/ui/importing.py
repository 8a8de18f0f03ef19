"""File > Import…: a PyTorch model (a Python file and the class or function that builds it) as
an editable graph, opened as a new unsaved document; its weights come along as the training
panel's weights, so Train continues from them and the exports carry them.

The dialog stays open while the import is refused and shows why (the fx node, what it calls,
the module path), so the person can fix a field and try again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QApplication, QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
    QMenu, QPushButton, QVBoxLayout, QWidget,
)

PY_FILTER = "Python source (*.py);;All files (*)"


class ImportDialog(QDialog):
    """The fields of ``studio import``: file or module, callable, keyword arguments, input shapes, dtype."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window_ = window
        self.setWindowTitle("Import PyTorch Model")
        self.setObjectName("import_dialog")
        self.imported = None
        self._worker = None  # the thread imports run on, made at the first
        self.file = QLineEdit(self)
        self.file.setObjectName("import_file")
        self.file.setPlaceholderText("models/net.py, or a module name: mypkg.nets")
        browse = QPushButton("&Browse…", self)
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.file, 1)
        row.addWidget(browse)
        self.callable = QLineEdit(self)
        self.callable.setObjectName("import_callable")
        self.callable.setPlaceholderText("ResNet, or make_resnet: a class or a function returning an nn.Module")
        self.kwargs = QLineEdit(self)
        self.kwargs.setObjectName("import_kwargs")
        self.kwargs.setPlaceholderText('keyword arguments as JSON, e.g. {"num_classes": 10} (optional)')
        self.shapes = QLineEdit(self)
        self.shapes.setObjectName("import_shapes")
        self.shapes.setPlaceholderText("one sample without the batch, e.g. 1,28,28; several inputs: 7,8; 5,6")
        self.dtype = QComboBox(self)
        self.dtype.setObjectName("import_dtype")
        self.dtype.addItem("float values", "float")
        self.dtype.addItem("long (integer token ids)", "long")
        form = QFormLayout()
        form.addRow("Python &file:", row)
        form.addRow("&Class or function:", self.callable)
        form.addRow("&Keyword arguments:", self.kwargs)
        form.addRow("Input &shape:", self.shapes)
        form.addRow("Input &type:", self.dtype)
        self.message = QLabel(self)
        self.message.setObjectName("import_message")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Cancel, self)
        self.import_button = self.buttons.addButton("&Import", QDialogButtonBox.AcceptRole)
        self.import_button.setDefault(True)
        self.buttons.accepted.connect(self.run_import)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        # Tab goes from field to field as a person fills them in; Browse… comes after the fields.
        chain = [self.file, self.callable, self.kwargs, self.shapes, self.dtype, browse, self.import_button]
        for first, second in zip(chain, chain[1:]):
            QWidget.setTabOrder(first, second)
        self.resize(620, self.sizeHint().height())

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Python file with the model", self.file.text(), PY_FILTER)
        if path:
            self.file.setText(path)

    def show_refusal(self, text: str) -> None:
        self.message.setText(text)
        self.message.setStyleSheet("color: #d04040;")

    @property
    def importing(self) -> bool:
        """Whether an import is under way (off the window's thread)."""
        return self._worker is not None and self._worker.busy

    def run_import(self) -> None:
        """Import with the fields as they are, on a thread of its own (the model's file runs, it is
        traced and checked: seconds for a large model, and the window keeps answering); on success
        the document opens and the dialog closes."""
        from studio.importing import ImportRefused, parse_kwargs, parse_shape

        if self.importing:
            return
        source, name = self.file.text().strip(), self.callable.text().strip()
        if not source or not name:
            self.show_refusal("Give the Python file (or module) and the class or function that builds the model.")
            return
        parts = [p for p in self.shapes.text().split(";") if p.strip()]
        if not parts:
            self.show_refusal("Give the input shape: one sample without the batch, e.g. 1,28,28.")
            return
        try:
            shapes = [parse_shape(p) for p in parts]
            kwargs = parse_kwargs(self.kwargs.text().strip() or None)
        except ImportRefused as exc:
            self.show_refusal(exc.message)
            return
        dtype = self.dtype.currentData()
        if self._worker is None:
            from .off_thread import OneAtATime

            self._worker = OneAtATime(self, "studio-import")
        self.message.setStyleSheet("")
        self.message.setText(f"Importing {Path(source).name}:{name}…")
        self.import_button.setEnabled(False)
        QApplication.setOverrideCursor(Qt.BusyCursor)
        self._worker.submit(lambda: build_and_import(source, name, kwargs, shapes, dtype),
                            lambda imported, error, _s: self._imported(imported, error, source, name))

    def _imported(self, imported: Any, error: BaseException | None, source: str, name: str) -> None:
        from studio.importing import ImportRefused

        QApplication.restoreOverrideCursor()
        self.import_button.setEnabled(True)
        if not self.isVisible():
            return  # cancelled meanwhile: the import is dropped
        if isinstance(error, ImportRefused):
            self.show_refusal(error.message)
            return
        if error is not None:  # the model's own code failing where no check foresaw it: said, not raised
            text = str(error).strip().splitlines()[0] if str(error).strip() else ""
            self.show_refusal(f"The import failed: {type(error).__name__}: {text}")
            return
        self.imported = imported
        self.message.setText("")
        if open_imported(self.window_, self.imported, f"{Path(source).name}:{name}"):
            self.accept()


def build_and_import(source: str, name: str, kwargs: Any, shapes: list, dtype: str) -> Any:
    """The model built from ``source``:``name`` and imported; touches no widget (runs off the window's thread)."""
    from studio.importing import import_model, model_from

    model, built_name = model_from(f"{source}:{name}", kwargs)
    return import_model(model, shapes, [dtype], built_name)


def open_imported(window: Any, imported: Any, what: str) -> bool:
    """The imported graph as a new unsaved document, its weights as the panel's; False when the
    person keeps the current document (Cancel on Save changes?)."""
    if not window.maybe_save():
        return False
    window.set_document(imported.graph, None, modified=True)
    panel = getattr(window, "training_panel", None)
    if panel is not None:
        panel._set_weights(imported.weights, imported.graph.copy(), source="the imported model")
    count = imported.graph.total_params()
    window.statusBar().showMessage(
        f"Imported {what}: {len(imported.graph)} blocks, {count:,} parameters, with its weights", 8000)
    return True


def add_import_action(window: QWidget, menu: QMenu) -> QAction:
    """File > Import…, added to ``menu``."""
    action = QAction("&Import PyTorch Model…", window)
    action.setObjectName("import_model")
    action.setStatusTip("A PyTorch nn.Module from a Python file, as editable blocks with its weights")

    def show() -> None:
        dialog = ImportDialog(window)
        window.import_dialog = dialog  # held while it is open; tests find it here
        dialog.finished.connect(lambda _result: setattr(window, "import_dialog", None))
        dialog.open()

    action.triggered.connect(show)
    menu.addAction(action)
    return action
