"""Library files: a graph's block definitions on their own, to share between graphs.

A library file is JSON like a graph file's definitions and nothing else::

    {"format": "studio-blocks", "version": 1, "definitions": [ ... ]}

Each entry is written exactly as in a graph file's "definitions" list, and a
file holds every definition its entries use, each after those it uses, so it
reads on its own. Reading one is as careful as reading a graph file (the same
size and number limits, every fault a ``GraphFileError`` naming the file and
the JSON path); it never runs code.

Importing adds the file's definitions to a graph's library as one journaled
step: a definition identical to one already there is reused, and one whose name
is taken by a different definition comes in under a fresh name (``BasicBlock2``),
with the uses inside the other imported definitions following it.
"""

from __future__ import annotations

import os
from typing import Any, Iterable

from studio.graph import Graph, GraphError
from studio.graph.fixes import Journal
from studio.graph.text import shown, unsavable

from .errors import GraphFileError, json_path
from .migrations import FORMAT as GRAPH_FORMAT
from .reader import _kind, _read_bytes, _Reader, _refuse_unsavable, parse_json
from .writer import INDENT, _definition, _encode_definitions, _scalar, write_atomic

LIBRARY_FORMAT = "studio-blocks"
LIBRARY_VERSION = 1
LIBRARY_KEYS = ("format", "version", "definitions")


# ---- writing ----------------------------------------------------------------------------

def with_uses(graph: Graph, names: Iterable[str]) -> list[str]:
    """``names`` and every definition they use, at any depth, each after those it uses."""
    library = graph.library
    wanted: set[str] = set()
    stack = list(names)
    while stack:
        name = stack.pop()
        if name in wanted:
            continue
        if name not in library.definitions:
            raise KeyError(name)
        wanted.add(name)
        stack.extend(library.definitions[name].uses())
    return [n for n in library.order() if n in wanted]


def library_document(graph: Graph, names: Iterable[str]) -> dict[str, Any]:
    library = graph.library
    return {
        "format": LIBRARY_FORMAT,
        "version": LIBRARY_VERSION,
        "definitions": [_definition(library.definitions[n]) for n in with_uses(graph, names)],
    }


def dumps_library(graph: Graph, names: Iterable[str]) -> str:
    doc = library_document(graph, names)
    for path, reason in unsavable(doc):
        raise GraphFileError("<library>", json_path(path) or None, reason)
    members = [f"{INDENT}{_scalar('format')}: {_scalar(doc['format'])}",
               f"{INDENT}{_scalar('version')}: {doc['version']}",
               f"{INDENT}{_scalar('definitions')}: {_encode_definitions(doc['definitions'])}"]
    return "{\n" + ",\n".join(members) + "\n}\n"


def save_library(graph: Graph, names: Iterable[str], path: str | os.PathLike) -> list[str]:
    """Write the named definitions and those they use to ``path`` atomically; returns the names written."""
    source = os.fspath(path)
    names = list(names)
    try:
        written = with_uses(graph, names)
    except KeyError as exc:
        raise GraphFileError(source, None, f"no block {shown(exc.args[0])} in this graph to export") from None
    if not written:
        raise GraphFileError(source, None, "no blocks to export: make a group first")
    try:
        data = dumps_library(graph, written).encode("utf-8")
    except GraphFileError as exc:
        raise GraphFileError(source, exc.path, exc.reason) from None
    except UnicodeEncodeError as exc:
        raise GraphFileError(source, None, f"cannot write: a definition holds text a file cannot store "
                                           f"({exc.reason})") from None
    write_atomic(path, data)
    return written


# ---- reading ----------------------------------------------------------------------------

def read_library(path: str | os.PathLike) -> Graph:
    """The file's definitions, checked, in the library of an empty graph of their own."""
    source = os.fspath(path)
    return loads_library(_read_bytes(path, source), source)


def loads_library(text: str, source: str = "<string>") -> Graph:
    doc = parse_json(text, source)
    try:
        return _read_library(doc, source)
    except RecursionError:
        raise GraphFileError(source, None, "nested too deeply to read") from None


