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
import re
import stat
from typing import Any

import blocks
from blocks import ParamError
from studio.graph import ConnectionRefused, Graph, GraphError
from studio.graph.text import shown, unsavable

from .errors import GraphFileError, json_path
from .migrations import FORMAT, VERSION, migrate

TOP_KEYS = ("format", "version", "name", "description", "definitions", "nodes", "edges", "training")
DEFINITION_KEYS = ("name", "description", "inputs", "outputs", "params", "nodes", "edges")
# Groups multiply: a definition used twice inside one used twice... A file whose network, every
# group opened, would pass this many blocks is refused before anything is built.
MAX_EXPANDED_NODES = 1_000_000
NODE_KEYS = ("id", "block", "label", "position", "params")
EDGE_KEYS = ("from", "to")
# Canvas coordinates: a million pixels each way. Beyond it the editor would have to frame a
# scene so large that its zoom rounds to zero.
POSITION_LIMIT = 1_000_000


# A graph file is a few kilobytes to a few megabytes; one larger than this is not
# read at all, so a huge or endless file cannot exhaust memory.
MAX_FILE_BYTES = 64 * 2**20
# Whole numbers a graph file holds are sizes, counts and seeds (int64 at most, 19
# digits); a longer one is refused where it stands rather than converted at all.
MAX_INT_DIGITS = 40
_MAX_INT_BITS = (10**MAX_INT_DIGITS - 1).bit_length()


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class _RefusedJSON(ValueError):
    """Valid for Python's json module, not for a graph file (NaN, duplicate keys)."""


