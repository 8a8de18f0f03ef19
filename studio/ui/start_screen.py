"""What the canvas shows when the app starts with nothing open: where to begin.

Lessons first (the curriculum), then the ways to start on one's own: a block from
the palette, an example, a file. It goes for good the moment the person starts:
a block placed or dragged in, a file or lesson opened, a press beside it or a key
(but Tab, the arrows and Enter, which reach its buttons from the canvas).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from shiboken6 import isValid

from studio.lessons import lessons

from .fonts import show_chinese
from .lessons import ElidedButton, title_text

COLUMNS = 2


class StartScreen(QFrame):
    lessonChosen = Signal(str)  # lesson id
    allLessons = Signal()
    openFile = Signal()

    def __init__(self, parent: QWidget, language: str = "en") -> None:
        super().__init__(parent)
        self.setObjectName("startScreen")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.dismissed = False
        box = QVBoxLayout(self)
        box.setContentsMargins(24, 18, 24, 18)
        heading = QLabel("Start with a lesson")
        font = heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        heading.setFont(font)
        box.addWidget(heading)
        hint = QLabel("Each lesson opens an example, says what to watch while it trains, and offers "
                      "experiments you can undo.")
        hint.setWordWrap(True)
        hint.setObjectName("hint")
        box.addWidget(hint)
        grid = QGridLayout()
        self.lesson_buttons: dict[str, QPushButton] = {}
        for i, lesson in enumerate(lessons()):
            button = ElidedButton(f"{i + 1}. {title_text(lesson.title, language)}")
            button.setStyleSheet("text-align: left; padding: 4px 8px;")
            button.clicked.connect(lambda _=False, lid=lesson.id: self.lessonChosen.emit(lid))
            grid.addWidget(button, i // COLUMNS, i % COLUMNS)
            self.lesson_buttons[lesson.id] = button
        if language == "zh":  # the titles carry Chinese: the bundled font draws it
            show_chinese(self)
        box.addLayout(grid)
        self.all_button = QPushButton("All lessons…")
        self.all_button.clicked.connect(self.allLessons.emit)
        box.addWidget(self.all_button, 0, Qt.AlignmentFlag.AlignLeft)
        own = QLabel("Or build your own: drag a block from the palette onto the canvas (or double-click the "
                     "canvas and type its name), open one from File ▸ Examples, or open a graph file.")
        own.setWordWrap(True)
        own.setObjectName("hint")
        box.addWidget(own)
        self.open_button = QPushButton("Open a file…")
        self.open_button.clicked.connect(self.openFile.emit)
        box.addWidget(self.open_button, 0, Qt.AlignmentFlag.AlignLeft)

    def buttons(self) -> list[QPushButton]:
        """In reading order: the lessons, row by row, then "All lessons…" and "Open a file…"."""
        return [*self.lesson_buttons.values(), self.all_button, self.open_button]

    def step_focus(self, key: int) -> None:
        """Tab, Shift+Tab or an arrow from the canvas or a button: the focus to the next button
        that way (Up and Down a row of the lessons' grid); from outside, to the first lesson."""
        buttons = self.buttons()
        focused = next((i for i, b in enumerate(buttons) if b.hasFocus()), None)
        if focused is None:
            at = 0
        else:
            step = {Qt.Key.Key_Down: COLUMNS, Qt.Key.Key_Up: -COLUMNS, Qt.Key.Key_Left: -1,
                    Qt.Key.Key_Backtab: -1}.get(Qt.Key(key), 1)
            lessons_end = len(self.lesson_buttons)
            if abs(step) == COLUMNS and not (0 <= focused + step < lessons_end):
                step //= COLUMNS  # off the grid's top or bottom: on to the neighbouring button
            at = min(max(focused + step, 0), len(buttons) - 1)
        buttons[at].setFocus(Qt.FocusReason.TabFocusReason)

    def press_focused(self) -> bool:
        """Enter on a focused button clicks it (outside a dialog a button takes only Space)."""
        button = next((b for b in self.buttons() if b.hasFocus()), None)
        if button is not None:
            button.click()
        return button is not None

    def dismiss(self) -> None:
        """Away for good: the person has started."""
        self.dismissed = True
        self.hide()

    def place(self) -> None:
        """Centred over its parent (the canvas), at most 640 wide."""
        parent = self.parentWidget()
        if parent is None:
            return
        width = min(640, max(320, parent.width() - 40))
        self.setFixedWidth(width)
        self.adjustSize()
        self.move(max(0, (parent.width() - width) // 2), max(0, (parent.height() - self.height()) // 3))


class _CanvasEvents(QObject):
    """Keeps the screen centred, and puts it away once the person works on the canvas: a press
    beside it, a block dragged in, a key. Tab and the arrows move among its buttons instead, and
    Enter presses the one in focus, so the keyboard alone can start a lesson."""

    GONE_ON = (QEvent.Type.MouseButtonPress, QEvent.Type.DragEnter, QEvent.Type.KeyPress)
    TABS = (Qt.Key.Key_Tab, Qt.Key.Key_Backtab)
    ARROWS = (Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_Left, Qt.Key.Key_Right)
    PRESSES = (Qt.Key.Key_Return, Qt.Key.Key_Enter)

    def __init__(self, screen: StartScreen) -> None:
        super().__init__(screen)
        self.screen = screen

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt name)
        on_button = obj in self.screen.buttons()
        if on_button and event.type() != QEvent.Type.KeyPress:
            return False  # a button's own: a press on it is its click
        if event.type() == QEvent.Type.Resize:
            self.screen.place()
            return False
        if event.type() == QEvent.Type.KeyPress and self.screen.isVisible() and \
                not event.modifiers() & ~Qt.KeyboardModifier.ShiftModifier:
            # Tab on a button goes on along the window's focus chain, out of the screen too.
            if event.key() in self.ARROWS or (event.key() in self.TABS and not on_button):
                self.screen.step_focus(event.key())
                return True
            if event.key() in self.PRESSES and self.screen.press_focused():
                return True
        if on_button:
            return False  # its own (Space presses it)
        if event.type() in self.GONE_ON and self.screen.isVisible():
            self.screen.dismiss()
        return False

def install(window: Any) -> StartScreen:
    """Put the start screen over ``window``'s canvas; it shows while the document is new and empty."""
    viewport = window.view.viewport()
    screen = StartScreen(viewport, getattr(window.settings, "language", "en"))
    events = _CanvasEvents(screen)
    viewport.installEventFilter(events)
    window.view.installEventFilter(events)
    for button in screen.buttons():  # a button moves the focus on an arrow itself, in creation order
        button.installEventFilter(events)
    screen.lessonChosen.connect(window.open_lesson)
    screen.allLessons.connect(window.show_lessons)
    screen.openFile.connect(window.open_dialog)

    def follow() -> None:
        if not isValid(screen) or screen.dismissed:
            return
        if window.path is None and len(window.editor.document) == 0 and not window.is_modified():
            screen.show()
            screen.place()
            screen.raise_()
        else:
            screen.dismiss()

    # Scrolling the canvas moves the viewport's children with it: the screen stays where place() puts it.
    for bar in (window.view.horizontalScrollBar(), window.view.verticalScrollBar()):
        bar.valueChanged.connect(lambda _v: screen.place() if isValid(screen) and screen.isVisible() else None)
    window.editor.undo_stack.indexChanged.connect(lambda _i: follow())
    window.editor.graph_replaced.connect(lambda _g: follow())
    follow()
    return screen
