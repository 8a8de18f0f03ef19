"""Typed errors of the document; each carries the place a person must look at."""

from __future__ import annotations

from dataclasses import dataclass


class GraphError(Exception):
    pass


class NodeIdError(GraphError, KeyError):
    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class ConnectionRefused(GraphError):
    """A wire that may not be drawn; ``node`` and ``port`` name its input end."""

    def __init__(self, message: str, node: str | None, port: str | None):
        super().__init__(message)
        self.message = message
        self.node = node
        self.port = port


class UnknownPortError(ConnectionRefused):
    pass


class DuplicateEdgeError(ConnectionRefused):
    pass


class InputTakenError(ConnectionRefused):
    pass


class CycleError(ConnectionRefused):
    pass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a graph, at a node and (where it applies) a port.

    ``kind``: "shape" (a shape rule refused), "unconnected" (a required input has
    no wire), "structure" (no input, nothing to compute, ...), "dtype" (ids where
    values belong, or the reverse), "lint" (the network doctor's findings), "config",
    "data".
    ``level``: "error" keeps the graph from compiling or training; "warning" lets it
    train, badly (a Softmax before cross entropy, eight sigmoids in a row).
    ``code``: the doctor's name for the finding (``spatial-linear``), listed in docs/checks.md.
    ``fixes``: edits that would mend it, each one undoable step (``studio.graph.fixes``).
    """

    node: str | None
    port: str | None
    message: str
    kind: str = "shape"
    level: str = "error"
    code: str = ""
    fixes: tuple = ()

    def __str__(self) -> str:
        # A setting's message names its key ("training.optimizer.lr: ..."); a data set's names its
        # file and line: neither is "graph".
        if self.node is None and self.kind == "config":
            return self.message
        if self.node is None and self.kind == "data":
            return f"data set: {self.message}"
        where = self.node or "graph"
        if self.port:
            where += f".{self.port}"
        return f"{where}: {self.message}"

    @property
    def is_warning(self) -> bool:
        return self.level == "warning"

    def to_json(self) -> dict:
        out = {"node": self.node, "port": self.port, "message": self.message, "kind": self.kind}
        if self.level != "error" or self.code or self.fixes:
            out.update(level=self.level, code=self.code, fixes=[f.to_json() for f in self.fixes])
        return out


class InvalidGraphError(GraphError):
    """A graph with problems was asked to do something only a valid graph can."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"the graph has {len(self.problems)} problem(s):\n{lines}")
