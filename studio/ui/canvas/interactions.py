"""Mouse interactions as small objects: the scene hands them its events
while they run, instead of growing one large event handler."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF

from .edge_item import PendingWireItem
from .node_item import NodeItem, PortItem

if TYPE_CHECKING:
    from .scene import GraphScene


class NewWireInteraction:
    """Drag from a port: a wire follows the cursor, turns red with the reason
    over a port that would refuse it, and is drawn on release over one that
    accepts it. Released over empty canvas, it asks for a block to add."""

    def __init__(self, scene: "GraphScene", port: PortItem):
        self.scene = scene
        self.port = port
        self.item = PendingWireItem(port.scenePos(), port.is_output)
        scene.addItem(self.item)
        self.item.set_end(port.scenePos())

    def _endpoints(self, target: PortItem) -> tuple[str, str, str, str] | None:
        a, b = self.port, target
        if a.is_output == b.is_output:
            return None
        if not a.is_output:
            a, b = b, a
        return a.node_id, a.name, b.node_id, b.name

    def reason(self, target: PortItem) -> str:
        """Why a wire to ``target`` would be refused ('' when it may be drawn)."""
        ends = self._endpoints(target)
        if ends is None:
            side = "output" if self.port.is_output else "input"
            return f"{target.node_id}.{target.name} is an {side} too: wire an output to an input"
        refused = self.scene.editor.graph.check_connect(*ends)
        return refused.message if refused is not None else ""

    def _target_on_node(self, node: NodeItem) -> PortItem | None:
        """Dropped on a node's body: the first port on the facing side that accepts the wire."""
        candidates = node.inputs if self.port.is_output else node.outputs
        for port in candidates.values():
            if not self.reason(port):
                return port
        return next(iter(candidates.values()), None)

    def move(self, pos: QPointF) -> None:
        target = self.scene.port_at(pos, exclude=self.port)
        if target is None:
            node = self.scene.node_at(pos)
            if node is not None and node.node_id != self.port.node_id:
                target = self._target_on_node(node)
        if target is None:
            self.item.set_end(pos)
            return
        self.item.set_end(target.scenePos(), self.reason(target))

    def release(self, pos: QPointF) -> None:
        self.scene.removeItem(self.item)
        target = self.scene.port_at(pos, exclude=self.port)
        node = self.scene.node_at(pos)
        if target is None and node is not None and node.node_id != self.port.node_id:
            target = self._target_on_node(node)
        if target is not None:
            ends = self._endpoints(target)
            if ends is None:
                self.scene.refuse(self.reason(target))
                return
            refused = self.scene.editor.connect(*ends)
            if refused is not None:
                self.scene.refuse(refused.message)
            return
        if node is None:
            self.scene.wire_dropped.emit(self.port.node_id, self.port.name, self.port.is_output, pos)

    def cancel(self) -> None:
        if self.item.scene() is not None:
            self.scene.removeItem(self.item)
