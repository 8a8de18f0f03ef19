"""Autosave to a recovery file every minute while there are unsaved changes.
A clean close removes it; finding it at the next start means the last run
ended without closing, so the window offers the recovered graph."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, QTimer

from studio import files
from studio.graph import Graph

INTERVAL_MS = 60_000
GRAPH_FILE = "autosave.json"
META_FILE = "autosave.meta.json"


@dataclass
class Recovered:
    graph: Graph
    original_path: str | None
    saved_at: float


class Autosaver(QObject):
    def __init__(self, directory: Path, graph: Callable[[], Graph], modified: Callable[[], bool],
                 original_path: Callable[[], str | None], interval_ms: int = INTERVAL_MS, parent=None):
        super().__init__(parent)
        self.directory = Path(directory)
        self._graph = graph
        self._modified = modified
        self._original_path = original_path
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.save_now)

    def start(self) -> None:
        self.timer.start()

    def save_now(self) -> bool:
        """Write the recovery file if there is anything unsaved; returns whether it wrote."""
        if not self._modified():
            self.clear()
            return False
        self.directory.mkdir(parents=True, exist_ok=True)
        files.save(self._graph(), self.directory / GRAPH_FILE)
        meta = {"original_path": self._original_path(), "saved_at": time.time()}
        tmp = self.directory / (META_FILE + ".tmp")
        tmp.write_text(json.dumps(meta))
        os.replace(tmp, self.directory / META_FILE)
        return True

    def clear(self) -> None:
        for name in (GRAPH_FILE, META_FILE):
            try:
                (self.directory / name).unlink()
            except FileNotFoundError:
                pass


def pending(directory: Path) -> Path | None:
    path = Path(directory) / GRAPH_FILE
    return path if path.exists() else None


def load(directory: Path) -> Recovered:
    """The recovered graph; raises GraphFileError when the file is unreadable."""
    directory = Path(directory)
    graph = files.load(directory / GRAPH_FILE)
    try:
        meta = json.loads((directory / META_FILE).read_text())
    except (OSError, ValueError):
        meta = {}
    return Recovered(graph, meta.get("original_path"), float(meta.get("saved_at", 0.0)))
