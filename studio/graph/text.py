"""Text a graph may hold, and how a user's text is shown on a terminal.

A lone surrogate (``"\\ud800"``) is legal in JSON and in a Python ``str`` but is
not text: UTF-8 cannot store it, so a graph holding one could never be saved or
exported. The graph refuses it wherever text comes in.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterable, Iterator

from .errors import GraphError

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SURROGATE = re.compile("[\ud800-\udfff]")

# Characters a terminal acts on instead of showing: C0 and C1 controls (ESC starts
# an ANSI sequence), DEL, line and paragraph separators, and the marks that reorder
# text (a name could otherwise appear to say something else).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]")


class UnsavableError(GraphError, ValueError):
    """A value a graph file cannot hold: text with a lone surrogate, a number that is not finite."""


def lone_surrogate(text: str) -> int | None:
    """The index of the first lone surrogate in ``text``, or None when it is all text."""
    match = _SURROGATE.search(text)
    return None if match is None else match.start()


def surrogate_reason(text: str) -> str | None:
    """Why ``text`` cannot be saved, or None when it can."""
    at = lone_surrogate(text)
    if at is None:
        return None
    return (f"holds a lone surrogate ({_escape(text[at])}) at character {at}: "
            "that is not a character, and a file cannot store it")


def check_text(text: str, what: str) -> str:
    """``text`` unchanged, or ``UnsavableError`` naming ``what`` when it cannot be saved."""
    if not isinstance(text, str):
        raise UnsavableError(f"{what} must be text, got {type(text).__name__}")
    reason = surrogate_reason(text)
    if reason is not None:
        raise UnsavableError(f"{what} {reason}")
    return text


def unsavable(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Each place in plain JSON-like data (dicts, lists, scalars) that a file cannot hold:
    ``(path, reason)``, a key's path ending at that key. Walks without recursion."""
    stack = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            reason = surrogate_reason(item)
            if reason is not None:
                yield where, reason
        elif isinstance(item, float):
            if item != item or item in (float("inf"), float("-inf")):
                yield where, f"must be a finite number, got {item}"
        elif isinstance(item, dict):
            for key, v in reversed(list(item.items())):
                reason = surrogate_reason(key) if isinstance(key, str) else None
                if reason is not None:
                    yield where + (key,), f"this key {reason}"
                    continue
                stack.append((where + (key,), v))
        elif isinstance(item, (list, tuple)):
            for i in reversed(range(len(item))):
                stack.append((where + (i,), item[i]))


def shown(value: Any, limit: int = 60) -> str:
    """``repr(value)`` for a message (controls come out escaped), cut to about ``limit`` characters:
    a name read from a file may be megabytes long."""
    if isinstance(value, str) and len(value) > limit:
        return repr(value[:limit]) + f"... ({len(value):,} characters)"
    text = repr(value)
    return text if len(text) <= limit + 20 else text[:limit] + "..."


def json_place(parts: Iterable[str | int]) -> str:
    """``("nodes", 3, "params", "kernel_size")`` -> ``nodes[3].params.kernel_size``; a key that is
    not a plain name is quoted (``training["my key"]``), surrogates and controls escaped."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.match(part):
            out += f".{part}" if out else part
        else:
            key = part if len(part) <= 60 else part[:60] + "..."
            out += "[" + terminal_text(json.dumps(key, ensure_ascii=False)) + "]"
    return out


def terminal_text(text: str) -> str:
    """``text`` safe to print: controls, separators, reordering marks and surrogates are shown
    escaped (``\\x1b``, ``\\u202e``); every other character, accents and emoji included, as is."""
    return _CONTROL.sub(lambda m: _escape(m.group()), text)


def terminal_lines(text: str) -> str:
    """``terminal_text`` for a message of several lines: its own line breaks stay breaks."""
    return "\n".join(terminal_text(line) for line in text.split("\n"))


def _escape(ch: str) -> str:
    code = ord(ch)
    if ch == "\n":
        return "\\n"
    if ch == "\t":
        return "\\t"
    if ch == "\r":
        return "\\r"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
