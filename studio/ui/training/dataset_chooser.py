"""Choosing the data set: built-in sets and the person's own files, their
options, a one-line description and a preview.

The choice is stored in the document (``training.dataset``) through the same
undoable command as the other settings; the loaded ``Dataset`` is kept here
for the preview, the pre-flight check and the decision-boundary points.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit,
    QProgressBar, QPushButton, QSpinBox, QVBoxLayout, QWidget,
)

from blocks import Param
from studio.graph import Graph, GraphEvent

from .. import torch_loader
from .background_load import BackgroundLoad
from .commands import SetTrainingCommand
from .dataset_preview import DatasetPreview


# What each kind of file looks like in the file dialog; an image folder is chosen as a folder.
FILE_FILTERS = {
    "csv": "CSV tables (*.csv *.tsv *.txt);;All files (*)",
    "npz": "NumPy arrays (*.npz);;All files (*)",
    "text": "Text files (*.txt *.md *.csv);;All files (*)",
}


def own_kind(dataset: str) -> str:
    """What a person's data set of this name is read from: "folder" or "file"."""
    return "folder" if dataset == "image_folder" else "file"


def ask_data_path(parent: QWidget, dataset: str, start: str) -> str:
    """The person's choice of a data file (or folder); "" when they cancel."""
    if own_kind(dataset) == "folder":
        return QFileDialog.getExistingDirectory(parent, "Choose the image folder (one sub-folder per class)", start)
    path, _ = QFileDialog.getOpenFileName(parent, f"Choose the {dataset} file", start,
                                          FILE_FILTERS.get(dataset, "All files (*)"))
    return path


# How long the window waits for a load before it shows the loading bar and goes on answering.
QUICK_LOAD_S = 0.5
# The loading bar's resolution.
PROGRESS_STEPS = 1000


