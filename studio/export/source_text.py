"""User text in generated Python source, safe by construction.

A graph file may come from a stranger, so its name, node ids, parameter values
and its file's name must never become code in an exported file. Every piece of
user text reaches generated source through one of these:

- ``literal``: a Python literal (``repr`` of plain data), for anything in code;
- ``identifier``: a name checked to be a plain ASCII identifier, for attribute,
  class and argument names;
- ``doc_text``: text shown in a docstring only when it cannot end the docstring
  or hold an escape (no quote, no backslash, nothing unprintable); otherwise a
  fallback is shown and the text itself lives in a ``literal`` constant;
- ``fill``: a template filled in one pass, so a value that holds a marker
  (``__MODEL__``) is never filled again.

``check_parses`` is the last guard: an exported file that does not parse is
refused rather than written.
"""

from __future__ import annotations

import ast
import builtins
import keyword
import math
import re
from typing import Any, Iterable, Mapping

from .errors import ExportError

_ASCII_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MARKER = re.compile(r"__([A-Z][A-Z0-9]*)__")


def literal(value: Any) -> str:
    """``value`` as Python source that evaluates to it: None, bool, int, float, str and
    lists, tuples and str-keyed dicts of them; anything else is refused."""
    kind = type(value)
    if value is None or kind is bool:
        return repr(value)
    if kind is int:
        try:
            return int.__repr__(value)
        except ValueError:  # Python refuses to print integers of more than 4300 digits
            raise ExportError("an integer of more than 4300 digits cannot be exported") from None
    if kind is float:
        if math.isnan(value):
            return "float('nan')"
        if math.isinf(value):
            return "float('inf')" if value > 0 else "-float('inf')"
        return float.__repr__(value)
    if kind is str:
        return str.__repr__(value)
    if kind is tuple:
        items = [literal(v) for v in value]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if kind is list:
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if kind is dict:
        if not all(type(k) is str for k in value):
            raise ExportError(f"a mapping with keys other than text cannot be exported: {sorted(map(str, value))}")
        return "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in value.items()) + "}"
    raise ExportError(f"a value of type {kind.__name__} cannot be exported as a Python literal")


def is_identifier(text: Any) -> bool:
    """A plain ASCII identifier that is no keyword (ASCII: the parser NFKC-normalises other names)."""
    return type(text) is str and _ASCII_IDENTIFIER.fullmatch(text) is not None and not keyword.iskeyword(text)


def identifier(text: Any, what: str) -> str:
    """``text`` if it can stand as a name in code; otherwise ``ExportError`` naming ``what``."""
    if not is_identifier(text):
        raise ExportError(f"{what} {text!r} is not a Python name (letters, digits and _, "
                          "not starting with a digit, not a keyword)")
    return text


def checked_node_id(text: Any) -> str:
    """A node id as docstrings and array names show it: letters, digits and _ (keywords allowed)."""
    if type(text) is str and _ASCII_IDENTIFIER.fullmatch(text) is not None:
        return text
    raise ExportError(f"node {text!r}: a node id must be letters, digits and _ and not start with a digit; "
                      "rename the node")


def is_doc_safe(text: Any) -> bool:
    """Whether ``text`` reads literally inside a ``\"\"\"`` docstring: printable (no newline, control or
    direction character, no surrogate), no quote that could end the docstring, no backslash escape."""
    return type(text) is str and text.isprintable() and '"' not in text and "\\" not in text


def doc_text(*candidates: Any, fallback: str) -> str:
    """The first candidate that is non-empty and safe in a docstring, else ``fallback``."""
    for text in candidates:
        if text and is_doc_safe(text):
            return text
    return fallback


def reserved_names(*extra: Iterable[str]) -> set[str]:
    """Names a generated class must not take: keywords, builtins and ``extra``."""
    out = set(keyword.kwlist) | set(keyword.softkwlist) | set(dir(builtins))
    for names in extra:
        out.update(names)
    return out


def module_names(source: str) -> set[str]:
    """Names bound at the top level of ``source`` (imports, functions, classes, assignments)."""
    names: set[str] = set()
    for node in ast.parse(source).body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def fill(template: str, values: Mapping[str, str]) -> str:
    """Every ``__MARKER__`` of ``template`` replaced by ``values["__MARKER__"]`` in one pass.

    A marker with no value, or a value with no marker, is a mistake in the generator."""
    found = {m.group(0) for m in MARKER.finditer(template)}
    if found != set(values):
        raise AssertionError(f"template markers {sorted(found)} do not match values {sorted(values)}")
    return MARKER.sub(lambda m: values[m.group(0)], template)


def check_parses(source: str, filename: str) -> str:
    """``source`` if it parses; an exported file that does not is refused, not written."""
    try:
        ast.parse(source, filename)
    except (SyntaxError, ValueError) as exc:
        where = f" (line {exc.lineno})" if getattr(exc, "lineno", None) else ""
        raise ExportError(f"the exported source does not parse{where}: {exc}") from None
    return source