def _read_library(doc: Any, source: str) -> Graph:
    reader = _Reader(source)
    if not isinstance(doc, dict) or doc.get("format") != LIBRARY_FORMAT:
        hint = " (this is a graph file: open it with File > Open)" if isinstance(doc, dict) and \
            doc.get("format") == GRAPH_FORMAT else ""
        raise reader.fail([], f'not a studio library file (expected an object with "format": '
                              f'"{LIBRARY_FORMAT}"){hint}')
    reader.known_keys(doc, [], LIBRARY_KEYS, required=LIBRARY_KEYS)
    version = doc["version"]
    if isinstance(version, bool) or not isinstance(version, int):
        raise reader.fail(["version"], f"must be a whole number, got {_kind(version)}")
    if version > LIBRARY_VERSION:
        raise reader.fail(["version"], f"this file is version {version}, newer than this studio reads "
                                       f"(up to {LIBRARY_VERSION}); update studio to open it")
    if version < 1:
        raise reader.fail(["version"], f"there is no version {version}; versions start at 1")
    _refuse_unsavable(doc, source)
    entries = reader.typed(doc, ["definitions"], list)
    scratch = Graph("")
    # One use of each definition counts toward the reader's limit on a network's blocks with every
    # group opened, so a file whose definitions multiply past it is refused before anything is built.
    uses = [{"block": e.get("name")} for e in entries if isinstance(e, dict)]
    reader.definitions(scratch, {"definitions": entries, "nodes": uses})
    return scratch


# ---- importing into a graph -------------------------------------------------------------

def import_library(graph: Graph, path: str | os.PathLike) -> Journal:
    """Add the definitions of the library file at ``path`` to ``graph``'s library, as one journaled step."""
    source = os.fspath(path)
    journal, _ = import_definitions(graph, read_library(path), source)
    return journal


def import_definitions(graph: Graph, scratch: Graph, source: str = "<library>") -> tuple[Journal, dict[str, str]]:
    """Add ``scratch``'s definitions to ``graph``'s library. Returns the journal and, for each
    definition of ``scratch``, its name in ``graph`` (the same, a fresh one, or the identical one
    already there)."""
    library = graph.library
    incoming = scratch.library.order()
    names: dict[str, str] = {}
    taken = set(library.definitions) | set(incoming)
    entries = []
    for name in incoming:
        entry = _renamed(_definition(scratch.library.definitions[name]), names)
        there = library.definitions.get(name)
        same = _identical(library, entry, [name, *(n for n in library.definitions if n != name)])
        if same is not None:
            names[name] = same  # the same block (maybe imported before under a fresh name): reused
            continue
        new = name if there is None else _fresh(name, taken)
        taken.add(new)
        names[name] = new
        entries.append({**entry, "name": new})
    journal = Journal()
    if not entries:
        return journal, names
    before = set(library.definitions)
    try:
        _Reader(source).definitions(graph, {"definitions": entries, "nodes": []})
    except (GraphFileError, GraphError):
        for name in reversed([n for n in library.definitions if n not in before]):
            library.remove(name)
        raise
    for name in library.definitions:
        if name not in before:
            journal.steps.append(("define", library, library.definitions[name], library.index(name)))
    return journal, names


def _identical(library, entry: dict[str, Any], candidates: list[str]) -> str | None:
    for name in candidates:
        d = library.definitions.get(name)
        if d is not None and _definition(d) == {**entry, "name": name}:
            return name
    return None


def _renamed(entry: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """``entry`` with its uses of renamed definitions following their new names."""
    nodes = [{**n, "block": names.get(n["block"], n["block"])} for n in entry["nodes"]]
    return {**entry, "nodes": nodes}


def _fresh(stem: str, taken: set[str]) -> str:
    import blocks

    i = 2
    while f"{stem}{i}" in taken or blocks.exists(f"{stem}{i}"):
        i += 1
    return f"{stem}{i}"


__all__ = [
    "LIBRARY_FORMAT", "LIBRARY_VERSION", "dumps_library", "import_definitions", "import_library",
    "library_document", "loads_library", "read_library", "save_library", "with_uses",
]
