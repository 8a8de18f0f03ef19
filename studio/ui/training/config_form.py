"""The training settings of the graph, as a form.

Every change is an undoable edit of the document (``graph.set_training``
through ``SetTrainingCommand`` on the window's undo stack) and so is saved in
the graph file. Only the key a person changed is written, so the file keeps
their choices and not a wall of defaults. The form follows the document: an
undo elsewhere refreshes it, and its own writes do not echo back.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QFormLayout, QGroupBox, QLabel, QLineEdit, QScrollArea, QSpinBox,
    QVBoxLayout, QWidget,
)

from studio.graph import Graph, GraphEvent
from studio.training.config import ConfigError, Limit, TrainingConfig
from studio.training.settings_fields import find

from .. import torch_loader
from ..field_cell import FieldCell, mark_invalid
from .commands import SetTrainingCommand
from .schedule_plot import SchedulePlot


LOADING_DEVICE = "…"  # while torch loads at start-up: which devices there are is not known yet

# The settings the dock shows, in its order. What each one is (label, help, kind, bounds, choices,
# when it applies) comes from its declaration in studio.training.config.
FORM_KEYS = (
    "task", "loss", "optimizer.name", "optimizer.lr", "optimizer.momentum",
    "schedule.name", "schedule.step_size", "schedule.gamma", "schedule.min_lr", "schedule.warmup_epochs",
    "schedule.max_lr", "batch_size", "epochs", "weight_decay", "l1", "grad_clip",
    "early_stopping.enabled", "early_stopping.patience", "seed", "checkpoint.enabled", "checkpoint.every",
    "device", "precision",
)
# A declared kind -> the widget kind that edits it; a null-able number is an optfloat (empty: null).
WIDGET_KINDS = {"choice": "choice", "whole": "int", "number": "float", "bool": "bool"}


@dataclass(frozen=True)
class Field:
    path: tuple[str, ...]  # keys in graph.training
    label: str
    kind: str  # choice, int, float, optfloat, bool
    choices: tuple[str, ...] = ()
    tip: str = ""
    limit: Limit | None = None


def form_field(key: str) -> Field:
    """The form's field for the setting ``key`` (``optimizer.lr``), from its declaration."""
    spec = find(TrainingConfig, key)
    kind = WIDGET_KINDS[spec.kind]
    if spec.optional:
        if kind != "float":
            raise TypeError(f"{key}: the form edits no null-able {spec.kind}")
        kind = "optfloat"
    s, limit = spec.setting, spec.limit
    tip = s.help if limit is None else f"{s.help} Range: {limit.low_text} and {limit.high_text}."
    return Field(tuple(key.split(".")), s.label, kind, s.choices, tip, limit)


def shown_when(fields: tuple[Field, ...]) -> dict[tuple[str, ...], tuple[tuple[str, ...], tuple[Any, ...]]]:
    """Path -> (path it depends on, values that show it), for the fields that apply only sometimes."""
    out = {}
    for f in fields:
        when = find(TrainingConfig, ".".join(f.path)).setting.when
        if when is not None:
            out[f.path] = ((*f.path[:-1], when[0]), when[1])
    return out


FIELDS = tuple(form_field(key) for key in FORM_KEYS)
# Fields shown only where they apply: path -> (path it depends on, values that show it).
SHOWN_WHEN = shown_when(FIELDS)


