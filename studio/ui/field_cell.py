"""A form field with the reason it was refused right under it, where the person is looking."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


def mark_invalid(widget: QWidget, invalid: bool) -> None:
    """The theme draws a widget with ``invalid`` set in its error colour."""
    widget.setProperty("invalid", invalid)
    widget.style().unpolish(widget)
    widget.style().polish(widget)


class FieldCell(QWidget):
    """``field`` above a hidden error label (``paramError`` in the theme's stylesheet)."""

    def __init__(self, field: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.field = field
        self.error = QLabel()
        self.error.setObjectName("paramError")
        self.error.setWordWrap(True)
        self.error.hide()
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        box.addWidget(field)
        box.addWidget(self.error)
