"""The one error a graph file can raise, naming the file and the JSON path at fault."""

from __future__ import annotations

from typing import Iterable

from studio.graph.text import json_place


class GraphFileError(Exception):
    """A graph file that cannot be read or written.

    ``source`` is the file (or ``<string>``), ``path`` the JSON path inside it
    (``nodes[3].block``; None when the fault is the file as a whole) and
    ``reason`` what is wrong there. ``str()`` joins the three:
    ``examples/bad.json: nodes[3].block: unknown block 'Conv3x'``.
    """

    def __init__(self, source: str, path: str | None, reason: str):
        self.source = source
        self.path = path
        self.reason = reason
        super().__init__(": ".join(part for part in (source, path, reason) if part))


def json_path(parts: Iterable[str | int]) -> str:
    """``["nodes", 3, "params", "kernel_size"]`` -> ``nodes[3].params.kernel_size``."""
    return json_place(parts)
