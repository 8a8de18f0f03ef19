"""The quick search that opens at the cursor (Tab, double-click on empty
canvas, or a wire dropped on empty canvas): type, press Enter, the block is added."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QEvent, QPoint, Qt, Signal
from PySide6.QtWidgets import QFrame, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from blocks import BlockSpec

from .. import icons
from ..block_search import rank, tooltip


def takes_wire_from(is_output: bool) -> Callable[[BlockSpec], bool]:
    """Blocks a wire dragged from a port can end on: ones with an input when
    it comes from an output, ones with an output when it comes from an input."""

    def accepts(spec: BlockSpec) -> bool:
        params = spec.coerce_params({})
        return bool(spec.input_ports(params) if is_output else spec.output_ports(params))

    return accepts


def takes_wire_through(spec: BlockSpec) -> bool:
    """Blocks that can be spliced into a wire: an input to take it and an output to pass it on."""
    params = spec.coerce_params({})
    return bool(spec.input_ports(params)) and bool(spec.output_ports(params))


class QuickSearch(QFrame):
    chosen = Signal(str)
    closed = Signal()

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self._leaving = False
        self.setObjectName("quickSearch")
        self.setFrameShape(QFrame.StyledPanel)
        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText("Add block…")
        self.list = QListWidget(self)
        self.list.setUniformItemSizes(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        layout.addWidget(self.edit)
        layout.addWidget(self.list)
        self.resize(240, 280)
        self.edit.textChanged.connect(self._refill)
        self.edit.installEventFilter(self)
        self.list.itemActivated.connect(lambda item: self._choose(item.text()))
        self.accepts: Callable[[BlockSpec], bool] | None = None
        self.hide()

    def popup(self, at: QPoint, accepts: Callable[[BlockSpec], bool] | None = None) -> None:
        """Show at ``at``; ``accepts`` limits the offer (blocks that can take a dropped wire)."""
        self.accepts = accepts
        parent = self.parentWidget()
        x = min(max(0, at.x()), max(0, parent.width() - self.width()))
        y = min(max(0, at.y()), max(0, parent.height() - self.height()))
        self.move(x, y)
        self.edit.clear()
        self._refill("")
        self.show()
        self.raise_()
        self.edit.setFocus(Qt.PopupFocusReason)

    def _refill(self, text: str) -> None:
        self.list.clear()
        for spec in rank(text):
            if self.accepts is not None and not self.accepts(spec):
                continue
            item = QListWidgetItem(icons.category_icon(spec.category), spec.name)
            item.setToolTip(tooltip(spec))
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)

    def _choose(self, name: str) -> None:
        self._leave()
        self.chosen.emit(name)

    def dismiss(self) -> None:
        if self.isVisible():
            self._leave()
            self.closed.emit()

    def _leave(self) -> None:
        # The keys go back to the canvas before the search hides: hiding a focused
        # widget would pass the focus down the chain, into whatever dock comes next.
        self._leaving = True
        try:
            self.parentWidget().setFocus(Qt.OtherFocusReason)
            self.hide()
        finally:
            self._leaving = False

    def eventFilter(self, obj, event) -> bool:
        if obj is self.edit and event.type() == QEvent.KeyPress:
            key = event.key()
            if key in (Qt.Key_Return, Qt.Key_Enter):
                item = self.list.currentItem()
                if item is not None:
                    self._choose(item.text())
                return True
            if key == Qt.Key_Escape:
                self.dismiss()
                return True
            if key in (Qt.Key_Down, Qt.Key_Up):
                row = self.list.currentRow() + (1 if key == Qt.Key_Down else -1)
                if 0 <= row < self.list.count():
                    self.list.setCurrentRow(row)
                return True
        # Focus leaving for another widget closes the search; the window losing activation
        # (a menu closing, another application) does not.
        if (obj is self.edit and event.type() == QEvent.FocusOut and not self.list.hasFocus() and not self._leaving
                and event.reason() != Qt.ActiveWindowFocusReason):
            self.dismiss()
        return super().eventFilter(obj, event)
