"""The Help menu's windows: the keyboard shortcuts (read from the window's own
actions, so the list cannot fall behind them), the block reference (from the
block registry, like docs/blocks.md) and the About text."""

from __future__ import annotations

import html
import platform
from importlib import metadata

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QHBoxLayout, QHeaderView, QLineEdit, QListWidget, QListWidgetItem, QSplitter,
    QTableWidget, QTableWidgetItem, QTextBrowser, QVBoxLayout, QWidget,
)

import blocks
from blocks import BlockSpec

from . import icons
from .block_search import rank

APP_NAME = "Studio"


# ---- keyboard shortcuts ------------------------------------------------------
def action_title(action: QAction) -> str:
    """'Save &As…' -> 'Save As…'; 'Add &Block…  (Tab)' -> 'Add Block…'."""
    text = action.text().replace("&&", "\0").replace("&", "").replace("\0", "&")
    return text.split("  (")[0].strip()


def shortcut_rows(window: QWidget) -> list[tuple[str, str]]:
    """(action, keys) for every action of the window that has a shortcut, in menu order."""
    rows, seen = [], set()
    for action in _actions_in_menu_order(window):
        if id(action) in seen or not action.shortcuts():
            continue
        seen.add(id(action))
        keys = ", ".join(s.toString(QKeySequence.NativeText) for s in action.shortcuts() if _on_keyboard(s))
        if keys:
            rows.append((action_title(action), keys))
    return rows


def _on_keyboard(sequence: QKeySequence) -> bool:
    """Leave out the multimedia keys (Copy, Open, Zoom In) that platforms bind besides the usual ones."""
    return sequence.count() > 0 and sequence[0].key().value < Qt.Key_Back.value


def _actions_in_menu_order(window: QWidget) -> list[QAction]:
    found: list[QAction] = []

    def walk(actions) -> None:
        for action in actions:
            if action.menu() is not None:
                walk(action.menu().actions())
            elif not action.isSeparator():
                found.append(action)

    bar = window.menuBar() if hasattr(window, "menuBar") else None
    if bar is not None:
        walk(bar.actions())
    found += window.actions()  # window-wide shortcuts that no menu shows
    found += window.findChildren(QAction)
    return found


class ShortcutsDialog(QDialog):
    def __init__(self, window: QWidget):
        super().__init__(window)
        self.setWindowTitle(f"Keyboard Shortcuts — {APP_NAME}")
        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText("Filter…")
        self.filter.setClearButtonEnabled(True)
        self.table = QTableWidget(0, 2, self)
        self.table.setHorizontalHeaderLabels(["Action", "Keys"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeToContents)
        buttons = QDialogButtonBox(QDialogButtonBox.Close, self)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.filter)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(460, 560)
        self.filter.textChanged.connect(self._apply_filter)
        self.refresh(window)

    def refresh(self, window: QWidget) -> None:
        rows = shortcut_rows(window)
        self.table.setRowCount(len(rows))
        for i, (name, keys) in enumerate(rows):
            self.table.setItem(i, 0, QTableWidgetItem(name))
            self.table.setItem(i, 1, QTableWidgetItem(keys))
        self._apply_filter(self.filter.text())

    def rows(self, visible_only: bool = False) -> list[tuple[str, str]]:
        return [(self.table.item(i, 0).text(), self.table.item(i, 1).text()) for i in range(self.table.rowCount())
                if not (visible_only and self.table.isRowHidden(i))]

    def _apply_filter(self, text: str) -> None:
        words = text.lower().split()
        for i in range(self.table.rowCount()):
            hay = f"{self.table.item(i, 0).text()} {self.table.item(i, 1).text()}".lower()
            self.table.setRowHidden(i, not all(w in hay for w in words))


# ---- block reference ---------------------------------------------------------
def _value(value) -> str:
    if value is None:
        return "auto"
    if isinstance(value, tuple):
        value = list(value)
    return html.escape(repr(value) if isinstance(value, str) else str(value))


def _ports(dynamic) -> str:
    """Ports whose number or names follow a parameter, as the block reference words them."""
    shown = getattr(dynamic, "shown", "") if dynamic is not None else ""
    return shown.replace("`", "")