class _Oversized:
    """A number too large to read, standing in for it until its JSON path is known."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


def load(path: str | os.PathLike) -> Graph:
    source = os.fspath(path)
    return loads(_read_bytes(path, source), source)


def _read_bytes(path: str | os.PathLike, source: str) -> str:
    """The file's text; anything but a regular file of sane size is refused before it is read."""
    try:
        before = os.stat(path)
    except OSError as exc:
        raise GraphFileError(source, None, f"cannot read: {exc.strerror or exc}") from None
    _check_regular(before, source)
    # O_NONBLOCK: should the path turn into a FIFO after the stat, opening it still
    # returns at once (and fstat below refuses it) instead of waiting for a writer.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise GraphFileError(source, None, f"cannot read: {exc.strerror or exc}") from None
    try:
        _check_regular(os.fstat(fd), source)
        chunks, size = [], 0
        while size <= MAX_FILE_BYTES:  # the file may grow after the stat: read no more than the limit
            chunk = os.read(fd, min(2**20, MAX_FILE_BYTES + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise GraphFileError(source, None, f"cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if size > MAX_FILE_BYTES:
        raise GraphFileError(source, None, _too_large(None))
    data = b"".join(chunks)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise GraphFileError(source, None, f"not UTF-8 text (byte {exc.start})") from None


def _check_regular(st: os.stat_result, source: str) -> None:
    mode = st.st_mode
    if not stat.S_ISREG(mode):
        what = ("a folder" if stat.S_ISDIR(mode) else "a FIFO (named pipe)" if stat.S_ISFIFO(mode)
                else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
                else "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
        raise GraphFileError(source, None, f"cannot read: this is {what}, not a graph file; "
                                           "give a regular .json file")
    if st.st_size > MAX_FILE_BYTES:
        raise GraphFileError(source, None, _too_large(st.st_size))


def _too_large(size: int | None) -> str:
    limit = f"{MAX_FILE_BYTES // 2**20} MiB ({MAX_FILE_BYTES:,} bytes)"
    what = "grew past" if size is None else f"is {size:,} bytes, larger than"
    return f"cannot read: the file {what} the {limit} a graph file may be (graph files hold no weights or data)"


def loads(text: str, source: str = "<string>") -> Graph:
    return from_document(parse_json(text, source), source)


def parse_json(text: str, source: str = "<string>") -> Any:
    """The file's JSON, read with a graph file's limits (no NaN, no duplicate keys, no huge numbers)."""
    try:
        doc = json.loads(text, parse_constant=_refuse_constant, parse_int=_int, parse_float=_float,
                         object_pairs_hook=_object)
    except json.JSONDecodeError as exc:
        raise GraphFileError(source, None, f"line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except _RefusedJSON as exc:
        raise GraphFileError(source, None, str(exc)) from None
    except RecursionError:
        raise GraphFileError(source, None, "nested too deeply to read") from None
    return doc


def from_document(doc: Any, source: str = "<string>") -> Graph:
    """A ``Graph`` from parsed JSON data (as ``json.load`` returns it)."""
    try:
        _refuse_unsavable(doc, source)
        return _Reader(source).read(doc)
    except RecursionError:
        raise GraphFileError(source, None, "nested too deeply to read") from None


def _refuse_unsavable(doc: Any, source: str) -> None:
    """The first value anywhere in the document that no graph file can hold, refused by its
    JSON path: a string with a lone surrogate, a number too large, NaN or infinity. Checked
    before anything is read, so a graph never holds what it could not save."""
    stack: list[tuple[tuple, Any]] = [((), doc)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, _Oversized):
            raise GraphFileError(source, json_path(path) or None, value.reason)
        if isinstance(value, int) and value.bit_length() > _MAX_INT_BITS:  # handed in by from_document
            digits = int(value.bit_length() * math.log10(2)) + 1
            raise GraphFileError(source, json_path(path) or None,
                                 f"a number of about {digits} digits; a graph file's whole numbers have at most "
                                 f"{MAX_INT_DIGITS} digits")
        if isinstance(value, dict):
            stack.extend((path + (k,), v) for k, v in reversed(list(value.items())))
        elif isinstance(value, list):
            stack.extend((path + (i,), v) for i, v in reversed(list(enumerate(value))))
    for path, reason in unsavable(doc):
        raise GraphFileError(source, json_path(path) or None, reason)


def _int(text: str) -> int | _Oversized:
    digits = len(text.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        head = text[:12] + "..."
        return _Oversized(f"the number {head} has {digits} digits; a graph file's whole numbers "
                                f"have at most {MAX_INT_DIGITS} digits")
    return int(text)


def _float(text: str) -> float | _Oversized:
    value = float(text)
    if not math.isfinite(value):  # 1e400 reads as infinity
        head = text if len(text) <= 24 else text[:12] + "..."
        return _Oversized(f"the number {head} is too large for a real number (at most about 1.8e308)")
    return value


def _refuse_constant(name: str) -> Any:
    raise _RefusedJSON(f"{name} is not a JSON number; graph files hold finite numbers only")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _RefusedJSON(f"the key {shown(key)} appears twice in one object")
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
        self.definitions(graph, doc)
        training = doc.get("training", {})
        if not isinstance(training, dict):
            raise self.fail(["training"], f"must be an object, got {_kind(training)}")
        # Kept verbatim (a dataset entry included); the training config checks its own contents.
        graph.training = copy.deepcopy(training)
        nodes = self.typed(doc, ["nodes"], list)
        edges = self.typed(doc, ["edges"], list)
        with graph.shapes.held():  # shapes inferred once, when every node and wire is in
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

    # ---- group definitions -------------------------------------------------
    def definitions(self, graph: Graph, doc: dict) -> None:
        entries = self.typed(doc, ["definitions"], list) if "definitions" in doc else []
        names: dict[str, int] = {}
        uses: dict[str, list[str]] = {}
        for i, entry in enumerate(entries):
            path = ["definitions", i]
            if not isinstance(entry, dict):
                raise self.fail(path, f"a definition must be an object, got {_kind(entry)}")
            self.known_keys(entry, path, DEFINITION_KEYS, required=("name", "inputs", "outputs", "nodes", "edges"))
            name = self.typed(entry, path + ["name"], str)
            try:
                graph.library.check_name(name)
            except GraphError as exc:
                raise self.fail(path + ["name"], str(exc)) from None
            if name in names:
                raise self.fail(path + ["name"], f"the block {shown(name)} is defined twice "
                                                 f"(also at definitions[{names[name]}])")
            names[name] = i
            nodes = self.typed(entry, path + ["nodes"], list)
            uses[name] = [n["block"] for n in nodes if isinstance(n, dict) and isinstance(n.get("block"), str)]
        # refuse a definition that contains itself, naming the path, before reading any
        state: dict[str, int] = {}

        def visit(name: str, trail: list[str]) -> None:
            state[name] = 1
            for used in uses[name]:
                if used not in names:
                    continue
                if state.get(used) == 1:
                    loop = trail[trail.index(used):] + [used]
                    raise self.fail(["definitions", names[loop[0]], "nodes"],
                                    f"{loop[0]} contains itself: {' > '.join(loop)}")
                if used not in state:
                    visit(used, trail + [used])
            state[name] = 2

        for name in names:
            if name not in state:
                visit(name, [name])
        sizes: dict[str, int] = {}

        def size(name: str) -> int:
            if name not in sizes:
                sizes[name] = sum(size(b) if b in names else 1 for b in uses[name])
                sizes[name] = min(sizes[name], MAX_EXPANDED_NODES + 1)
            return sizes[name]

        top = self.typed(doc, ["nodes"], list)
        expanded = sum(size(n["block"]) if isinstance(n, dict) and isinstance(n.get("block"), str)
                       and n["block"] in names else 1 for n in top)
        if expanded > MAX_EXPANDED_NODES:
            raise self.fail(["definitions"], f"every group opened, this network would have more than "
                                             f"{MAX_EXPANDED_NODES:,} blocks; a graph file may hold at most that")
        order: list[str] = []

        def place(name: str) -> None:
            if name in order:
                return
            for used in uses[name]:
                if used in names:
                    place(used)
            order.append(name)

        for name in names:
            place(name)
        for name in order:
            self.definition(graph, entries[names[name]], ["definitions", names[name]])

    def definition(self, graph: Graph, entry: dict, path: list) -> None:
        from studio.graph.groups import Definition, Exposed, OutputPort

        name = entry["name"]
        inner = Graph(name, library=graph.library)
        nodes = self.typed(entry, path + ["nodes"], list)
        edges = self.typed(entry, path + ["edges"], list)
        description = self.text(entry, path + ["description"])
        with inner.shapes.held():
            for i, node in enumerate(nodes):
                self.node(inner, node, path + ["nodes", i])
            for i, edge in enumerate(edges):
                self.edge(inner, edge, path + ["edges", i])
        inputs = self.typed(entry, path + ["inputs"], list)
        for i, port in enumerate(inputs):
            where = path + ["inputs", i]
            if not isinstance(port, str):
                raise self.fail(where, f"must be the id of an Input node inside, got {_kind(port)}")
            if port not in inner or not inner.node(port).spec.is_input:
                raise self.fail(where, f"{shown(port)} is not an Input node inside {name}")
            if port in inputs[:i]:
                raise self.fail(where, f"the input {shown(port)} is listed twice")
        outputs_raw = self.typed(entry, path + ["outputs"], dict)
        outputs = []
        for port, target in outputs_raw.items():
            where = path + ["outputs", port]
            if not isinstance(target, str):
                raise self.fail(where, f"must be 'node.port' inside {name}, got {_kind(target)}")
            node_id, port_name = self.endpoint(inner, {port: target}, [port], outputs=True, place=where)
            if not _NAME.fullmatch(port):
                raise self.fail(where, f"a port name must be letters, digits and _, got {shown(port)}")
            outputs.append(OutputPort(port, node_id, port_name))
        if set(inputs) & set(outputs_raw):
            raise self.fail(path + ["outputs"], "an output cannot share its name with an input")
        exposed = []
        params_raw = entry.get("params", {})
        if not isinstance(params_raw, dict):
            raise self.fail(path + ["params"], f"must be an object, got {_kind(params_raw)}")
        for pname, spec_raw in params_raw.items():
            where = path + ["params", pname]
            if not _NAME.fullmatch(pname):
                raise self.fail(where, f"a parameter name must be letters, digits and _, got {shown(pname)}")
            if not isinstance(spec_raw, dict):
                raise self.fail(where, f"must be an object with default and sets, got {_kind(spec_raw)}")
            self.known_keys(spec_raw, where, ("default", "sets"), required=("default", "sets"))
            sets = self.typed(spec_raw, where + ["sets"], list)
            if not sets:
                raise self.fail(where + ["sets"], "must name at least one 'node.parameter' inside")
            targets = []
            for j, t in enumerate(sets):
                if not isinstance(t, str) or t.count(".") != 1:
                    raise self.fail(where + ["sets", j], f"must be 'node.parameter', got {_kind(t)}")
                node_id, param = t.split(".")
                if node_id not in inner:
                    raise self.fail(where + ["sets", j], f"no node {shown(node_id)} inside {name}")
                try:
                    inner.node(node_id).spec.param(param)
                except KeyError:
                    raise self.fail(where + ["sets", j], f"{node_id} has no parameter {shown(param)}") from None
                targets.append((node_id, param))
            first = inner.node(targets[0][0]).spec.param(targets[0][1])
            try:
                default = first.coerce(spec_raw["default"])
                for node_id, param in targets:
                    inner.node(node_id).spec.param(param).coerce(default)
            except ParamError as exc:
                raise self.fail(where + ["default"], exc.message) from None
            except (OverflowError, ValueError, TypeError) as exc:
                raise self.fail(where + ["default"], f"out of range ({exc})") from None
            exposed.append(Exposed(pname, tuple(targets), default))
        try:
            graph.library.add(Definition(name, inner, inputs, outputs, exposed, description))
        except GraphError as exc:
            raise self.fail(path + ["name"], str(exc)) from None

    # ---- one node ------------------------------------------------------
    def node(self, graph: Graph, entry: Any, path: list) -> None:
        if not isinstance(entry, dict):
            raise self.fail(path, f"a node must be an object, got {_kind(entry)}")
        self.known_keys(entry, path, NODE_KEYS, required=("id", "block"))
        node_id = self.typed(entry, path + ["id"], str)
        if not node_id:  # never renamed: the edges and the training settings may name it
            raise self.fail(path + ["id"], "a node id cannot be empty; give letters, digits and _")
        if node_id in graph:
            raise self.fail(path + ["id"], f"node id {shown(node_id)} is already taken")
        block = self.typed(entry, path + ["block"], str)
        if block not in graph.library.definitions and not blocks.exists(block):
            raise self.fail(path + ["block"], f"unknown block {shown(block)}{_suggest(block, graph)}")
        spec = graph.library.spec(block)
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
                raise self.fail(path + ["params", key],
                                f"{spec.name} has no parameter {shown(key)} (it has: {known})") from None
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
            if abs(f) > POSITION_LIMIT:
                raise self.fail(path + [i], f"must be within ±{POSITION_LIMIT:,.0f} (a canvas far wider than any "
                                            f"network), got {f:g}")
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

    def endpoint(self, graph: Graph, entry: dict, path: list, outputs: bool,
                 place: list | None = None) -> tuple[str, str]:
        text = self.typed(entry, path, str)
        path = place or path
        node_id, dot, port = text.partition(".")
        if not dot or not node_id or not port:
            raise self.fail(path, f"must be 'node.port', got {shown(text)}")
        if node_id not in graph:
            raise self.fail(path, f"no node {shown(node_id)}")
        node = graph.node(node_id)
        ports = node.output_ports() if outputs else node.input_ports()
        names = [p.name for p in ports]
        if port not in names:
            what = "output" if outputs else "input"
            have = ", ".join(names) or "none"
            raise self.fail(path, f"{node_id} ({node.block}) has no {what} {shown(port)} (it has: {have})")
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


def _suggest(name: str, graph: Graph | None = None) -> str:
    if len(name) > 100:  # nothing is that close to a block name, and comparing costs its length
        return ""
    names = [spec.name for spec in blocks.all_blocks()] + list(graph.library.definitions if graph else ())
    close = difflib.get_close_matches(name, names, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
