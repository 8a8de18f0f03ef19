"""Autosave to a recovery file every minute while there are unsaved changes.

Each window has its own slot (a folder under the recovery folder) and holds a
lock on it while it lives. A clean close removes the window's own slot and no
other; a slot whose lock nobody holds was left by a window that ended without
closing (a crash, a kill), so the next window offers what it holds.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QLockFile, QObject, QTimer, Signal

from studio import files
from studio.graph import Graph

INTERVAL_MS = 60_000
GRAPH_FILE = "autosave.json"
META_FILE = "autosave.meta.json"
LOCK_FILE = "lock"


@dataclass
class Recovered:
    graph: Graph
    original_path: str | None
    saved_at: float


def _lock(slot: Path) -> QLockFile | None:
    """The slot's lock, held; None when a living window holds it."""
    lock = QLockFile(str(slot / LOCK_FILE))
    # Only a dead owner makes a lock stale: a window may live for days.
    lock.setStaleLockTime(0)
    return lock if lock.tryLock(0) else None


class Orphan:
    """A slot no living window holds, claimed (locked) by this process until taken or released."""

    def __init__(self, slot: Path, lock: QLockFile):
        self.slot = slot
        self._lock = lock

    @property
    def graph_file(self) -> Path:
        return self.slot / GRAPH_FILE

    def saved_at(self) -> float:
        try:
            return float(json.loads((self.slot / META_FILE).read_text()).get("saved_at", 0.0))
        except (OSError, ValueError, TypeError, AttributeError):
            try:
                return self.graph_file.stat().st_mtime
            except OSError:
                return 0.0

    def load(self) -> Recovered:
        """The recovered graph; raises GraphFileError when the file is unreadable."""
        graph = files.load(self.graph_file)
        try:
            meta = json.loads((self.slot / META_FILE).read_text())
            original, saved_at = meta.get("original_path"), float(meta.get("saved_at", 0.0))
            original = original if isinstance(original, str) else None
        except (OSError, ValueError, TypeError, AttributeError):
            original, saved_at = None, 0.0
        return Recovered(graph, original, saved_at)

    def keep_aside(self) -> Path:
        """An unreadable recovery file is moved aside, never deleted; returns where it went."""
        aside = self.slot.parent / f"unreadable-{self.slot.name}.json"
        try:
            os.replace(self.graph_file, aside)
        except OSError:
            aside = self.graph_file
        self.discard()
        return aside

    def discard(self) -> None:
        """Forget this slot (taken into a window, declined, or empty)."""
        self._lock.unlock()
        shutil.rmtree(self.slot, ignore_errors=True)

    def release(self) -> None:
        """Leave the slot for a later window."""
        self._lock.unlock()


def pending(root: Path) -> list[Orphan]:
    """Slots left by windows that did not close, newest first; each is claimed until
    discarded or released. Empty slots are cleared on the way."""
    root = Path(root)
    found: list[Orphan] = []
    try:
        slots = [p for p in root.iterdir() if p.is_dir()]
    except OSError:
        return []
    for slot in slots:
        lock = _lock(slot)
        if lock is None:
            continue
        orphan = Orphan(slot, lock)
        if orphan.graph_file.exists():
            found.append(orphan)
        else:
            orphan.discard()
    found.sort(key=lambda o: o.saved_at(), reverse=True)
    return found


class Autosaver(QObject):
    """Writes the window's graph into the window's own slot every ``interval_ms``."""

    failed = Signal(str)

    def __init__(self, root: Path, graph: Callable[[], Graph], modified: Callable[[], bool],
                 original_path: Callable[[], str | None], interval_ms: int = INTERVAL_MS, parent=None):
        super().__init__(parent)
        self.root = Path(root)
        self.slot = self.root / f"window-{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self.lock: QLockFile | None = None
        self._graph = graph
        self._modified = modified
        self._original_path = original_path
        self._last_failure = ""
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.save_now)

    def start(self) -> None:
        self.timer.start()

    def _claim(self) -> None:
        if self.lock is None:
            self.slot.mkdir(parents=True, exist_ok=True)
            self.lock = _lock(self.slot)

    def save_now(self) -> bool:
        """Write the recovery file if there is anything unsaved; returns whether it wrote.
        A failure is reported once through ``failed`` (a timer must not raise)."""
        if not self._modified():
            self.clear()
            return False
        try:
            self._claim()
            files.save(self._graph(), self.slot / GRAPH_FILE)
            meta = {"original_path": self._original_path(), "saved_at": time.time()}
            tmp = self.slot / (META_FILE + ".tmp")
            tmp.write_text(json.dumps(meta))
            os.replace(tmp, self.slot / META_FILE)
        except (OSError, files.GraphFileError) as exc:
            message = f"Autosave failed: {exc}"
            if message != self._last_failure:
                self._last_failure = message
                self.failed.emit(message)
            return False
        self._last_failure = ""
        return True

    def clear(self) -> None:
        """Remove this window's recovery files (and no other window's)."""
        for name in (GRAPH_FILE, META_FILE):
            try:
                (self.slot / name).unlink()
            except OSError:
                pass

    def close(self) -> None:
        """A clean close: the slot goes, and its lock with it."""
        self.timer.stop()
        if self.lock is not None:
            self.lock.unlock()
            self.lock = None
        shutil.rmtree(self.slot, ignore_errors=True)