def get_path(d: dict[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        d = d[key]
    return d


def set_path(d: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """A copy of ``d`` with ``value`` at ``path`` (sections created as needed)."""
    out = copy.deepcopy(d)
    node = out
    for key in path[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[path[-1]] = value
    return out


def _format_float(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


class TrainingConfigForm(QWidget):
    configChanged = Signal(object)  # the TrainingConfig now in the document
    problem = Signal(str)  # a value refused, with its key

    def __init__(self, graph: Graph, undo_stack: QUndoStack, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.graph = graph
        self.undo_stack = undo_stack
        self.steps_per_epoch = 100  # until the data set is known
        self.widgets: dict[tuple[str, ...], QWidget] = {}
        self._rows: dict[tuple[str, ...], QLabel] = {}
        self._cells: dict[tuple[str, ...], QWidget] = {}
        self.field_errors: dict[tuple[str, ...], QLabel] = {}
        self._syncing = False
        self.error_label = QLabel()
        self.error_label.setStyleSheet("color: #b00020;")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        self.device_label = QLabel()

        group = QGroupBox("Training settings")
        form = QFormLayout(group)
        for f in FIELDS:
            w = self._make_widget(f)
            w.setObjectName("training." + ".".join(f.path))
            if f.tip:
                w.setToolTip(f.tip)
            label = QLabel(f.label)
            label.setBuddy(w)
            cell = FieldCell(w)  # a refused value is explained right under its field
            error = cell.error
            self.widgets[f.path] = w
            self._rows[f.path] = label
            self._cells[f.path] = cell
            self.field_errors[f.path] = error
            form.addRow(label, cell)
            if f.path == ("device",):
                form.addRow("", self.device_label)
        self.schedule_plot = SchedulePlot()
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(group)
        box.addWidget(self.schedule_plot)
        box.addWidget(self.error_label)
        self._unsubscribe = graph.subscribe(self._on_graph_event)
        self.destroyed.connect(lambda *_: self._unsubscribe())
        self.refresh()

    def set_graph(self, graph: Graph, undo_stack: QUndoStack) -> None:
        """Another document (New, Open): the same widgets show its settings."""
        self._unsubscribe()
        self.graph = graph
        self.undo_stack = undo_stack
        self._unsubscribe = graph.subscribe(self._on_graph_event)
        self.refresh()

    # ---- widgets -------------------------------------------------------
    def _make_widget(self, f: Field) -> QWidget:
        if f.kind == "choice":
            w = QComboBox()
            w.addItems(list(f.choices))
            w.currentTextChanged.connect(lambda text, f=f: self._edit(f, text))
        elif f.kind == "int":
            w = QSpinBox()
            # The setting's own limit (every whole-number limit is within a spin box's 32 bits).
            limit = f.limit
            w.setRange(int(limit.low) + int(limit.low_open), int(limit.high) - int(limit.high_open))
            w.setKeyboardTracking(False)  # one edit when typing ends, not one per digit
            w.setGroupSeparatorShown(True)  # 1,000 epochs
            w.valueChanged.connect(lambda v, f=f: self._edit(f, int(v)))
        elif f.kind == "bool":
            w = QCheckBox()
            w.toggled.connect(lambda on, f=f: self._edit(f, bool(on)))
        else:
            w = QLineEdit()
            w.editingFinished.connect(lambda f=f, w=w: self._edit_text(f, w))
        return w

    def _edit_text(self, f: Field, w: QLineEdit) -> None:
        text = w.text().strip()
        if not text and f.kind == "optfloat":
            self._edit(f, None)
            return
        try:
            value = float(text)
        except ValueError:
            self._refuse(f"training.{'.'.join(f.path)}: {text!r} is not a number", f)
            return
        self._edit(f, value)

    def _edit(self, f: Field, value: Any) -> None:
        if self._syncing:
            return
        try:
            current = get_path(self.config().to_dict(), f.path)
        except (KeyError, ConfigError):
            current = object()
        if current == value:
            return
        new = set_path(self.graph.training, f.path, value)
        try:
            TrainingConfig.from_dict(new)
        except ConfigError as exc:
            if not isinstance(self.widgets[f.path], QLineEdit):
                self.refresh()  # a box or a list cannot hold the refused value: show the document's
            self._refuse("; ".join(exc.problems), f)
            return
        self.error_label.hide()
        self._clear_field_error(f.path)
        self.undo_stack.push(SetTrainingCommand(self.graph, new, key=".".join(f.path)))

    def _refuse(self, message: str, f: Field | None = None) -> None:
        """Say why a value was refused: under its field (typed text kept, so nothing is lost), and
        for a value the form has no field for, under the form."""
        self.error_label.setText(message)
        self.problem.emit(message)
        if f is None:
            self.error_label.show()
            return
        self.error_label.hide()
        prefix = "training." + ".".join(f.path) + ": "
        error = self.field_errors[f.path]
        error.setText(message[len(prefix):] if message.startswith(prefix) else message)
        error.show()
        mark_invalid(self.widgets[f.path], True)
        self._reveal(self._cells[f.path])

    def _clear_field_error(self, path: tuple[str, ...]) -> None:
        error = self.field_errors[path]
        if error.isVisible() or error.text():
            error.clear()
            error.hide()
            mark_invalid(self.widgets[path], False)

    def _reveal(self, cell: QWidget) -> None:
        """Scroll the form so the field and its message are in view."""
        parent = self.parentWidget()
        while parent is not None and not isinstance(parent, QScrollArea):
            parent = parent.parentWidget()
        if isinstance(parent, QScrollArea):
            parent.ensureWidgetVisible(cell, 20, 40)

    # ---- following the document ----------------------------------------
    def config(self) -> TrainingConfig:
        return TrainingConfig.from_dict(self.graph.training)

    def _on_graph_event(self, event: GraphEvent) -> None:
        if event.kind == "training_changed":
            self.refresh()

    def refresh(self) -> None:
        try:
            cfg = self.config()
        except ConfigError as exc:  # a hand-edited file: show why, keep the widgets usable
            self._refuse("; ".join(exc.problems))
            cfg = TrainingConfig()
        values = cfg.to_dict()
        for path in self.field_errors:  # the document speaks now: a refused value is gone
            self._clear_field_error(path)
        self._syncing = True
        try:
            for f in FIELDS:
                w = self.widgets[f.path]
                v = get_path(values, f.path)
                if isinstance(w, QComboBox):
                    w.setCurrentText(str(v))
                elif isinstance(w, QSpinBox):
                    w.setValue(int(v))
                elif isinstance(w, QCheckBox):
                    w.setChecked(bool(v))
                else:
                    w.setText(_format_float(v))
            for path, (dep, shown) in SHOWN_WHEN.items():
                visible = get_path(values, dep) in shown
                self._cells[path].setVisible(visible)
                self._rows[path].setVisible(visible)
        finally:
            self._syncing = False
        if torch_loader.ready():
            self.device_label.setText(f"→ runs on {resolved_device(cfg.device)}")
            self.schedule_plot.show_config(cfg, self.steps_per_epoch)
        else:  # both need torch, which is loading off this thread: shown once it is there
            self.device_label.setText(f"→ runs on {LOADING_DEVICE}")
            torch_loader.when_loaded(self, self.refresh)
        self.configChanged.emit(cfg)

    def set_steps_per_epoch(self, steps: int) -> None:
        self.steps_per_epoch = max(1, int(steps))
        self.refresh()



def resolved_device(name: str) -> str:
    """What ``auto`` (or a named device) means on this machine, in words."""
    from studio.training.device import DeviceError, pick_device

    try:
        dev = pick_device(name)
    except DeviceError as exc:
        return f"unavailable ({exc})"
    if dev.type == "cuda":
        import torch

        return f"CUDA ({torch.cuda.get_device_name(dev)})"
    return {"mps": "MPS (Apple GPU)", "cpu": "CPU"}.get(dev.type, dev.type)
