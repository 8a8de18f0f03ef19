"""Tabs of the training views that only some graphs need: shown while the graph holds one of
their blocks (Attention for attention layers, Embeddings for Embedding layers), hidden otherwise."""

from __future__ import annotations

from collections import Counter
from typing import Callable

from PySide6.QtWidgets import QTabWidget, QWidget
from shiboken6 import isValid

from studio.graph import Graph

ATTENTION_BLOCKS = frozenset({"MultiheadAttention", "TransformerEncoderLayer"})
EMBEDDING_BLOCKS = frozenset({"Embedding"})


class BlockTabs:
    def __init__(self, tabs: QTabWidget, graph: Graph, wanted: dict[QWidget, frozenset[str]]) -> None:
        """``wanted``: each tab's page -> the blocks it draws."""
        self.tabs = tabs
        self.wanted = wanted
        self._unsubscribe: Callable[[], None] = lambda: None
        self._uses: Counter[str] = Counter()  # the graph's own blocks -> how many nodes use each
        self.set_graph(graph)

    def set_graph(self, graph: Graph) -> None:
        self._unsubscribe()
        self.graph = graph
        self._unsubscribe = graph.subscribe(self._on_event)
        self.update()

    def _on_event(self, event) -> None:
        # A grouping or its undo sends hundreds of these: only a block coming into the graph or
        # leaving it (its count going from or to 0) can change what the tabs show.
        kind = event.kind
        if kind == "node_added":
            block = self.graph.node(event.nodes[0]).block
            self._uses[block] += 1
            if self._uses[block] > 1:
                return
        elif kind == "node_removed":
            block = event.old.block
            self._uses[block] -= 1
            if self._uses[block] > 0:
                return
            del self._uses[block]
        elif kind != "definition_changed":
            return
        self.update()

    def update(self) -> None:
        if not isValid(self.tabs):  # the panel went; the document it showed may live on
            return
        self._uses = Counter(node.block for node in self.graph.nodes.values())
        present = set(self._uses)
        # the blocks inside the groups used, to any depth: a Transformer's attention in its layers
        definitions = self.graph.library.definitions
        todo = [name for name in present if name in definitions]
        while todo:
            for node in definitions[todo.pop()].graph.nodes.values():
                if node.block not in present:
                    present.add(node.block)
                    if node.block in definitions:
                        todo.append(node.block)
        for page, blocks in self.wanted.items():
            index = self.tabs.indexOf(page)
            if index >= 0 and self.tabs.isTabVisible(index) != bool(present & blocks):
                self.tabs.setTabVisible(index, bool(present & blocks))
