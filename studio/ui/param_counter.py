"""Parameter counts for the canvas and the status bar, recomputed only for the
nodes an edit touched. Blocks that declare their count are counted at once;
counting any other builds it on torch's meta device, so torch is then imported
on a background thread first and the counts follow."""

from __future__ import annotations

import sys
import threading

from PySide6.QtCore import QObject, QTimer, Signal

from studio.graph import GraphEvent

from .document import GraphEditor


class ParamCounter(QObject):
    counted = Signal(dict, object)  # {node: count or None} for nodes that changed, and the total (may pass 2^31)
    _torch_ready = Signal()

    def __init__(self, editor: GraphEditor, parent=None):
        super().__init__(parent)
        self.editor = editor
        self.counts: dict[str, int | None] = {}
        self._dirty: set[str] = set()
        self._warming = False
        self._unsubscribe = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.flush)
        self._torch_ready.connect(self.flush)
        editor.graph_replaced.connect(self._bind)
        self._bind(editor.graph)

    def _bind(self, graph) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        self.counts = {}
        self._dirty = set(graph.nodes)
        self._unsubscribe = graph.subscribe(self._on_event)
        self._timer.start()

    def _on_event(self, event: GraphEvent) -> None:
        if event.kind in ("node_added", "params_changed", "shapes_changed", "definition_changed"):
            self._dirty.update(event.nodes)
            self._timer.start()
        elif event.kind == "node_removed":
            self.counts.pop(event.nodes[0], None)
            self._dirty.discard(event.nodes[0])
            self._timer.start()

    @property
    def total(self) -> int:
        return sum(c or 0 for c in self.counts.values())

    def flush(self) -> None:
        graph = self.editor.document
        needs_torch = any(n in graph and _counts_with_torch(graph.node(n).spec) for n in self._dirty)
        if needs_torch and "torch" not in sys.modules:
            self._warm_up()
            return
        changed = {}
        for node_id in self._dirty:
            if node_id in graph:
                count = graph.param_count(node_id)
                if self.counts.get(node_id, -1) != count:
                    changed[node_id] = count
                self.counts[node_id] = count
        self._dirty.clear()
        self.counted.emit(changed, self.total)

    def compute_now(self) -> None:
        """Count everything pending right away (screenshots, tests)."""
        import torch  # noqa: F401

        self.flush()

    def _warm_up(self) -> None:
        if self._warming:
            return
        self._warming = True

        def load() -> None:
            import torch  # noqa: F401

            self._torch_ready.emit()  # queued to the UI thread

        threading.Thread(target=load, name="torch-import", daemon=True).start()


def _counts_with_torch(spec) -> bool:
    # A group sums its inside, whose blocks declare their counts as any other does.
    return spec.constructor is not None and spec.param_count is None and getattr(spec, "definition", None) is None
