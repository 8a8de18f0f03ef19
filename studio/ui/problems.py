"""The Problems dock: what the doctor finds in the document, one row per problem.

Each row shows a red (error) or amber (warning) mark, the place (``fc1.in``, or
the setting's key), the message, and a button per fix. Clicking a row asks to
see its node (``problemActivated``); a fix button asks to apply that fix
(``fixChosen``). The window computes the list once after each edit (the same
list the canvas and the status bar show) and hands it over with
``set_problems``; the widget holds nothing the document does not have.
"""

from __future__ import annotations

import html
from typing import Iterable

from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import (
    QFrame, QHBoxLayout, QLabel, QPushButton, QScrollArea, QSizePolicy, QStyle, QStyleOptionButton, QStylePainter,
    QVBoxLayout, QWidget,
)

from studio.graph import Problem
from studio.graph.fixes import Fix

from . import theme

FIX_MAX_WIDTH = 320  # a longer fix title wraps onto a second line instead of widening the dock


# ---- the list as words and groups (also read by the status bar and the canvas) ------------
def is_error(problem: Problem) -> bool:
    return problem.level != "warning"


def count_text(problems: Iterable[Problem]) -> str:
    """"no problems", "1 error", "2 warnings", "1 error, 2 warnings"."""
    problems = list(problems)
    errors = sum(is_error(p) for p in problems)
    warnings = len(problems) - errors
    parts = [f"{n} {word}{'s' if n != 1 else ''}" for n, word in ((errors, "error"), (warnings, "warning")) if n]
    return ", ".join(parts) or "no problems"


def place_and_message(problem: Problem) -> tuple[str, str]:
    """Where a person must look, and what is wrong there: ("fc1.in", "...") or, for a setting,
    its key ("training.optimizer.lr", "...") taken from the message that starts with it."""
    if problem.node is not None:
        place = f"{problem.node}.{problem.port}" if problem.port else problem.node
        return place, problem.message
    key, sep, rest = problem.message.partition(": ")
    if sep and key.startswith("training.") and " " not in key:
        return key, rest
    if problem.kind == "data":
        return "data set", problem.message
    return "network", problem.message


def by_node(problems: Iterable[Problem]) -> dict[str, tuple[Problem, ...]]:
    """Each node's problems, in list order."""
    grouped: dict[str, list[Problem]] = {}
    for p in problems:
        if p.node is not None:
            grouped.setdefault(p.node, []).append(p)
    return {node: tuple(ps) for node, ps in grouped.items()}


def _key(problem: Problem) -> tuple:
    """What tells rows apart, always hashable (a fix's values need not be)."""
    return (problem.node, problem.port, problem.kind, problem.level, problem.code, problem.message)


# ---- the widgets ---------------------------------------------------------------------------
class LevelMark(QWidget):
    """A dot in the theme's error or warning colour (read at paint time, so a theme switch repaints)."""

    def __init__(self, level: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.level = level
        self.setFixedSize(12, 12)
        self.setToolTip(level)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt name)
        t = theme.current()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(t.warning if self.level == "warning" else t.error))
        painter.drawEllipse(self.rect().adjusted(1, 1, -1, -1))


class FixButton(QPushButton):
    """A push button whose title wraps: a fix title can be longer than the dock is wide."""

    PAD_X = 10
    PAD_Y = 5

    def __init__(self, fix: Fix, parent: QWidget | None = None):
        super().__init__(fix.title, parent)
        self.fix = fix
        policy = QSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Preferred)  # tall as its wrapped title
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.setToolTip("; ".join(e.describe() for e in fix.edits).capitalize())
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def _text_rect(self, width: int) -> QRect:
        return self.fontMetrics().boundingRect(QRect(0, 0, max(1, width - 2 * self.PAD_X), 10_000),
                                               int(Qt.TextFlag.TextWordWrap), self.text())

    def hasHeightForWidth(self) -> bool:  # noqa: N802 (Qt name)
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 (Qt name)
        return self._text_rect(width).height() + 2 * self.PAD_Y

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        width = min(FIX_MAX_WIDTH, self.fontMetrics().horizontalAdvance(self.text()) + 2 * self.PAD_X + 4)
        return QSize(width, self.heightForWidth(width))

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        width = min(self.sizeHint().width(), 90)
        return QSize(width, self.fontMetrics().height() + 2 * self.PAD_Y)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt name)
        painter = QStylePainter(self)
        option = QStyleOptionButton()
        self.initStyleOption(option)
        option.text = ""  # the bevel from the style, the words wrapped by us
        painter.drawControl(QStyle.ControlElement.CE_PushButton, option)
        painter.setPen(self.palette().color(QPalette.ColorRole.ButtonText))
        painter.drawText(self.rect().adjusted(self.PAD_X, self.PAD_Y, -self.PAD_X, -self.PAD_Y),
                         int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap), self.text())


