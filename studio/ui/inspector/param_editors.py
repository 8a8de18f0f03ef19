"""One editing widget per parameter kind, generated from the block's
declaration. Each turns what the person typed into a value, or a ParamError
that says why it cannot; the inspector decides whether the model takes it."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLineEdit, QWidget

from blocks import Param, ParamError

from ..canvas.format import value_text
from ..field_cell import mark_invalid


def hint(param: Param) -> str:
    """The expected form and range, e.g. 'whole number ≥ 1'."""
    kind = param.kind
    what = {
        "int": "whole number", "float": "number", "ints": "whole number or tuple, e.g. 3 or 3, 3",
        "shape": "sizes, e.g. 1, 28, 28", "str": "text", "bool": "", "choice": "",
    }[kind]
    if param.length and kind == "ints":
        what = f"one whole number or {param.length} of them"
    bounds = []
    if param.min is not None:
        bounds.append(f"≥ {param.min:g}")
    if param.max is not None:
        bounds.append(f"≤ {param.max:g}")
    text = " ".join([what, *bounds]).strip()
    if param.optional:
        text += " (empty for auto)"
    return text


class ParamEditor(QWidget):
    committed = Signal()  # the person finished entering a value

    def __init__(self, param: Param, parent=None):
        super().__init__(parent)
        self.param = param
        self.setToolTip(f"<b>{param.name}</b>: {param.doc}<br>{hint(param)}")
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)

    def value(self) -> Any:
        """The entered value (not yet range-checked), or ParamError if it cannot be read."""
        raise NotImplementedError

    def set_value(self, value: Any) -> None:
        raise NotImplementedError

    def set_invalid(self, invalid: bool) -> None:
        pass


class BoolEditor(ParamEditor):
    def __init__(self, param: Param, parent=None):
        super().__init__(param, parent)
        self.box = QCheckBox(self)
        self._layout.addWidget(self.box)
        self.box.toggled.connect(lambda _: self.committed.emit())

    def value(self) -> Any:
        return self.box.isChecked()

    def set_value(self, value: Any) -> None:
        self.box.blockSignals(True)
        self.box.setChecked(bool(value))
        self.box.blockSignals(False)


class ChoiceEditor(ParamEditor):
    def __init__(self, param: Param, parent=None):
        super().__init__(param, parent)
        self.combo = QComboBox(self)
        for choice in param.choices:
            self.combo.addItem(str(choice), choice)
        self._layout.addWidget(self.combo)
        self.combo.activated.connect(lambda _: self.committed.emit())

    def value(self) -> Any:
        return self.combo.currentData()

    def set_value(self, value: Any) -> None:
        self.combo.blockSignals(True)
        self.combo.setCurrentIndex(max(0, self.combo.findData(value)))
        self.combo.blockSignals(False)


class TextEditor(ParamEditor):
    """Numbers, tuples, shapes and text: typed, read on Enter or leaving the field."""

    def __init__(self, param: Param, parent=None):
        super().__init__(param, parent)
        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText(hint(param))
        self._layout.addWidget(self.edit)
        self._shown = ""
        self.edit.editingFinished.connect(self._finished)

    def _finished(self) -> None:
        # Leaving a field unchanged is not an edit.
        if self.edit.text() != self._shown or self.edit.property("invalid"):
            self.committed.emit()

    def value(self) -> Any:
        text = self.edit.text().strip()
        p = self.param
        if p.kind == "str":
            return self.edit.text()
        if text == "" or text.lower() in ("auto", "none"):
            if p.optional:
                return None
            raise ParamError(f"{p.name} must be set", p.name)
        if p.kind == "int":
            return _number(p, text, whole=True)
        if p.kind == "float":
            return _number(p, text, whole=False)
        parts = [s for s in text.strip("()[] ").replace("×", ",").replace("x", ",").split(",") if s.strip()]
        values = tuple(_number(p, s.strip(), whole=True) for s in parts)
        if p.kind == "ints" and len(values) == 1:
            return values[0]
        return values

    def set_value(self, value: Any) -> None:
        if self.param.kind == "str":
            text = value or ""
        elif value is None:
            text = ""
        elif isinstance(value, (tuple, list)):
            text = ", ".join(str(v) for v in value)
        elif isinstance(value, float):
            text = f"{value:g}"
        else:
            text = str(value)
        self._shown = text
        self.edit.setText(text)
        self.set_invalid(False)

    def set_invalid(self, invalid: bool) -> None:
        mark_invalid(self.edit, invalid)


def _number(p: Param, text: str, whole: bool) -> int | float:
    try:
        return int(text) if whole else float(text)
    except ValueError:
        what = "a whole number" if whole else "a number"
        raise ParamError(f"{p.name} must be {what}, got {text!r}", p.name) from None


def make_editor(param: Param, parent=None) -> ParamEditor:
    if param.kind == "bool":
        return BoolEditor(param, parent)
    if param.kind == "choice":
        return ChoiceEditor(param, parent)
    return TextEditor(param, parent)


__all__ = ["ParamEditor", "hint", "make_editor", "value_text"]