def block_html(spec: BlockSpec) -> str:
    """One block's page: doc (with its formula), ports and parameters."""
    params = spec.coerce_params({})
    ins = _ports(spec.dynamic_inputs) or ", ".join(p.name for p in spec.input_ports(params)) or "none"
    outs = _ports(spec.dynamic_outputs) or ", ".join(p.name for p in spec.output_ports(params)) or "none"
    parts = [
        f"<h2>{html.escape(spec.name)}</h2>",
        f"<p style='color:gray'>{html.escape(spec.category)}"
        + (f" · also {html.escape(', '.join(spec.aliases))}" if spec.aliases else "") + "</p>",
        f"<p>{html.escape(spec.doc)}</p>",
        f"<p><b>Inputs:</b> {html.escape(ins)}<br><b>Outputs:</b> {html.escape(outs)}</p>",
    ]
    if spec.params:
        rows = []
        for p in spec.params:
            facts = [p.kind, f"default {_value(p.default)}"]
            if p.choices:
                facts.append("one of " + ", ".join(_value(c) for c in p.choices))
            if p.min is not None:
                facts.append(f"≥ {p.min}")
            if p.max is not None:
                facts.append(f"≤ {p.max}")
            rows.append(f"<tr><td><b>{html.escape(p.name)}</b></td><td>{html.escape(p.doc)}"
                        f"<br><span style='color:gray'>{'; '.join(facts)}</span></td></tr>")
        parts.append("<h3>Parameters</h3><table cellspacing='6'>" + "".join(rows) + "</table>")
    else:
        parts.append("<p>No parameters.</p>")
    return "".join(parts)


class BlockReferenceDialog(QDialog):
    """Every block's doc, ports and parameters, searchable like the palette."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(f"Block Reference — {APP_NAME}")
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search blocks…")
        self.search.setClearButtonEnabled(True)
        self.list = QListWidget(self)
        self.page = QTextBrowser(self)
        self.page.setOpenExternalLinks(False)
        split = QSplitter(Qt.Horizontal, self)
        left = QWidget(split)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.search)
        left_layout.addWidget(self.list)
        split.addWidget(left)
        split.addWidget(self.page)
        split.setSizes([200, 480])
        buttons = QDialogButtonBox(QDialogButtonBox.Close, self)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(split)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(buttons)
        layout.addLayout(row)
        self.resize(760, 560)
        self.search.textChanged.connect(self._refill)
        self.list.currentItemChanged.connect(self._show_current)
        self.search.returnPressed.connect(lambda: self.list.setFocus())
        self._refill("")

    def names(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

    def current_block(self) -> str | None:
        item = self.list.currentItem()
        return item.text() if item is not None else None

    def show_block(self, name: str) -> None:
        if name not in self.names():
            self.search.clear()
        for i in range(self.list.count()):
            if self.list.item(i).text() == name:
                self.list.setCurrentRow(i)
                return

    def _refill(self, text: str) -> None:
        current = self.current_block()
        self.list.clear()
        specs = rank(text) if text.strip() else list(blocks.all_blocks())
        for spec in specs:
            self.list.addItem(QListWidgetItem(icons.category_icon(spec.category), spec.name))
        names = self.names()
        self.list.setCurrentRow(names.index(current) if current in names else 0 if names else -1)
        if not names:
            self.page.setHtml(f"<p>No block matches {html.escape(text)!s}.</p>")

    def _show_current(self, item, _previous=None) -> None:
        if item is not None:
            self.page.setHtml(block_html(blocks.get(item.text())))


# ---- about --------------------------------------------------------------------
def studio_version() -> str:
    try:
        return metadata.version("studio")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


def torch_version() -> str:
    try:
        return metadata.version("torch")
    except metadata.PackageNotFoundError:
        return "not installed"


def about_text() -> str:
    return (f"<h3>{APP_NAME} {html.escape(studio_version())}</h3>"
            "<p>A visual network builder: wire layer blocks into a network, see every "
            "tensor shape as you wire, train it and watch it learn, and take it away as PyTorch code.</p>"
            f"<p>PyTorch {html.escape(torch_version())}<br>"
            f"Qt {html.escape(qVersion())} (PySide6 {html.escape(pyside_version)})<br>"
            f"Python {html.escape(platform.python_version())}</p>")
