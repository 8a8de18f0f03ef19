"""The Lessons panel: the curriculum, one lesson at a time, with its example and experiments.

A lesson opens its example, brings forward the view to watch and says what to watch.
Each experiment is one undoable edit (the window's ``apply_fix``); most then start a
run, and when it ends the Runs tab overlays the run before the edit and the one after.
The texts are English, with Chinese alongside when the person chose Chinese.
"""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QFrame, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton,
                               QScrollArea, QSizePolicy, QVBoxLayout, QWidget)
from shiboken6 import isValid

from studio.lessons import Experiment, Lesson, lessons

from .fonts import show_chinese

LANGUAGES = (("en", "English"), ("zh", "English + 中文"))


def lesson_html(texts: dict[str, str], language: str) -> str:
    """The English text, and the Chinese one below it when the person reads Chinese."""
    out = f"<p>{html.escape(texts['en'])}</p>"
    if language == "zh" and texts.get("zh"):
        out += f"<p>{html.escape(texts['zh'])}</p>"
    return out


def title_text(texts: dict[str, str], language: str) -> str:
    if language == "zh" and texts.get("zh"):
        return f"{texts['en']} · {texts['zh']}"
    return texts["en"]


class ElidedButton(QPushButton):
    """A button whose text ends in "…" when the dock is narrower than it; the whole text is its
    tooltip."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.full_text = text
        self.setToolTip(text)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(60)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        room = max(0, self.width() - 16)
        self.setText(self.fontMetrics().elidedText(self.full_text, Qt.TextElideMode.ElideRight, room))


class LessonsPanel(QWidget):
    """Lists the lessons; the chosen one's text, its example and its experiments."""

    languageChanged = Signal(str)

    def __init__(self, window: Any, language: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.window = window
        self.lessons: list[Lesson] = lessons()
        self.language = language if language in dict(LANGUAGES) else "en"
        self.active: Lesson | None = None  # the lesson whose example the window shows
        self._graph_of_active = None  # the document the lesson opened: another one ends the lesson
        self._pending: Experiment | None = None  # an experiment waiting for a run to stop
        self._before_run = 0  # the run an experiment's run is compared with
        self._runs_before_lesson = 0  # runs of earlier documents: never compared with this lesson's
        self._compare_after: int | None = None
        self._shown: Lesson | None = None  # the lesson whose text the panel shows

        self.language_box = QComboBox()
        for code, name in LANGUAGES:
            self.language_box.addItem(name, code)
        self.language_box.setCurrentIndex([c for c, _ in LANGUAGES].index(self.language))
        self.language_box.currentIndexChanged.connect(self._on_language)
        self.list = QListWidget()
        self.list.setObjectName("lessonList")
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.currentRowChanged.connect(self._show_row)
        self.list.itemActivated.connect(lambda _item: self.start())
        self.list.itemDoubleClicked.connect(lambda _item: self.start())

        self.title = QLabel()
        self.title.setWordWrap(True)
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.watch = QLabel()
        self.watch.setWordWrap(True)
        self.watch.setTextFormat(Qt.TextFormat.RichText)
        self.start_button = QPushButton("Open the example")
        self.start_button.clicked.connect(self.start)
        self.train_button = QPushButton("Train")
        self.train_button.setToolTip("Train the example as it is: the run the experiments are compared with")
        self.train_button.clicked.connect(self._train_now)
        self.experiments_box = QVBoxLayout()
        self.experiments_box.setContentsMargins(0, 0, 0, 0)
        self.experiment_buttons: list[ElidedButton] = []
        self.outcome = QLabel()
        self.outcome.setWordWrap(True)
        self.outcome.setTextFormat(Qt.TextFormat.RichText)
        self.outcome.setObjectName("hint")
        self.compare_button = QPushButton("Show the runs overlaid")
        self.compare_button.clicked.connect(self._show_runs)
        self.compare_button.hide()

        detail = QWidget()
        box = QVBoxLayout(detail)
        box.addWidget(self.title)
        box.addWidget(self.watch)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.train_button)
        buttons.addStretch(1)
        box.addLayout(buttons)
        experiments_label = QLabel("Experiments")
        experiments_label.setObjectName("hint")
        box.addWidget(experiments_label)
        box.addLayout(self.experiments_box)
        box.addWidget(self.outcome)
        box.addWidget(self.compare_button)
        box.addStretch(1)
        self.scroll = scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(detail)

        top = QHBoxLayout()
        top.addWidget(QLabel("Texts:"))
        top.addWidget(self.language_box, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.list, 2)
        layout.addWidget(scroll, 5)
        show_chinese(self)  # its texts' Chinese shows on a machine without a CJK font too
        self._fill_list()
        if self.lessons:
            self.list.setCurrentRow(0)

    # ---- what is shown ----------------------------------------------------
    @property
    def current(self) -> Lesson | None:
        row = self.list.currentRow()
        return self.lessons[row] if 0 <= row < len(self.lessons) else None

    def _fill_list(self) -> None:
        row = self.list.currentRow()
        self.list.blockSignals(True)
        self.list.clear()
        for i, lesson in enumerate(self.lessons, 1):
            item = QListWidgetItem(f"{i}. {title_text(lesson.title, self.language)}")
            item.setToolTip(lesson.example)
            self.list.addItem(item)
        self.list.blockSignals(False)
        if row >= 0:
            self.list.setCurrentRow(row)

    def show_lesson(self, lesson_id: str) -> None:
        """Select a lesson in the list (its text shows; the example opens with ``start``)."""
        for row, lesson in enumerate(self.lessons):
            if lesson.id == lesson_id:
                self.list.setCurrentRow(row)
                return
        raise KeyError(lesson_id)

    def _show_row(self, _row: int) -> None:
        lesson = self.current
        if lesson is None:
            return
        if lesson is not self._shown:  # another lesson is read from its title, not scrolled to where the last was
            self._shown = lesson
            self.scroll.verticalScrollBar().setValue(0)
        self.title.setText(title_text(lesson.title, self.language))
        self.watch.setText(lesson_html(lesson.watch, self.language))
        self.start_button.setText("Open the example again" if lesson is self.active else "Open the example")
        # Buttons go later: a row change can come from a click on one of them.
        for button in self.experiment_buttons:
            button.hide()
            button.deleteLater()
        self.experiment_buttons = []
        for experiment in lesson.experiments:
            button = ElidedButton(title_text(experiment.title, self.language))
            button.clicked.connect(lambda _=False, e=experiment: self.try_experiment(e))
            self.experiments_box.addWidget(button)
            self.experiment_buttons.append(button)
        if lesson is not self.active:
            self.outcome.setText("")
            self.compare_button.hide()

    def _on_language(self, index: int) -> None:
        self.language = self.language_box.itemData(index)
        self._fill_list()
        self._show_row(self.list.currentRow())
        self.languageChanged.emit(self.language)

    # ---- doing -------------------------------------------------------------
    def _panel(self):
        panel = getattr(self.window, "training_panel", None)
        return panel if panel is not None and isValid(panel) else None

    def start(self) -> bool:
        """Open the chosen lesson's example and bring its view forward."""
        lesson = self.current
        if lesson is None or not self.window.open_example(lesson.example_path):
            return False
        self.active = lesson
        self._graph_of_active = self.window.editor.document
        panel = self._panel()
        self._runs_before_lesson = panel.runs if panel is not None else 0
        self._show_row(self.list.currentRow())
        self.outcome.setText(lesson_html({"en": "Press Train, watch, then try an experiment.",
                                          "zh": "按“Train”训练并观察，然后试一个实验。"}, self.language))
        self.compare_button.hide()
        self.show_view(lesson.view)
        return True

    def show_view(self, tab_text: str) -> bool:
        panel = self._panel()
        if panel is None:
            return False
        tabs = panel.views
        for i in range(tabs.count()):
            if tabs.tabText(i) == tab_text and tabs.isTabVisible(i):
                tabs.setCurrentIndex(i)
                return True
        return False

    def _lesson_is_open(self) -> bool:
        return self.active is self.current and self.window.editor.document is self._graph_of_active

    def _train_now(self) -> None:
        if not self._lesson_is_open() and not self.start():
            return
        panel = self._panel()
        if panel is not None and not panel.running:
            panel.reset_weights()  # from a fresh start, as the experiments' runs are
            panel.train()

    def try_experiment(self, experiment: Experiment) -> bool:
        """Apply one experiment as one undo step (opening the lesson's example first if another
        document is shown), then train when the experiment says so."""
        if not self._lesson_is_open() and not self.start():
            return False
        reason = self.window.apply_fix(experiment.fix)
        if reason is not None:
            self.outcome.setText(f"<p>Not applied: {html.escape(reason)}</p>")
            return False
        text = lesson_html(experiment.expect, self.language) if experiment.expect else ""
        self.outcome.setText(f"<p><b>{html.escape(title_text(experiment.title, self.language))}</b> (Ctrl+Z undoes it)</p>{text}")
        self.compare_button.hide()
        self.scroll.ensureWidgetVisible(self.outcome)
        if experiment.train:
            panel = self._panel()
            if panel is None:
                return True
            if panel.running:  # the run of the graph before the edit ends first
                self._pending = experiment
                panel.runFinished.connect(self._after_stop, Qt.ConnectionType.UniqueConnection)
                panel.stop()
            else:
                self._train_after_edit(panel)
        return True

    def _after_stop(self, _status: str) -> None:
        panel = self._panel()
        if panel is None:
            return
        panel.runFinished.disconnect(self._after_stop)
        if self._pending is not None:
            self._pending = None
            self._train_after_edit(panel)

    def _train_after_edit(self, panel) -> None:
        # The run before the edit is compared only when it trained this lesson's example.
        before = panel.runs if panel.runs > self._runs_before_lesson else 0
        # From a fresh start, not from the last run's weights: before and after then differ by the
        # edit alone, and what the lesson says to expect is what a new network does.
        panel.reset_weights()
        if panel.train():
            self._before_run = before
            self._compare_after = panel.runs
            panel.runFinished.connect(self._on_run_finished, Qt.ConnectionType.UniqueConnection)

    def _on_run_finished(self, _status: str) -> None:
        panel = self._panel()
        if panel is None:
            return
        panel.runFinished.disconnect(self._on_run_finished)
        after, before = self._compare_after, self._before_run
        self._compare_after = None
        if after is None:
            return
        if before < 1:
            self.outcome.setText(self.outcome.text() + lesson_html(
                {"en": "Nothing to compare it with: press Train before an experiment to have a run of the "
                       "example as it was.",
                 "zh": "没有可以比较的训练：先按“Train”训练原来的例子，再做实验。"}, self.language))
            return
        panel.history_view.compare([before, after])
        self.compare_button.setText(f"Show run {before} and run {after} overlaid")
        self.compare_button.show()
        self.scroll.ensureWidgetVisible(self.compare_button)

    def _show_runs(self) -> None:
        panel = self._panel()
        if panel is not None:
            panel.views.setCurrentWidget(panel.history_view)
