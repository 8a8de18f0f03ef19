"""The canvas view: zoom to the cursor, pan, frame, the background grid,
block drops from the palette, and the quick search."""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QLineF, QPoint, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QGraphicsView

from .. import theme
from ..palette import block_from_mime
from .detail import detail_for
from .node_item import GRID, HEADER
from .quick_search import QuickSearch, takes_wire_from, takes_wire_through
from .scene import GraphScene

MIN_ZOOM = 0.1
MAX_ZOOM = 3.0
FRAME_MAX_ZOOM = 1.25
# Framing may zoom out further than the wheel does, so a long network (ResNet-18
# in one row) is still seen whole; the wheel takes it back into its range.
FRAME_MIN_ZOOM = 0.02


class PanInteraction:
    """Middle-button (or Space + left) drag moves the view, not the nodes."""

    def __init__(self, view: "GraphView", pos: QPoint):
        self.view = view
        self.last = pos
        view.keep_framed = False
        view.viewport().setCursor(Qt.ClosedHandCursor)

    def move(self, pos: QPoint) -> None:
        delta = pos - self.last
        self.last = pos
        self.view.pan_by(-delta.x(), -delta.y())

    def release(self) -> None:
        self.view.viewport().unsetCursor()


class GraphView(QGraphicsView):
    openRequested = Signal(str)  # a group node double-clicked (or Enter on it): show its inside
    leaveRequested = Signal()  # Esc with nothing else to cancel: back up from a group

    def __init__(self, scene: GraphScene, parent=None):
        super().__init__(scene, parent)
        self.setRenderHints(QPainter.Antialiasing | QPainter.TextAntialiasing | QPainter.SmoothPixmapTransform)
        self.setDragMode(QGraphicsView.RubberBandDrag)
        self.setRubberBandSelectionMode(Qt.IntersectsItemShape)
        self.setTransformationAnchor(QGraphicsView.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.AnchorViewCenter)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setViewportUpdateMode(QGraphicsView.SmartViewportUpdate)
        self.setCacheMode(QGraphicsView.CacheBackground)
        self.setOptimizationFlags(QGraphicsView.DontSavePainterState)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.StrongFocus)
        self.setFrameShape(QGraphicsView.NoFrame)
        self.quick_search = QuickSearch(self)
        self.quick_search.chosen.connect(self._quick_chosen)
        self.quick_search.closed.connect(self._quick_closed)
        self._search_at = QPointF()
        self._pending_wire: tuple[str, str, bool] | None = None
        self._pending_edge = None  # a wire the chosen block is spliced into
        self.context_menus = None  # set by the window: builds the right-click menus
        self._pan: PanInteraction | None = None
        self._space = False
        # After a file opens, the whole graph stays framed through resizes (docks
        # filling in, the window maximised) until the person zooms or pans.
        self.keep_framed = False
        scene.wire_dropped.connect(self._wire_dropped)

    @property
    def graph_scene(self) -> GraphScene:
        return self.scene()

    @property
    def editor(self):
        return self.graph_scene.editor

    # ---- zoom, pan, frame ----------------------------------------------
    def zoom(self) -> float:
        return self.transform().m11()

    def zoom_by(self, factor: float, at: QPointF | None = None) -> None:
        """Zoom by ``factor`` keeping the scene point under ``at`` (a viewport
        position; the centre when None) where it is."""
        self.keep_framed = False
        # Below the wheel's range (a framed long graph) zooming out stays put, never jumps in.
        target = min(MAX_ZOOM, max(min(MIN_ZOOM, self.zoom()), self.zoom() * factor))
        factor = target / self.zoom()
        if abs(factor - 1.0) < 1e-9:
            return
        at = QPointF(self.viewport().rect().center()) if at is None else QPointF(at)
        before = self.mapToScene(at.toPoint())
        old = self.transformationAnchor()
        self.setTransformationAnchor(QGraphicsView.NoAnchor)
        self.scale(factor, factor)
        self.setTransformationAnchor(old)
        after = self.mapToScene(at.toPoint())
        shift = (after - before) * self.zoom()
        self.pan_by(-shift.x(), -shift.y())

    def pan_by(self, dx: float, dy: float) -> None:
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() + int(round(dx)))
        self.verticalScrollBar().setValue(self.verticalScrollBar().value() + int(round(dy)))

    def frame(self, rect: QRectF) -> None:
        if rect.isNull() or rect.isEmpty():
            return
        rect = rect.adjusted(-60, -60, 60, 60)
        self.fitInView(rect, Qt.KeepAspectRatio)
        if self.zoom() <= 0:  # a scene too large for the view's arithmetic: leave it at the fit
            return
        if self.zoom() > FRAME_MAX_ZOOM:
            factor = FRAME_MAX_ZOOM / self.zoom()
            self.scale(factor, factor)
            self.centerOn(rect.center())
        elif self.zoom() < FRAME_MIN_ZOOM:
            self.scale(FRAME_MIN_ZOOM / self.zoom(), FRAME_MIN_ZOOM / self.zoom())
            self.centerOn(rect.center())

    def frame_all(self) -> None:
        self.frame(self._items_rect(self.graph_scene.nodes.values()))

    def frame_opened(self) -> None:
        """A graph just opened: show all of it, and keep it whole while the view resizes."""
        self.frame_all()
        self.keep_framed = True

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.keep_framed:
            self.frame_all()

    def frame_readable(self, min_zoom: float = 0.55, zoom: float = 0.8) -> None:
        """Frame everything if it stays readable; a graph too wide for that
        shows its beginning (where the inputs are) at a readable zoom instead."""
        rect = self._items_rect(self.graph_scene.nodes.values())
        self.frame(rect)
        if rect.isNull() or self.zoom() >= min_zoom:
            return
        self.scale(zoom / self.zoom(), zoom / self.zoom())
        view = self.mapToScene(self.viewport().rect()).boundingRect()
        self.centerOn(rect.left() - 40 + view.width() / 2, max(rect.center().y(), rect.top() - 40 + view.height() / 2)
                      if rect.height() > view.height() else rect.center().y())

    def frame_selected(self) -> None:
        self.keep_framed = False
        chosen = [self.graph_scene.nodes[n] for n in self.graph_scene.selected_node_ids()]
        if chosen:
            self.frame(self._items_rect(chosen))
        else:
            self.frame_all()

    @staticmethod
    def _items_rect(items) -> QRectF:
        rect = QRectF()
        for item in items:
            rect = rect.united(item.sceneBoundingRect())
        return rect

    def wheelEvent(self, event) -> None:
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom_by(1.15 ** steps, event.position())
        event.accept()

    # ---- background ----------------------------------------------------
    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        t = theme.current()
        # (what is asked may be far larger than what is seen: lines out of view cost as much)
        rect = rect.intersected(self.mapToScene(self.viewport().rect()).boundingRect().adjusted(-2, -2, 2, 2))
        painter.fillRect(rect, QColor(t.canvas))
        step = GRID
        while step * self.zoom() < 12:  # keep lines at least 12 px apart when zoomed out
            step *= 5
        left = math.floor(rect.left() / step) * step
        top = math.floor(rect.top() / step) * step
        minor, major = [], []
        x = left
        while x < rect.right():
            (major if round(x / step) % 5 == 0 else minor).append(QLineF(x, rect.top(), x, rect.bottom()))
            x += step
        y = top
        while y < rect.bottom():
            (major if round(y / step) % 5 == 0 else minor).append(QLineF(rect.left(), y, rect.right(), y))
            y += step
        painter.setPen(QPen(QColor(t.grid_minor), 0))
        painter.drawLines(minor)
        painter.setPen(QPen(QColor(t.grid_major), 0))
        painter.drawLines(major)
        self.graph_scene.draw_wires(painter)  # zoomed out only: the wires, straight, under the nodes

    def paintEvent(self, event) -> None:
        # The scale decides what the items draw (detail.py); checked here, where every change of
        # scale (wheel, framing, fitInView) ends up, before the items are asked to paint.
        self.graph_scene.set_detail(detail_for(self.zoom()))
        super().paintEvent(event)

    def refresh_theme(self) -> None:
        self.graph_scene.overview.dirty = True
        self.resetCachedContent()
        for item in self.graph_scene.items():
            item.update()
        self.viewport().update()

    # ---- keys and mouse ------------------------------------------------
    def event(self, event) -> bool:
        # Tab would move focus to the next widget; on the canvas it opens the quick search.
        if event.type() == QEvent.KeyPress and event.key() == Qt.Key_Tab and not event.modifiers():
            self.open_quick_search(self.mapFromGlobal(self.cursor().pos()))
            return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key_Space and not event.isAutoRepeat():
            self._space = True
            self.setDragMode(QGraphicsView.NoDrag)
        elif event.key() == Qt.Key_Escape:
            busy = self.graph_scene.interaction is not None or self.quick_search.isVisible()
            self.graph_scene.cancel_interaction()
            self.quick_search.dismiss()
            if not busy and self.editor.path:
                self.leaveRequested.emit()
                event.accept()
                return
        elif event.key() in (Qt.Key_Return, Qt.Key_Enter) and not event.modifiers():
            selected = self.graph_scene.selected_node_ids()
            if len(selected) == 1 and self.editor.can_enter(selected[0]):
                self.openRequested.emit(selected[0])
                event.accept()
                return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event) -> None:
        if event.key() == Qt.Key_Space and not event.isAutoRepeat():
            self._space = False
            self.setDragMode(QGraphicsView.RubberBandDrag)
        super().keyReleaseEvent(event)

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MiddleButton or (event.button() == Qt.LeftButton and self._space):
            self._pan = PanInteraction(self, event.position().toPoint())
            event.accept()
            return
        if self.quick_search.isVisible():
            self.quick_search.dismiss()
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if self._pan is not None:
            self._pan.move(event.position().toPoint())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if self._pan is not None:
            self._pan.release()
            self._pan = None
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event) -> None:
        pos = self.mapToScene(event.position().toPoint())
        node = self.graph_scene.node_at(pos) if event.button() == Qt.LeftButton else None
        if event.button() == Qt.LeftButton and node is None:
            self.open_quick_search(event.position().toPoint())
            event.accept()
            return
        if node is not None and node.is_group:
            event.accept()
            # after this event: the scene it came through is refilled with the group's inside
            QTimer.singleShot(0, self, lambda n=node.node_id: self.openRequested.emit(n))
            return
        super().mouseDoubleClickEvent(event)

    # ---- quick search --------------------------------------------------
    def open_quick_search(self, at: QPoint, wire: tuple[str, str, bool] | None = None, on_edge=None) -> None:
        """``wire``: a dropped wire's (node, port, port is output) to join the block to;
        ``on_edge``: a wire to splice the block into."""
        if not self.rect().contains(at):
            at = self.rect().center()
        self._search_at = self.mapToScene(at)
        self._pending_wire = wire
        self._pending_edge = on_edge
        if on_edge is not None:
            accepts = takes_wire_through
        else:
            accepts = takes_wire_from(wire[2]) if wire is not None else None
        self.quick_search.popup(at, accepts)

    def _wire_dropped(self, node_id: str, port: str, is_output: bool, pos: QPointF) -> None:
        self.open_quick_search(self.mapFromScene(pos), (node_id, port, is_output))

    def _quick_chosen(self, block: str) -> None:
        pos = self._search_at
        wire, self._pending_wire = self._pending_wire, None
        edge, self._pending_edge = self._pending_edge, None
        at = _node_origin(pos, wire)
        if edge is not None:
            node_id, reason = self.editor.insert_on_wire(block, self._free_spot(at), edge)
            if reason:
                self.graph_scene.refuse(reason)
        elif wire is None:
            node_id = self.editor.add_block(block, at)
        else:
            node_id, reason = self.editor.add_block_wired(block, at, *wire)
            if reason:
                self.graph_scene.refuse(reason)
        if node_id is not None:
            self.graph_scene.select_nodes([node_id])
        self.setFocus()

    def _free_spot(self, at: tuple[float, float]) -> tuple[float, float]:
        """``at``, or the nearest place below it where a new node covers no other
        (a block spliced into a short wire would otherwise hide its neighbours)."""
        x, y = at
        for _ in range(40):
            room = QRectF(x - GRID, y - GRID, 160 + 2 * GRID, 100 + 2 * GRID)
            if not any(room.intersects(item.sceneBoundingRect()) for item in self.graph_scene.nodes.values()):
                break
            y += 2 * GRID
        return (x, y)

    def _quick_closed(self) -> None:
        self._pending_wire = None
        self._pending_edge = None
        self.setFocus()

    # ---- right-click menus ---------------------------------------------
    def contextMenuEvent(self, event) -> None:
        if self.context_menus is None or self._pan is not None:
            super().contextMenuEvent(event)
            return
        self.graph_scene.cancel_interaction()
        menu = self.context_menus.menu_at(event.pos())
        # Keys belong to the canvas again once the menu is gone (not every platform
        # hands activation back from a popup by itself).
        menu.aboutToHide.connect(self._menu_closed)
        menu.popup(event.globalPos())
        event.accept()

    def _menu_closed(self) -> None:
        self.window().activateWindow()
        self.setFocus(Qt.PopupFocusReason)

    # ---- drops from the palette ----------------------------------------
    def dragEnterEvent(self, event) -> None:
        if block_from_mime(event.mimeData(), self.editor.graph.library):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        if block_from_mime(event.mimeData(), self.editor.graph.library):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event) -> None:
        name = block_from_mime(event.mimeData(), self.editor.graph.library)
        if not name:
            event.ignore()
            return
        pos = self.mapToScene(event.position().toPoint())
        node_id = self.editor.add_block(name, _node_origin(pos, None))
        self.graph_scene.select_nodes([node_id])
        event.acceptProposedAction()
        self.setFocus()


def _node_origin(pos: QPointF, wire) -> tuple[float, float]:
    """Where a new node's corner goes so that it sits under the cursor (a wired
    one with its input port at the cursor), on the grid."""
    if wire is not None and wire[2]:
        x, y = pos.x(), pos.y() - HEADER - 20
    elif wire is not None:
        x, y = pos.x() - 160, pos.y() - HEADER - 20
    else:
        x, y = pos.x() - 80, pos.y() - HEADER / 2
    return (round(x / GRID) * GRID, round(y / GRID) * GRID)
