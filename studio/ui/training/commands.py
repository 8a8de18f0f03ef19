"""The undoable edit of a graph's training settings."""

from __future__ import annotations

import copy
from typing import Any, Mapping

from PySide6.QtGui import QUndoCommand

from studio.graph import Graph

_MERGE_ID = 0x7A11  # any constant unique among the app's commands


class SetTrainingCommand(QUndoCommand):
    """Replace ``graph.training``; consecutive edits of the same setting merge
    into one undo step (a spin box held down is one change, not fifty)."""

    def __init__(self, graph: Graph, training: Mapping[str, Any], key: str = "", text: str | None = None,
                 parent: QUndoCommand | None = None) -> None:
        super().__init__(text or (f"Set training {key}" if key else "Change training settings"), parent)
        self.graph = graph
        self.key = key
        self.old = copy.deepcopy(graph.training)
        self.new = copy.deepcopy(dict(training))

    def redo(self) -> None:
        self.graph.set_training(self.new)

    def undo(self) -> None:
        self.graph.set_training(self.old)

    def id(self) -> int:
        return _MERGE_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SetTrainingCommand) or other.graph is not self.graph:
            return False
        if not self.key or other.key != self.key:
            return False
        self.new = copy.deepcopy(other.new)
        return True