class ProblemRow(QFrame):
    """One problem: mark, place and code on the first line, the message below, then its fixes."""

    clicked = Signal()

    def __init__(self, problem: Problem, parent: QWidget | None = None):
        super().__init__(parent)
        self.problem = problem
        self.setObjectName("problemRow")
        self.setCursor(Qt.CursorShape.PointingHandCursor if problem.node else Qt.CursorShape.ArrowCursor)
        place, message = place_and_message(problem)
        # The mark in a column of its own; place, message and fixes in a column beside it.
        outer = QHBoxLayout(self)
        outer.setContentsMargins(8, 7, 8, 8)
        outer.setSpacing(7)
        self.mark = LevelMark(problem.level)
        outer.addWidget(self.mark, 0, Qt.AlignmentFlag.AlignTop)
        body = QVBoxLayout()
        body.setSpacing(4)
        outer.addLayout(body, 1)

        what = problem.level if not problem.code else f"{problem.level} · {problem.code}"
        # One label that wraps: the place and the code never make the row wider than the dock.
        self.place = place
        self.place_label = QLabel(f"<b>{html.escape(place)}</b>&nbsp;&nbsp;"
                                  f"<span style='color:{theme.current().dim_text}'>{html.escape(what)}</span>")
        self.place_label.setWordWrap(True)
        self.place_label.setTextFormat(Qt.TextFormat.RichText)
        body.addWidget(self.place_label)

        self.message_label = QLabel(message)
        self.message_label.setWordWrap(True)
        self.message_label.setTextFormat(Qt.TextFormat.PlainText)
        body.addWidget(self.message_label)

        self.fix_buttons: list[FixButton] = []
        for fix in problem.fixes:
            button = FixButton(fix)
            self.fix_buttons.append(button)
            body.addWidget(button, 0, Qt.AlignmentFlag.AlignLeft)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().paintEvent(event)
        painter = QPainter(self)  # a hairline under each row
        painter.setPen(QColor(theme.current().node_border))
        painter.drawLine(0, self.height() - 1, self.width(), self.height() - 1)

    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt name)
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit()
            event.accept()
            return
        super().mousePressEvent(event)


class ProblemsWidget(QWidget):
    problemActivated = Signal(str)  # the node a person wants to see
    fixChosen = Signal(object)  # the Fix a person pressed

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.problems: list[Problem] = []
        self.rows: list[ProblemRow] = []
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.content = QWidget()
        self.content.setObjectName("problemsContent")
        self.list_layout = QVBoxLayout(self.content)
        self.list_layout.setContentsMargins(0, 0, 0, 0)
        self.list_layout.setSpacing(0)
        self.empty_label = QLabel("No problems.")
        self.empty_label.setObjectName("hint")
        self.empty_label.setContentsMargins(10, 10, 10, 10)
        self.list_layout.addWidget(self.empty_label)
        self.list_layout.addStretch(1)
        self.scroll.setWidget(self.content)
        outer.addWidget(self.scroll)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        return QSize(290, 200)

    def set_problems(self, problems: Iterable[Problem]) -> bool:
        """Show ``problems``; returns whether the rows changed. A row whose problem stays is kept
        (a big broken graph's list changes by a row or two per edit); a row that goes is deleted
        later, never here: this may run while one of its own buttons is still handling its click."""
        problems = list(problems)
        if problems == self.problems:
            return False
        self.problems = problems
        kept: dict[tuple, list[ProblemRow]] = {}
        for row in self.rows:
            kept.setdefault(_key(row.problem), []).append(row)
        rows = []
        for problem in problems:
            same = [r for r in kept.get(_key(problem), ()) if r.problem == problem]
            if same:
                row = same[0]
                kept[_key(problem)].remove(row)
            else:
                row = self._make_row(problem)
            rows.append(row)
        for leftovers in kept.values():
            for row in leftovers:
                self.list_layout.removeWidget(row)
                row.hide()
                row.deleteLater()
        # Into list order, after the empty state's label; rows already in place are not moved.
        first = self.list_layout.indexOf(self.empty_label) + 1
        for i, row in enumerate(rows):
            if self.list_layout.indexOf(row) != first + i:
                self.list_layout.removeWidget(row)
                self.list_layout.insertWidget(first + i, row)
        self.rows = rows
        self.empty_label.setVisible(not problems)
        return True

    def _make_row(self, problem: Problem) -> ProblemRow:
        row = ProblemRow(problem, self.content)
        row.clicked.connect(lambda p=problem: self._activated(p))
        for button in row.fix_buttons:
            button.clicked.connect(lambda _=False, f=button.fix: self.fixChosen.emit(f))
        return row

    def refresh_theme(self) -> None:
        """Rows again in the current theme's colours."""
        problems = self.problems
        self.set_problems([])
        self.set_problems(problems)

    def row_of(self, node: str | None, code: str = "") -> ProblemRow | None:
        """The first row about ``node`` (and ``code``, when given)."""
        for row in self.rows:
            if row.problem.node == node and (not code or row.problem.code == code):
                return row
        return None

    def _activated(self, problem: Problem) -> None:
        if problem.node is not None:
            self.problemActivated.emit(problem.node)