class DatasetChooser(QWidget):
    datasetLoaded = Signal(object)  # studio.data.Dataset, or None when it failed to load
    grantsChanged = Signal(list)  # paths outside the graph's folder the person allowed it to read
    loadingStarted = Signal(str)  # a person's file is being read (its path as written)

    def __init__(self, graph: Graph, undo_stack: QUndoStack, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from studio.data import catalog

        self.graph = graph
        self.undo_stack = undo_stack
        self.base_dir: Path | None = None
        self.dataset = None
        self.error: str | None = None
        self.waiting_for: str | None = None  # "file" or "folder": a person's data set, none chosen yet
        self._infos = {i.name: i for i in catalog()}
        self._syncing = False
        self._loaded_spec: dict[str, Any] | None = None
        self._options_of: str | None = None  # the data set whose option widgets are shown
        self._rebuild_pending = False
        self._loading_what = ""  # the file being read, as the person wrote it
        self._in_option_signal = False
        self._pending_spec: dict[str, Any] | None = None  # waits for the start-up loader's imports
        # The person's own files load on a thread; built-in sets are made in milliseconds here.
        self.background = BackgroundLoad(self)
        self.granted: list[str] = []  # outside the folder, allowed for this document
        # Asks whether the graph may read a path outside its folder (the window sets it);
        # None: refused, with the message.
        self.ask_outside: Callable[[Any], bool] | None = None

        self.name_box = QComboBox()
        self.name_box.setObjectName("training.dataset.name")
        builtins = [i for i in self._infos.values() if i.source == "builtin"]
        files = [i for i in self._infos.values() if i.source != "builtin"]
        for info in builtins:
            self.name_box.addItem(info.name, info.name)
            self.name_box.setItemData(self.name_box.count() - 1, info.doc, 3)  # tooltip role
        if files:
            self.name_box.insertSeparator(self.name_box.count())
            for info in files:
                self.name_box.addItem(f"{info.name} (your {own_kind(info.name)})", info.name)
                self.name_box.setItemData(self.name_box.count() - 1, info.doc, 3)
        self.name_box.currentIndexChanged.connect(self._on_name)
        self.options_group = QGroupBox("Options")
        self.options_form = QFormLayout(self.options_group)
        self.option_widgets: dict[str, QWidget] = {}
        self.describe_label = QLabel()
        self.describe_label.setWordWrap(True)
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #b00020;")
        self.error_label.hide()
        self.suggestion_label = QLabel()
        self.suggestion_label.setObjectName("hint")
        self.suggestion_label.setWordWrap(True)
        self.suggestion_label.hide()
        self.preview = DatasetPreview()
        self.busy = QProgressBar()
        self.busy.setObjectName("dataset_loading")
        self.busy.setRange(0, 0)  # moving to and fro until the loader says how far it is
        self.busy.setTextVisible(False)
        self.busy.setMaximumHeight(8)
        self.busy.hide()

        top = QHBoxLayout()
        top.addWidget(QLabel("Data set:"))
        top.addWidget(self.name_box, 1)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addLayout(top)
        box.addWidget(self.busy)  # right under the choice, where the person is looking
        box.addWidget(self.options_group)
        box.addWidget(self.describe_label)
        box.addWidget(self.suggestion_label)
        box.addWidget(self.error_label)
        box.addWidget(self.preview, 1)
        self._unsubscribe = graph.subscribe(self._on_graph_event)
        self.destroyed.connect(lambda *_: self._unsubscribe())
        spec = self.spec()
        self._build_options(spec.get("name"), spec)
        self.refresh()

    def set_graph(self, graph: Graph, undo_stack: QUndoStack, base_dir: str | Path | None = None,
                  granted: list[str] | None = None) -> None:
        """Another document (New, Open): the same widgets show its data set, read from its folder
        and the places outside it the person allowed for it."""
        self._unsubscribe()
        self.granted = list(granted or [])
        self.graph = graph
        self.undo_stack = undo_stack
        self._unsubscribe = graph.subscribe(self._on_graph_event)
        self.suggestion_label.hide()
        self.set_base_dir(base_dir)

    # ---- the document --------------------------------------------------
    def spec(self) -> dict[str, Any]:
        spec = self.graph.training.get("dataset")
        return copy.deepcopy(spec) if isinstance(spec, dict) else {}

    def _write(self, spec: dict[str, Any], key: str) -> None:
        training = copy.deepcopy(self.graph.training)
        training["dataset"] = spec
        self.undo_stack.push(SetTrainingCommand(self.graph, training, key=f"dataset.{key}"))

    def _on_graph_event(self, event: GraphEvent) -> None:
        if event.kind == "training_changed" and self.spec() != self._loaded_spec:
            self.refresh()

    def set_base_dir(self, base_dir: str | Path | None) -> None:
        """The graph file's folder: relative data paths are read from there."""
        self.base_dir = Path(base_dir) if base_dir is not None else None
        self._loaded_spec = None
        self.refresh()

    @property
    def reach(self):
        """Where this document's data may be read: its folder and what the person allowed."""
        from studio.files.reach import Reach

        return Reach.of(self.base_dir, self.granted)

    @property
    def loading(self) -> bool:
        return self.background.busy or self._pending_spec is not None

    def _grant(self, path: str) -> None:
        if path not in self.granted:
            self.granted.append(path)
            self.grantsChanged.emit(list(self.granted))

    # ---- editing -------------------------------------------------------
    def _on_name(self, _index: int) -> None:
        if self._syncing:
            return
        name = self.name_box.currentData()
        if not name or name == self.spec().get("name"):
            return
        from studio.training.suggestions import describe, with_dataset

        # A graph whose settings nobody touched takes the data set's suggested ones, in the same edit.
        training, applied = with_dataset(self.graph.training, {"name": name})
        text = f"Choose data set {name}" + (" with its suggested settings" if applied else "")
        self.undo_stack.push(SetTrainingCommand(self.graph, training, key="dataset.name", text=text))
        if applied:
            self.suggestion_label.setText(f"Settings suggested for {name}: {describe(training)}. "
                                          "Change any of them below.")
        self.suggestion_label.setVisible(applied)

    def _on_option(self, param: Param, value: Any) -> None:
        if self._syncing:
            return
        spec = self.spec() or {"name": self.name_box.currentData()}
        if spec.get(param.name, param.default) == value:
            return
        spec[param.name] = value
        self._in_option_signal = True
        try:
            self._write(spec, param.name)
        finally:
            self._in_option_signal = False

    def _browse(self, param: Param) -> None:
        path = ask_data_path(self, self.spec().get("name") or "", str(self.base_dir or Path.cwd()))
        if not path:
            return
        # Inside the graph's folder the path is kept relative, so the graph and its data move together.
        inside = False
        if self.base_dir is not None:
            try:
                path = Path(path).resolve().relative_to(self.base_dir.resolve()).as_posix()
                inside = True
            except ValueError:
                pass
        if not inside:  # chosen by the person: that is their say to read outside the folder
            self._grant(str(Path(path).resolve()))
        self._on_option(param, str(path))

    # ---- showing -------------------------------------------------------
    def refresh(self) -> None:
        spec = self.spec()
        name = spec.get("name")
        self._syncing = True
        try:
            index = self.name_box.findData(name) if name else -1
            self.name_box.setCurrentIndex(index)
            if name == self._options_of:
                self._show_values(name, spec)
            elif self._in_option_signal:
                # Not now: this runs inside a signal of an option widget that a rebuild would
                # delete (a spin box's valueChanged as it loses focus), and Qt then crashes.
                self._schedule_rebuild()
            else:
                self._build_options(name, spec)
        finally:
            self._syncing = False
        self._load(spec)

    def _schedule_rebuild(self) -> None:
        if not self._rebuild_pending:
            self._rebuild_pending = True
            QTimer.singleShot(0, self, self._rebuild_options)

    def _rebuild_options(self) -> None:
        self._rebuild_pending = False
        spec = self.spec()
        self._syncing = True
        try:
            self._build_options(spec.get("name"), spec)
        finally:
            self._syncing = False

    def _build_options(self, name: str | None, spec: dict[str, Any]) -> None:
        while self.options_form.rowCount():
            row = self.options_form.takeRow(0)
            for item in (row.labelItem, row.fieldItem):
                if item is not None and item.widget() is not None:
                    item.widget().hide()
                    item.widget().deleteLater()
        self.option_widgets = {}
        self._options_of = name
        info = self._infos.get(name) if name else None
        self.options_group.setVisible(info is not None and bool(info.options))
        if info is None:
            return
        for p in info.options:
            w = self._option_widget(p, spec.get(p.name, p.default))
            w.setObjectName(f"training.dataset.{p.name}")
            w.setToolTip(p.doc)
            self.option_widgets[p.name] = w
            self.options_form.addRow(p.name.replace("_", " "), w)

    def _show_values(self, name: str | None, spec: dict[str, Any]) -> None:
        """Put the document's values into the option widgets in place: nothing is deleted."""
        info = self._infos.get(name) if name else None
        for p in info.options if info is not None else ():
            w = self.option_widgets.get(p.name)
            value = spec.get(p.name, p.default)
            if isinstance(w, QComboBox):
                w.setCurrentText(str(value))
            elif isinstance(w, QCheckBox):
                w.setChecked(bool(value))
            elif isinstance(w, QSpinBox):
                w.setValue(int(value or 0))
            elif isinstance(w, QDoubleSpinBox):
                w.setValue(float(value or 0.0))
            elif w is not None:
                line = getattr(w, "line", w)
                text = "" if value is None else str(value)
                if line.text() != text:
                    line.setText(text)

    def _option_widget(self, p: Param, value: Any) -> QWidget:
        if p.kind == "choice":
            w = QComboBox()
            w.addItems([str(c) for c in p.choices])
            w.setCurrentText(str(value))
            w.currentTextChanged.connect(lambda t, p=p: self._on_option(p, t))
            return w
        if p.kind == "bool":
            w = QCheckBox()
            w.setChecked(bool(value))
            w.toggled.connect(lambda on, p=p: self._on_option(p, bool(on)))
            return w
        if p.kind == "int":
            w = QSpinBox()
            w.setRange(int(p.min if p.min is not None else -10**9), int(p.max if p.max is not None else 10**9))
            w.setGroupSeparatorShown(True)  # 4,000 points
            w.setKeyboardTracking(False)
            w.setValue(int(value or 0))
            w.valueChanged.connect(lambda v, p=p: self._on_option(p, int(v)))
            return w
        if p.kind == "float":
            w = QDoubleSpinBox()
            w.setDecimals(4)
            w.setRange(float(p.min if p.min is not None else -1e9), float(p.max if p.max is not None else 1e9))
            w.setSingleStep(0.05)
            w.setKeyboardTracking(False)
            w.setValue(float(value or 0.0))
            w.valueChanged.connect(lambda v, p=p: self._on_option(p, round(float(v), 6)))
            return w
        line = QLineEdit("" if value is None else str(value))
        line.editingFinished.connect(lambda p=p, line=line: self._on_option(p, line.text().strip() or None))
        if p.name in ("path", "file", "folder"):
            row = QWidget()
            h = QHBoxLayout(row)
            h.setContentsMargins(0, 0, 0, 0)
            h.addWidget(line, 1)
            browse = QPushButton("Browse…")
            browse.clicked.connect(lambda _=False, p=p: self._browse(p))
            h.addWidget(browse)
            row.line = line  # the editor, for whoever needs the text
            return row
        return line

    def _load(self, spec: dict[str, Any]) -> None:
        self._loaded_spec = copy.deepcopy(spec)
        self.dataset = None
        self.error = None
        self.waiting_for = None
        self.background.cancel()
        self._pending_spec = None
        self.busy.hide()
        self.busy.setRange(0, 0)
        self._loading_what = ""
        if not spec:
            self.describe_label.setText("Choose a data set to train on.")
            self.error_label.hide()
            self.preview.show_message("No data set chosen yet.")
            self.datasetLoaded.emit(None)
            return
        info = self._infos.get(spec.get("name"))
        if info is not None and info.source != "builtin" and not spec.get("path"):
            # Not an error yet: the person has only just picked "your file".
            what = own_kind(spec["name"])
            self.error = f"{spec['name']}: no {what} chosen yet (Browse… next to path)"  # listed under "data set"
            self.waiting_for = what
            self.error_label.hide()
            self.describe_label.setText(f"{info.doc}\n\nChoose your {what} with Browse… next to path.")
            self.preview.show_message(f"Your {what} is previewed here once chosen.")
            self.datasetLoaded.emit(None)
            return
        reach = self.reach
        shown = spec.get("path") or spec.get("name")
        kind = info.source if info is not None and info.source == "builtin" else spec.get("name")
        if not torch_loader.ready() and any(name in torch_loader.MODULES and name not in sys.modules
                                            for name in _FIRST_IMPORTS.get(kind or "", ())):
            # Importing scikit-learn here (seconds) while the start-up loader imports torch froze
            # the window on an example opened right after start: the loader imports it as well.
            self._pending_spec = spec
            self._show_loading(str(shown))
            torch_loader.when_loaded(self, self._load_pending)
            return
        _import_first(kind)
        self._loading_what = str(shown)
        self.background.start(lambda report: _load_with_preview(spec, reach, report),
                              lambda result: self._loaded(spec, result), progress=self._progress)
        # Most loads (a built-in set, a small file) end within a blink: shown at once, as if loaded
        # here. A longer one goes on while the window answers, with the loading bar.
        if self.background.wait(QUICK_LOAD_S):
            return
        self._show_loading(str(shown))

    def _show_loading(self, shown: str) -> None:
        self.error_label.hide()
        self.describe_label.setText(f"Loading {shown}…")
        self.preview.show_message(f"Loading {shown}…")
        self.busy.show()
        self.loadingStarted.emit(shown)

    def _load_pending(self) -> None:
        if self._pending_spec is not None:
            self._load(self._pending_spec)

    def _progress(self, fraction: float, done: int, unit: str) -> None:
        """How far the load is, on the window's thread: the bar fills, the line says the count."""
        if self.busy.isHidden():
            return  # a quick load: nothing was shown
        if fraction > 0:
            self.busy.setRange(0, PROGRESS_STEPS)
            self.busy.setValue(int(fraction * PROGRESS_STEPS))
        what = f"Loading {self._loading_what}… {done:,} {unit}"
        self.describe_label.setText(f"{what} ({fraction:.0%})" if fraction > 0 else what)

    def _loaded(self, spec: dict[str, Any], result: Any) -> None:
        """A load ended, here or on its thread: ``(dataset, preview)`` or the exception."""
        self.busy.hide()
        self.busy.setRange(0, 0)
        if isinstance(result, BaseException):
            from studio.data import DataOutsideFolder

            if isinstance(result, DataOutsideFolder) and self.ask_outside is not None \
                    and self.ask_outside(result.outside):
                self._grant(str(result.outside.resolved))
                self._load(spec)
                return
            self.error = str(result)
            self.error_label.setText(self.error)
            self.error_label.show()
            self.describe_label.setText("")
            self.preview.show_message("The data set could not be loaded.")
            self.datasetLoaded.emit(None)
            return
        self.dataset, preview = result
        self.error_label.hide()
        self.describe_label.setText(self.dataset.describe())
        if isinstance(preview, BaseException):  # a preview must never block training
            self.preview.show_message(f"No preview: {preview}")
        else:
            self.preview.show_preview(preview)
        self.datasetLoaded.emit(self.dataset)


# Modules a load needs are imported here, on the window's thread, before the load starts on
# another: a first import of a compiled extension (scikit-learn's) on the loading thread while
# this one built plot widgets deadlocked the process once (the dynamic loader's lock against
# Python's). Each is imported once per process.
_FIRST_IMPORTS = {"builtin": ("studio.data", "sklearn.datasets"), "image_folder": ("studio.data", "PIL.Image"),
                  "csv": ("studio.data", "pandas")}


def _import_first(kind: str | None) -> None:
    import importlib

    for name in _FIRST_IMPORTS.get(kind or "", ("studio.data",)):
        importlib.import_module(name)


def _preview(dataset) -> Any:
    try:
        return dataset.preview(256)
    except Exception as exc:
        return exc


def _load_with_preview(spec: dict[str, Any], reach, report=None) -> tuple[Any, Any]:
    from studio.data import load_dataset

    dataset = load_dataset(spec, reach, progress=report)
    return dataset, _preview(dataset)
