"""How a training setting is declared: once, as a dataclass field.

A field's annotation is its type; ``setting(...)`` gives its default and, in the
field's metadata, its label, help, bounds or choices. The reader
(``settings_reader``), the settings form and the docs table (``docs/gen_training.py``)
all take what they say about a setting from here, so they cannot disagree.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass
from functools import cache
from typing import Any, Iterator

KINDS = ("number", "whole", "bool", "choice", "name", "path", "pair", "object", "section")


@dataclass(frozen=True)
class Limit:
    """The values a number setting takes: ``low`` to ``high``; with ``low_open`` /
    ``high_open`` the bound itself is refused. ``whole``: a whole number.
    ``note``: why the bound is what it is, said when a value passes it."""

    low: float
    high: float
    whole: bool = False
    low_open: bool = False
    high_open: bool = False
    note: str = ""

    def allows(self, value: float) -> bool:
        # compared as given: a huge int is compared exactly, never turned into a float
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return bool(above and below)

    @property
    def low_text(self) -> str:
        return f"{'>' if self.low_open else '>='} {number_text(self.low)}"

    @property
    def high_text(self) -> str:
        return f"{'<' if self.high_open else '<='} {number_text(self.high)}"

    def refusal(self, value: float) -> str:
        """Why ``value`` is refused: the bound it passed (both bounds when it is too large)."""
        low_ok = value > self.low if self.low_open else value >= self.low
        if not low_ok:
            return f"must be {self.low_text}, got {number_text(value)}"
        note = f" ({self.note})" if self.note else ""
        return f"must be {self.low_text} and {self.high_text}{note}, got {number_text(value)}"


def number_text(x: float) -> str:
    """A number as a message shows it: whole numbers without a point, a huge int by its size."""
    if isinstance(x, int):
        if x.bit_length() <= 256:
            return str(x)
        digits = int(x.bit_length() * math.log10(2)) + 1  # str() of a huge int is slow or refused
        return f"{'-' if x < 0 else ''}a number of about {digits} digits"
    if math.isfinite(x) and x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(float(x))


@dataclass(frozen=True)
class Setting:
    """What is said about one setting besides its type and default.

    ``low``/``high`` (with ``low_open``/``high_open``, ``note``) bound a number;
    ``choices`` are a text setting's values; ``when`` is (a key of the same
    section, its values under which this setting applies); ``path``: text naming
    a file; ``shorthand``: for a section, the field a bare true/false stands for."""

    label: str
    help: str
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    note: str = ""
    when: tuple[str, tuple[Any, ...]] | None = None
    path: bool = False
    shorthand: str = ""


def setting(default: Any, label: str, help: str, **facts: Any) -> Any:
    """A dataclass field declaring one setting (see ``Setting`` for ``facts``)."""
    return dataclasses.field(default=default, metadata={"setting": Setting(label, help, **facts)})


def section(cls: type, label: str, help: str, **facts: Any) -> Any:
    """A dataclass field holding a section of settings (``cls``, itself declared with ``setting``)."""
    return dataclasses.field(default_factory=cls, metadata={"setting": Setting(label, help, **facts)})


@dataclass(frozen=True)
class FieldSpec:
    """One declared field, its type resolved: ``kind`` is one of ``KINDS``;
    ``optional``: null is allowed; ``section``: the class of a section's settings;
    ``limit``: a number's (or each of a pair's) bounds."""

    name: str
    kind: str
    optional: bool
    default: Any
    setting: Setting
    section: type | None = None
    limit: Limit | None = None


@cache
def specs(cls: type) -> tuple[FieldSpec, ...]:
    """The declared fields of a settings class, in declaration order.

    Raises TypeError for a field this module cannot read (no ``setting``, a number
    without bounds, a type it has no kind for), so a bad declaration fails on import's
    first use and in the tests, not in a person's run."""
    hints = typing.get_type_hints(cls)
    return tuple(_spec(cls, f, hints[f.name]) for f in dataclasses.fields(cls))


def walk(cls: type, prefix: str = "") -> Iterator[tuple[str, FieldSpec]]:
    """Every setting under ``cls`` with its key (``optimizer.lr``), sections opened in place."""
    for spec in specs(cls):
        key = prefix + spec.name
        if spec.kind == "section":
            yield from walk(spec.section, key + ".")
        else:
            yield key, spec


def find(cls: type, key: str) -> FieldSpec:
    """The declaration of the setting at ``key`` (``optimizer.lr``) under ``cls``."""
    *sections, name = key.split(".")
    for part in sections:
        cls = next(s.section for s in specs(cls) if s.name == part and s.kind == "section")
    return next(s for s in specs(cls) if s.name == name)


def _spec(cls: type, f: dataclasses.Field, hint: Any) -> FieldSpec:
    place = f"{cls.__name__}.{f.name}"
    s = f.metadata.get("setting")
    if not isinstance(s, Setting):
        raise TypeError(f"{place}: declare it with setting(...) or section(...)")
    args = typing.get_args(hint)
    optional = typing.get_origin(hint) in (typing.Union, types.UnionType) and type(None) in args
    if optional:
        rest = [a for a in args if a is not type(None)]
        if len(rest) != 1:
            raise TypeError(f"{place}: one type or null, got {hint}")
        hint = rest[0]
    default = f.default_factory() if f.default is dataclasses.MISSING else f.default
    kind = _kind(place, hint, s)
    limit = None
    if kind in ("number", "whole", "pair"):
        if s.low is None or s.high is None:
            raise TypeError(f"{place}: a number setting needs low and high")
        limit = Limit(s.low, s.high, whole=kind == "whole", low_open=s.low_open, high_open=s.high_open,
                      note=s.note)
    return FieldSpec(f.name, kind, optional, default, s, hint if kind == "section" else None, limit)


def _kind(place: str, hint: Any, s: Setting) -> str:
    origin = typing.get_origin(hint) or hint
    if dataclasses.is_dataclass(hint):
        return "section"
    if hint is bool:
        return "bool"
    if hint is int:
        return "whole"
    if hint is float:
        return "number"
    if hint is str:
        return "choice" if s.choices else "path" if s.path else "name"
    if origin is tuple and typing.get_args(hint) == (float, float):
        return "pair"
    if origin is dict:
        return "object"
    raise TypeError(f"{place}: no reader for {hint}")
