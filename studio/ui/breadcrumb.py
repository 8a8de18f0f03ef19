"""The bar above the canvas while a group is open: where the canvas is
(``resnet18 > layer2_0 (BasicBlock)``, each crumb a button back to its level)
and what an edit here reaches ("Editing BasicBlock: changes apply to all 4
uses"), said before any edit is made."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from .document import GraphEditor


class Breadcrumb(QWidget):
    crumbClicked = Signal(int)  # the depth to go back to: 0 is the document

    def __init__(self, editor: GraphEditor, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("breadcrumb")
        self.editor = editor
        self.crumbs: list[QPushButton] = []
        self.notice = QLabel()
        self.notice.setObjectName("groupNotice")
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(8, 3, 8, 3)
        self._layout.setSpacing(2)
        self.setAutoFillBackground(True)
        editor.shown_changed.connect(lambda _g: self.refresh())
        editor.graph_replaced.connect(lambda _g: self.refresh())
        editor.undo_stack.indexChanged.connect(lambda _i: self.refresh())
        self.refresh()

    def texts(self) -> list[str]:
        """The crumbs as shown, outermost first."""
        return [b.text().replace("&&", "&") for b in self.crumbs]

    def refresh(self) -> None:
        editor = self.editor
        while self._layout.count():
            item = self._layout.takeAt(0)
            widget = item.widget()
            if widget is not None and widget is not self.notice:
                widget.hide()
                widget.deleteLater()
        self.crumbs = []
        if not editor.path:
            self.hide()
            return
        names = [editor.document.name or "graph"]
        for outer, node_id in editor.path:
            block = outer.node(node_id).block if node_id in outer else "?"
            names.append(f"{node_id} ({block})")
        for depth, name in enumerate(names):
            if depth:
                sep = QLabel("›")
                sep.setObjectName("hint")
                self._layout.addWidget(sep)
            button = QPushButton(name.replace("&", "&&"))
            button.setFlat(True)
            button.setCursor(Qt.PointingHandCursor)
            last = depth == len(names) - 1
            button.setEnabled(not last)
            button.setToolTip("You are here" if last else "Back to this level (Esc goes up one)")
            if last:
                font = button.font()
                font.setBold(True)
                button.setFont(font)
            button.clicked.connect(lambda _=False, d=depth: self.crumbClicked.emit(d))
            self._layout.addWidget(button)
            self.crumbs.append(button)
        self._layout.addSpacing(16)
        definition = editor.definition
        uses = editor.instances_shown()
        if definition is not None:
            reach = f"changes apply to all {uses} uses" if uses > 1 else "changes apply to its one use"
            self.notice.setText(f"Editing {definition.name}: {reach}")
        self._layout.addWidget(self.notice)
        self.notice.show()
        self._layout.addStretch(1)
        self.show()
