"""Writing a graph file: stable key order, one member per line, atomic save.

Lists of plain values (``[1, 32, 32]``, a position) and each edge stay on one
line; everything else takes a line per member, so a diff shows exactly the
parameter, node or wire that changed.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

from studio.graph import Graph

from studio.graph.text import unsavable

from .errors import GraphFileError, json_path
from .migrations import FORMAT, VERSION

INDENT = "  "


def to_document(graph: Graph) -> dict[str, Any]:
    """The graph as plain JSON data, keys in file order."""
    library = graph.library
    return {
        "format": FORMAT,
        "version": VERSION,
        "name": graph.name,
        "description": graph.description,
        # each definition after those it uses, so a reader meets every block before its use
        "definitions": [_definition(library.definitions[name]) for name in library.order()],
        "nodes": _nodes(graph),
        "edges": _edges(graph),
        "training": graph.training,
    }


def _definition(d) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": d.name}
    if d.description:
        entry["description"] = d.description
    entry["inputs"] = list(d.inputs)
    entry["outputs"] = {o.name: f"{o.node}.{o.port}" for o in d.outputs}
    entry["params"] = {
        e.name: {"default": d.graph.node(e.targets[0][0]).spec.param(e.targets[0][1]).to_json(e.default),
                 "sets": [f"{n}.{p}" for n, p in e.targets]}
        for e in d.exposed
    }
    entry["nodes"] = _nodes(d.graph)
    entry["edges"] = _edges(d.graph)
    return entry


def _edges(graph: Graph) -> list[dict[str, str]]:
    return [{"from": f"{e.src}.{e.src_port}", "to": f"{e.dst}.{e.dst_port}"} for e in graph.edges]


def _nodes(graph: Graph) -> list[dict[str, Any]]:
    nodes = []
    for node in graph.nodes.values():
        spec = node.spec
        entry: dict[str, Any] = {"id": node.id, "block": node.block}
        if node.label:  # omitted when empty: most nodes are known by their id
            entry["label"] = node.label
        entry["position"] = [_number(node.position[0]), _number(node.position[1])]
        entry["params"] = {p.name: p.to_json(node.params[p.name]) for p in spec.params}
        nodes.append(entry)
    return nodes


def dumps(graph: Graph) -> str:
    doc = to_document(graph)
    where = graph.name or "<graph>"
    # The graph refuses what a file cannot hold as it comes in; this catches what slipped past
    # (a training dict changed in place) with its JSON path, before a byte is written.
    for path, reason in unsavable(doc):
        raise GraphFileError(where, json_path(path) or None, reason)
    try:
        body = [
            _encode_edges(doc["edges"], 1) if key == "edges"
            else _encode_definitions(doc["definitions"]) if key == "definitions"
            else _encode(doc[key], 1)
            for key in doc
        ]
    except (ValueError, TypeError) as exc:  # a value JSON has no form for
        raise GraphFileError(where, "training", str(exc)) from None
    members = [f"{INDENT}{_scalar(key)}: {value}" for key, value in zip(doc, body)]
    return "{\n" + ",\n".join(members) + "\n}\n"


def save(graph: Graph, path: str | os.PathLike) -> None:
    """Write ``graph`` to ``path`` atomically: a temporary file beside it, then a rename.

    Whatever goes wrong raises ``GraphFileError`` and leaves the target as it was and no
    temporary file behind; the text is encoded before any file is made."""
    source = os.fspath(path)
    try:
        data = dumps(graph).encode("utf-8")
    except GraphFileError as exc:
        raise GraphFileError(source, exc.path, exc.reason) from None
    except UnicodeEncodeError as exc:
        reason = f"cannot write: the graph holds text a file cannot store ({exc.reason})"
        raise GraphFileError(source, None, reason) from None
    write_atomic(path, data)


def write_atomic(path: str | os.PathLike, data: bytes) -> None:
    """``data`` to ``path``: a temporary file beside it, then a rename; on failure ``GraphFileError``,
    the target as it was and no temporary file left."""
    target = Path(path)
    source = os.fspath(path)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    try:
        # os.open with 0o666 honours the umask, as a plain open() of the target would.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    except OSError as exc:
        raise GraphFileError(source, None, f"cannot write: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if target.exists():
            os.chmod(tmp, target.stat().st_mode & 0o7777)
        os.replace(tmp, target)
    except BaseException as exc:  # Ctrl+C included: never leave a temporary file behind
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if not isinstance(exc, Exception):
            raise
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
        raise GraphFileError(source, None, f"cannot write: {reason}") from None


def _number(x: float) -> int | float:
    # 220.0 is written 220: positions are mostly whole pixels.
    return int(x) if x.is_integer() and abs(x) < 2**53 else x


def _scalar(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _encode(value: Any, level: int) -> str:
    if isinstance(value, dict):
        if not value:
            return "{}"
        pad = INDENT * (level + 1)
        members = [f"{pad}{_scalar(str(k))}: {_encode(v, level + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(members) + "\n" + INDENT * level + "}"
    if isinstance(value, (list, tuple)):
        if all(_is_scalar(v) for v in value):
            return "[" + ", ".join(_scalar(v) for v in value) + "]"
        pad = INDENT * (level + 1)
        items = [pad + _encode(v, level + 1) for v in value]
        return "[\n" + ",\n".join(items) + "\n" + INDENT * level + "]"
    return _scalar(value)


def _encode_edges(edges: list[dict[str, str]], level: int) -> str:
    if not edges:
        return "[]"
    pad = INDENT * (level + 1)
    lines = [f'{pad}{{"from": {_scalar(e["from"])}, "to": {_scalar(e["to"])}}}' for e in edges]
    return "[\n" + ",\n".join(lines) + "\n" + INDENT * level + "]"


def _encode_definitions(definitions: list[dict[str, Any]]) -> str:
    if not definitions:
        return "[]"
    pad = INDENT * 3
    items = []
    for d in definitions:
        members = [f"{pad}{_scalar(k)}: {_encode_edges(v, 3) if k == 'edges' else _encode(v, 3)}"
                   for k, v in d.items()]
        items.append(INDENT * 2 + "{\n" + ",\n".join(members) + "\n" + INDENT * 2 + "}")
    return "[\n" + ",\n".join(items) + "\n" + INDENT + "]"
