"""Reading a graph file: text -> checked JSON -> ``Graph``.

Every fault raises ``GraphFileError`` naming the JSON path; anything a file can
hold either loads or is refused that way, never with a traceback.
"""

from __future__ import annotations

import copy
import difflib
import json
import math
import os
from typing import Any

import blocks
from blocks import ParamError
from studio.graph import ConnectionRefused, Graph, GraphError

from .errors import GraphFileError, json_path
from .migrations import FORMAT, VERSION, migrate

TOP_KEYS = ("format", "version", "name", "description", "nodes", "edges", "training")
NODE_KEYS = ("id", "block", "label", "position", "params")
EDGE_KEYS = ("from", "to")


class _RefusedJSON(ValueError):
    """Valid for Python's json module, not for a graph file (NaN, duplicate keys)."""


def load(path: str | os.PathLike) -> Graph:
    source = os.fspath(path)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise GraphFileError(source, None, f"cannot read: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise GraphFileError(source, None, f"not UTF-8 text (byte {exc.start})") from None
    return loads(text, source)


def loads(text: str, source: str = "<string>") -> Graph:
    try:
        doc = json.loads(text, parse_constant=_refuse_constant, object_pairs_hook=_object)
    except json.JSONDecodeError as exc:
        raise GraphFileError(source, None, f"line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except _RefusedJSON as exc:
        raise GraphFileError(source, None, str(exc)) from None
    except RecursionError:
        raise GraphFileError(source, None, "nested too deeply to read") from None
    return from_document(doc, source)


def from_document(doc: Any, source: str = "<string>") -> Graph:
    """A ``Graph`` from parsed JSON data (as ``json.load`` returns it)."""
    try:
        return _Reader(source).read(doc)
    except RecursionError:
        raise GraphFileError(source, None, "nested too deeply to read") from None


def _refuse_constant(name: str) -> Any:
    raise _RefusedJSON(f"{name} is not a JSON number; graph files hold finite numbers only")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _RefusedJSON(f"the key {key!r} appears twice in one object")
        out[key] = value
    return out


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return "an object"


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, path: list[str | int], reason: str) -> GraphFileError:
        return GraphFileError(self.source, json_path(path) or None, reason)

    # ---- the document --------------------------------------------------
    def read(self, doc: Any) -> Graph:
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise self.fail([], f'not a studio graph file (expected an object with "format": "{FORMAT}")')
        version = self.version(doc)
        doc = migrate(doc, version, self.source)
        self.known_keys(doc, [], TOP_KEYS, required=("format", "version", "nodes", "edges"))
        graph = Graph(self.text(doc, ["name"]))
        graph.description = self.text(doc, ["description"])
        training = doc.get("training", {})
        if not isinstance(training, dict):
            raise self.fail(["training"], f"must be an object, got {_kind(training)}")
        # Kept verbatim (a dataset entry included); the training config checks its own contents.
        graph.training = copy.deepcopy(training)
        nodes = self.typed(doc, ["nodes"], list)
        edges = self.typed(doc, ["edges"], list)
        for i, entry in enumerate(nodes):
            self.node(graph, entry, ["nodes", i])
        for i, entry in enumerate(edges):
            self.edge(graph, entry, ["edges", i])
        return graph

    def version(self, doc: dict) -> int:
        if "version" not in doc:
            raise self.fail([], "missing key 'version'")
        version = doc["version"]
        if isinstance(version, bool) or not isinstance(version, int):
            raise self.fail(["version"], f"must be a whole number, got {_kind(version)}")
        if version > VERSION:
            raise self.fail(
                ["version"],
                f"this file is version {version}, newer than this studio reads (up to {VERSION}); "
                "update studio to open it",
            )
        if version < 1:
            raise self.fail(["version"], f"there is no version {version}; versions start at 1")
        return version

    # ---- one node ------------------------------------------------------
    def node(self, graph: Graph, entry: Any, path: list) -> None:
        if not isinstance(entry, dict):
            raise self.fail(path, f"a node must be an object, got {_kind(entry)}")
        self.known_keys(entry, path, NODE_KEYS, required=("id", "block"))
        node_id = self.typed(entry, path + ["id"], str)
        if node_id in graph:
            raise self.fail(path + ["id"], f"node id {node_id!r} is already taken")
        block = self.typed(entry, path + ["block"], str)
        if not blocks.exists(block):
            raise self.fail(path + ["block"], f"unknown block {block!r}{_suggest(block)}")
        spec = blocks.get(block)
        label = self.text(entry, path + ["label"])
        position = self.position(entry.get("position", [0, 0]), path + ["position"])
        raw = entry.get("params", {})
        if not isinstance(raw, dict):
            raise self.fail(path + ["params"], f"must be an object, got {_kind(raw)}")
        params = {}
        for key, value in raw.items():
            try:
                params[key] = spec.param(key).coerce(value)
            except KeyError:
                known = ", ".join(p.name for p in spec.params) or "none"
                raise self.fail(path + ["params", key], f"{spec.name} has no parameter {key!r} (it has: {known})") from None
            except ParamError as exc:
                raise self.fail(path + ["params", key], exc.message) from None
            except (OverflowError, ValueError, TypeError) as exc:
                raise self.fail(path + ["params", key], f"{key} is out of range ({exc})") from None
        try:
            graph.add_node(spec.name, params, position, node_id, label)
        except ParamError as exc:
            where = path + ["params", exc.param] if exc.param in params else path + ["params"]
            raise self.fail(where, exc.message) from None
        except GraphError as exc:
            raise self.fail(path + ["id"], str(exc)) from None

    def position(self, value: Any, path: list) -> tuple[float, float]:
        if not isinstance(value, list) or len(value) != 2:
            raise self.fail(path, f"must be [x, y], got {_kind(value)}")
        out = []
        for i, v in enumerate(value):
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise self.fail(path + [i], f"must be a number, got {_kind(v)}")
            try:
                f = float(v)
            except OverflowError:
                f = math.inf
            if not math.isfinite(f):
                raise self.fail(path + [i], f"must be a finite number, got {v}")
            out.append(f)
        return out[0], out[1]

    # ---- one edge ------------------------------------------------------
    def edge(self, graph: Graph, entry: Any, path: list) -> None:
        if not isinstance(entry, dict):
            raise self.fail(path, f'an edge must be an object like {{"from": "a.out", "to": "b.in"}}, got {_kind(entry)}')
        self.known_keys(entry, path, EDGE_KEYS, required=EDGE_KEYS)
        src, src_port = self.endpoint(graph, entry, path + ["from"], outputs=True)
        dst, dst_port = self.endpoint(graph, entry, path + ["to"], outputs=False)
        try:
            graph.connect(src, src_port, dst, dst_port)
        except ConnectionRefused as exc:  # a duplicate, a taken input or a cycle
            raise self.fail(path, exc.message) from None

    def endpoint(self, graph: Graph, entry: dict, path: list, outputs: bool) -> tuple[str, str]:
        text = self.typed(entry, path, str)
        node_id, dot, port = text.partition(".")
        if not dot or not node_id or not port:
            raise self.fail(path, f"must be 'node.port', got {text!r}")
        if node_id not in graph:
            raise self.fail(path, f"no node {node_id!r}")
        node = graph.node(node_id)
        ports = node.output_ports() if outputs else node.input_ports()
        names = [p.name for p in ports]
        if port not in names:
            what = "output" if outputs else "input"
            have = ", ".join(names) or "none"
            raise self.fail(path, f"{node_id} ({node.block}) has no {what} {port!r} (it has: {have})")
        return node_id, port

    # ---- small checks --------------------------------------------------
    def known_keys(self, obj: dict, path: list, allowed: tuple[str, ...], required: tuple[str, ...]) -> None:
        for key in required:
            if key not in obj:
                raise self.fail(path, f"missing key {key!r}")
        for key in obj:
            if key not in allowed:
                raise self.fail(path + [key], f"unknown key (expected one of: {', '.join(allowed)})")

    def typed(self, obj: dict, path: list, kind: type) -> Any:
        value = obj[path[-1]]
        if not isinstance(value, kind):
            want = {str: "text", list: "a list", dict: "an object"}[kind]
            raise self.fail(path, f"must be {want}, got {_kind(value)}")
        return value

    def text(self, obj: dict, path: list) -> str:
        if path[-1] not in obj:
            return ""
        return self.typed(obj, path, str)


def _suggest(name: str) -> str:
    names = [spec.name for spec in blocks.all_blocks()]
    close = difflib.get_close_matches(name, names, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
