"""Small dialogs for groups: renaming a block definition or one of its ports (every use follows)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QVBoxLayout, QWidget

from .document import GraphEditor


class RenameBlockDialog(QDialog):
    """A line edit with the block's name; Enter renames it as one undo step. A name the
    document refuses (a built-in block's, one taken, not an identifier) is said under the
    field and the dialog stays open."""

    renamed = Signal(str)

    def __init__(self, parent: QWidget, editor: GraphEditor, block: str, port: str | None = None):
        super().__init__(parent)
        self.setObjectName("renameBlockDialog" if port is None else "renamePortDialog")
        self.editor = editor
        self.block = block
        self.port = port
        uses = len(editor.document.library.instances(block))
        times = f"used {uses} time{'s' * (uses != 1)}; every use follows"
        self.setWindowTitle(f"Rename {block}" if port is None else f"Rename port {port} of {block}")
        layout = QVBoxLayout(self)
        note = QLabel(f"New name for the block {block} ({times}):" if port is None
                      else f"New name for the port {port} of {block} ({times}, its wires too):")
        note.setWordWrap(True)
        layout.addWidget(note)
        self.current = block if port is None else port
        self.edit = QLineEdit(self.current)
        self.edit.selectAll()
        layout.addWidget(self.edit)
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.edit.setFocus()

    def accept(self) -> None:
        name = self.edit.text().strip()
        if name == self.current:
            super().accept()
            return
        reason = (self.editor.rename_definition(self.block, name) if self.port is None
                  else self.editor.rename_port(self.block, self.port, name))
        if reason is not None:
            self.error.setText(reason)
            self.error.setStyleSheet("color: #d9534f")
            self.error.show()
            self.edit.setFocus()
            self.edit.selectAll()
            return
        super().accept()
        self.renamed.emit(name)
