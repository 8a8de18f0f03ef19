"""Reads settings from a file's dict against their declarations (``settings_fields``).

Every problem is collected, not just the first, and each names its key the way a
person finds it in the file: ``training.optimizer.lr: must be > 0, got -1``. A
refused value reads as its default, so the checks across settings still run.
"""

from __future__ import annotations

import copy
import math
import os
from typing import Any, Mapping

from .settings_fields import FieldSpec, number_text, specs

PATH_MAX = 4096  # characters in a path setting


def read(cls: type, value: Any, path: str) -> tuple[Any, list[str]]:
    """``cls`` built from ``value`` (missing keys take their defaults), and the problems found.
    A class's ``_cross_checks(path)``, where it has one, adds what single values cannot say."""
    reader = _Reader()
    return reader.section(cls, value, path), reader.problems


class _Reader:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def section(self, cls: type, value: Any, path: str) -> Any:
        d = self._mapping(value, path, tuple(s.name for s in specs(cls)))
        out = cls(**{spec.name: self.field(spec, d, f"{path}.{spec.name}") for spec in specs(cls)})
        checks = getattr(out, "_cross_checks", None)
        if checks is not None:
            self.problems.extend(checks(path))
        return out

    def _mapping(self, value: Any, path: str, known: tuple[str, ...]) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.fail(path, f"must be an object, got {show(value)}")
            return {}
        for key in value:
            if key not in known:
                self.fail(f"{path}.{_key(key)}", f"unknown key (known: {', '.join(known)})")
        return dict(value)

    def field(self, spec: FieldSpec, d: dict[str, Any], where: str) -> Any:
        if spec.kind == "section":
            value = d.get(spec.name)
            short = spec.setting.shorthand
            if short and isinstance(value, bool):  # e.g. "probes": false, short for {"enabled": false}
                return spec.section(**{short: value})
            return self.section(spec.section, value, where)
        value = d.get(spec.name, spec.default)
        if value is None and spec.optional:
            return None
        return getattr(self, "_" + spec.kind)(spec, value, where)

    # ---- one method per kind, each returning the value read or the default --
    def _number(self, spec: FieldSpec, value: Any, where: str) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(where, f"must be a number, got {show(value)}")
            return spec.default
        if isinstance(value, float) and not math.isfinite(value):
            self.fail(where, f"must be a finite number, got {value}")
            return spec.default
        if not self._within(spec, value, where):
            return spec.default
        return float(value)

    def _whole(self, spec: FieldSpec, value: Any, where: str) -> Any:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(where, f"must be a whole number, got {show(value)}")
            return spec.default
        if not self._within(spec, value, where):
            return spec.default
        return int(value)

    def _bool(self, spec: FieldSpec, value: Any, where: str) -> Any:
        if not isinstance(value, bool):
            self.fail(where, f"must be true or false, got {show(value)}")
            return spec.default
        return value

    def _choice(self, spec: FieldSpec, value: Any, where: str) -> Any:
        choices = spec.setting.choices
        if not isinstance(value, str) or value not in choices:
            self.fail(where, f"must be one of {', '.join(choices)}, got {show(value)}")
            return spec.default
        return value

    def _name(self, spec: FieldSpec, value: Any, where: str) -> Any:
        if not (isinstance(value, str) and value):
            self.fail(where, f"must be a name, got {show(value)}")
            return spec.default
        return value

    def _path(self, spec: FieldSpec, value: Any, where: str) -> Any:
        """A path as the file writes it: text the file system can take (no NUL, no lone
        surrogate, not absurdly long). Where it may point is the trainer's question."""
        if not (isinstance(value, str) and value):
            self.fail(where, f"must be a path, got {show(value)}")
            return spec.default
        if len(value) > PATH_MAX:
            self.fail(where, f"must be a path of at most {PATH_MAX} characters, got {len(value)}")
            return spec.default
        try:
            os.fsencode(value)
        except UnicodeError:
            self.fail(where, f"must be a path this system can write, got {show(value)} (a character it cannot encode)")
            return spec.default
        if "\x00" in value:
            self.fail(where, f"must be a path without a NUL character, got {show(value)}")
            return spec.default
        return value

    def _pair(self, spec: FieldSpec, value: Any, where: str) -> Any:
        if (not isinstance(value, (list, tuple)) or len(value) != 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)):
            like = ", ".join(number_text(v) for v in spec.default)
            self.fail(where, f"must be two numbers like [{like}], got {show(value)}")
            return spec.default
        lim = spec.limit
        bad = [i for i, v in enumerate(value) if not lim.allows(v)]
        for i in bad:  # both bounds said: a beta of 1.5 is as wrong as one of -1
            self.fail(f"{where}[{i}]", f"must be {lim.low_text} and {lim.high_text}, got {number_text(value[i])}")
        return spec.default if bad else (float(value[0]), float(value[1]))

    def _object(self, spec: FieldSpec, value: Any, where: str) -> Any:
        if not isinstance(value, Mapping):
            self.fail(where, f"must be an object, got {show(value)}")
            return spec.default
        try:
            return copy.deepcopy(dict(value))
        except RecursionError:
            self.fail(where, "is nested too deeply")
            return spec.default

    def _within(self, spec: FieldSpec, value: float, where: str) -> bool:
        if spec.limit.allows(value):
            return True
        self.fail(where, spec.limit.refusal(value))
        return False


def show(value: Any) -> str:
    """A value as a message quotes it: short, and in the file's (JSON) words."""
    if isinstance(value, str):
        shown = repr(value)
        return shown if len(shown) <= 60 else shown[:57] + "...'"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return number_text(value) if isinstance(value, (int, float)) else type(value).__name__


def _key(key: Any) -> str:
    text = key if isinstance(key, str) else repr(key)
    return text if len(text) <= 40 else text[:37] + "..."
