"""Putting the training panel into the main window and wiring it to the editor.

The window stays unaware of training: it offers a dock (``set_training_panel``),
its editor (document, undo stack, ``graph_replaced``) and its scene (node and
edge items, selection). While a run trains, wires take the colour of the
gradient norm reaching them and nodes whose gradients vanish or explode get
a badge; both are cleared when the run ends.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QBrush, QColor, QFont
from PySide6.QtWidgets import QApplication, QGraphicsSimpleTextItem
from shiboken6 import isValid

from .colors import gradient_rgb
from .dock_size import MAX_SHARE, MIN_DOCK_HEIGHT, dock_height
from .panel import TrainingPanel

BADGE_TEXT = {"vanishing": "∇ vanishing gradient", "exploding": "∇ exploding gradient"}
BADGE_COLOR = {"vanishing": "#1f77b4", "exploding": "#d62728"}


def _base_dir(window: Any) -> Path | None:
    path = getattr(window, "path", None)
    return Path(path).parent if path else None


class ReachQuestions:
    """The person's say on what a graph file may use outside its folder: asked once per place
    and document, remembered per file (AppSettings)."""

    def __init__(self, window: Any) -> None:
        self.window = window
        self.declined: set[str] = set()

    def ask(self, outside: Any) -> bool:
        resolved = str(outside.resolved)
        if resolved in self.declined:
            return False
        from .. import dialogs

        path = getattr(self.window, "path", None)
        name = Path(path).name if path else "This graph"
        if dialogs.ask_outside(self.window, name, outside.written, resolved, str(outside.folder)):
            return True
        self.declined.add(resolved)
        return False

    def for_document(self, graph: Any) -> list[str]:
        """What the window's (new) document may use outside its folder: what was allowed
        before, plus the answers to what it names outside now."""
        from studio.files.reach import Reach
        from studio.training.preflight import outside_paths

        self.declined = set()
        settings = getattr(self.window, "settings", None)
        path = getattr(self.window, "path", None)
        granted = settings.granted_outside(path) if settings is not None else []
        try:
            outside = outside_paths(graph, Reach.of(_base_dir(self.window), granted))
        except Exception:  # a path it cannot even resolve is refused where it is used, with its message
            outside = []
        asked = False
        for o in outside:
            if str(o.resolved) not in granted and self.ask(o):
                granted.append(str(o.resolved))
                asked = True
        if asked:
            self.remember(granted)
        return granted

    def remember(self, granted: list[str]) -> None:
        settings = getattr(self.window, "settings", None)
        path = getattr(self.window, "path", None)
        if settings is not None and path:
            settings.set_granted_outside(path, granted)


class CanvasGradients:
    """Colours the scene's wires by gradient norm and badges flagged nodes."""

    def __init__(self, scene: Any) -> None:
        self.scene = scene
        self.badges: dict[str, QGraphicsSimpleTextItem] = {}

    def show_norms(self, norms: dict[str, float]) -> None:
        if self.scene.counts_own:
            norms = {}  # a group's inside is shown: its ids are not the run's nodes
        for edge, item in list(self.scene.edges.items()):
            # The gradient a wire carries back is what its consumer's weights see, else its producer's.
            norm = norms.get(edge.dst, norms.get(edge.src))
            item.gradient_color = QColor(*gradient_rgb(norm)) if norm is not None else None
            item.setToolTip(f"gradient norm {norm:.2e}" if norm is not None else "")
            item.update()

    def show_flags(self, flags: dict[str, str]) -> None:
        if self.scene.counts_own:
            flags = {}  # a group's inside is shown: its ids are not the run's nodes
        for node_id in list(self.badges):
            if node_id not in flags:
                badge = self.badges.pop(node_id)
                if badge.scene() is not None:
                    badge.scene().removeItem(badge)
        for node_id, flag in flags.items():
            node_item = self.scene.nodes.get(node_id)
            if node_item is None:
                continue
            badge = self.badges.get(node_id)
            if badge is None or badge.parentItem() is not node_item:
                badge = QGraphicsSimpleTextItem(node_item)
                font = QFont()
                font.setPointSizeF(8)
                font.setBold(True)
                badge.setFont(font)
                badge.setPos(0, -18)
                self.badges[node_id] = badge
            badge.setText(BADGE_TEXT[flag])
            badge.setBrush(QBrush(QColor(BADGE_COLOR[flag])))

    def clear(self) -> None:
        self.show_norms({})
        self.show_flags({})


class ShareOfHeight(QObject):
    """The Training dock keeps its share of the window's height as the window grows or shrinks.

    A main window gives all new room to its central widget: maximised, the canvas got it all and
    the plots stayed as low as before. The share is what the person last left: the first height,
    or where they dragged the separator to.
    """

    def __init__(self, window: Any, dock: Any) -> None:
        super().__init__(window)
        self.window = window
        self.dock = dock
        self.window_height = max(1, window.height())
        self.share = dock.height() / self.window_height
        window.installEventFilter(self)
        dock.installEventFilter(self)

    def start(self, height: int) -> None:
        """Give the dock ``height`` now and keep that share from here on."""
        self.window_height = max(1, self.window.height())
        self.share = height / self.window_height
        self.window.resizeDocks([self.dock], [height], Qt.Orientation.Vertical)

    def _docked(self) -> bool:
        return self.dock.isVisible() and not self.dock.isFloating()

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt name)
        if event.type() != QEvent.Type.Resize or not (isValid(self.window) and isValid(self.dock)):
            return False
        height = self.window.height()
        if obj is self.window:
            if height != self.window_height and self._docked():
                self.window_height = max(1, height)
                target = int(round(self.share * height))
                target = max(MIN_DOCK_HEIGHT, min(target, int(MAX_SHARE * height)))
                # Applied at the window's next layout pass; the dock's resize then confirms the share.
                self.window.resizeDocks([self.dock], [target], Qt.Orientation.Vertical)
        elif obj is self.dock and height == self.window_height and self._docked():
            # The window kept its size: the person moved the separator (or our own resize landed).
            self.share = self.dock.height() / max(1, height)
        return False


class _StopOnClose(QObject):
    """A window that closes stops its run first: a thread must not outlive its widgets. The
    window answers the close itself before (it may ask about unsaved changes, and a person who
    cancels keeps the run)."""

    def __init__(self, panel: TrainingPanel) -> None:
        super().__init__(panel)
        self.panel = panel
        self._inside = False

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt name)
        if event.type() != QEvent.Type.Close or self._inside:
            return False
        self._inside = True
        try:
            obj.event(event)
        finally:
            self._inside = False
        if event.isAccepted():
            self.panel.shutdown()
        return True  # answered above


def _file_menu(window: Any) -> Any:
    menu = getattr(window, "file_menu", None)
    if menu is None:
        actions = window.menuBar().actions()
        menu = actions[0].menu() if actions else None
    return menu


def add_save_weights_action(window: Any, panel: TrainingPanel) -> QAction | None:
    """File > Save Trained Weights…: the last run's weights as the checkpoint the command line's
    ``studio export --weights`` takes. Enabled while the panel holds trained weights."""
    menu = _file_menu(window)
    if menu is None:
        return None
    action = QAction("Save Trained &Weights…", window)
    action.setObjectName("save_trained_weights")
    action.setStatusTip("Save the last run's trained weights (.safetensors) for studio export --weights")
    action.setEnabled(panel.has_weights)

    def save() -> None:
        if not panel.has_weights:
            return
        from studio.ui import dialogs

        graph_path = getattr(window, "path", None)
        stem = Path(graph_path).stem if graph_path else (panel.graph.name or "untitled").replace(" ", "_")
        folder = Path(graph_path).parent if graph_path else Path.cwd()
        chosen = dialogs.save_weights_name(window, str(folder / f"{stem}.safetensors"))
        if not chosen:
            return
        try:
            written = panel.save_weights(chosen)
        except (OSError, ValueError) as exc:
            dialogs.show_error(window, "Could not save the trained weights", f"{chosen}: {exc}")
            return
        window.statusBar().showMessage(f"Saved trained weights to {written}", 8000)

    action.triggered.connect(save)
    panel.weightsChanged.connect(action.setEnabled)
    _insert_before_quit(window, menu, action)
    window.act_save_weights = action
    return action


def _insert_before_quit(window: Any, menu: Any, action: QAction) -> None:
    """Before the separator that closes the save group (after Save As and Export), above Quit."""
    actions = menu.actions()
    quit_action = getattr(window, "act_quit", None)
    at = actions.index(quit_action) if quit_action in actions else len(actions)
    while at > 0 and actions[at - 1].isSeparator():
        at -= 1
    if at < len(actions):
        menu.insertAction(actions[at], action)
    else:
        menu.addAction(action)


def add_load_weights_action(window: Any, panel: TrainingPanel) -> QAction | None:
    """File > Load Weights…: a weights file (Save Trained Weights', ``studio import --weights``', a
    checkpoint's) into the panel, checked against the graph all or nothing: the next Train continues
    from them and Try it uses them. A file that does not fit is refused, naming it and its tensors."""
    menu = _file_menu(window)
    if menu is None:
        return None
    action = QAction("&Load Weights…", window)
    action.setObjectName("load_weights")
    action.setStatusTip("Load trained weights (.safetensors) into the graph: Train continues from them, "
                        "Try it uses them")

    def load() -> None:
        from studio.ui import dialogs

        from . import weights_file

        graph_path = getattr(window, "path", None)
        folder = str(Path(graph_path).parent) if graph_path else str(Path.cwd())
        chosen = weights_file.open_weights_name(window, folder)
        if not chosen:
            return
        try:
            loaded = panel.load_weights(chosen)
        except weights_file.WeightsRefused as exc:
            dialogs.show_error(window, "Could not load the weights", str(exc))
            window.statusBar().showMessage(f"Weights not loaded from {Path(chosen).name}", 8000)
            return
        window.statusBar().showMessage(loaded, 8000)

    action.triggered.connect(load)
    save = getattr(window, "act_save_weights", None)
    actions = menu.actions()
    if save in actions:
        menu.insertAction(save, action)  # the two weights entries side by side, Load first
    else:
        _insert_before_quit(window, menu, action)
    window.act_load_weights = action
    return action


def install(window: Any) -> TrainingPanel:
    """Create the panel for ``window``'s document and put it in its Training dock."""
    editor = window.editor
    panel = TrainingPanel(editor.graph, editor.undo_stack, base_dir=_base_dir(window))
    dock = getattr(window, "training_dock", None)
    # Measured before the panel goes in: its minimum size lifts the place holder's low strip.
    placeholder_height = dock.height() if dock is not None else 0
    window.set_training_panel(panel)
    window.training_panel = panel
    if dock is not None:
        window.training_share = share = ShareOfHeight(window, dock)
        if placeholder_height < MIN_DOCK_HEIGHT:
            # The place holder's strip is too low for plots; a height the person chose is left alone.
            share.start(dock_height(window.height()))
    window.installEventFilter(_StopOnClose(panel))
    add_save_weights_action(window, panel)
    add_load_weights_action(window, panel)
    scene = window.scene
    canvas = CanvasGradients(scene)
    panel.canvas_gradients = canvas

    reach_questions = ReachQuestions(window)
    panel.chooser.ask_outside = reach_questions.ask
    panel.chooser.grantsChanged.connect(reach_questions.remember)
    if getattr(window, "path", None):  # a file opened before the dock was made
        panel.set_graph(editor.graph, editor.undo_stack, _base_dir(window), reach_questions.for_document(editor.graph))

    def on_graph_replaced(graph) -> None:
        canvas.badges.clear()  # their items went with the old scene contents
        granted = reach_questions.for_document(graph)
        panel.set_graph(graph, editor.undo_stack, _base_dir(window), granted)

    def on_selection() -> None:
        if not (isValid(scene) and isValid(panel)):  # the window is being torn down
            return
        selected = scene.selected_node_ids()
        panel.set_selected_node(selected[0] if len(selected) == 1 else None)

    def on_problem(node_id: str) -> None:
        if not isValid(scene):
            return
        item = scene.nodes.get(node_id)
        if item is None:
            return
        scene.clearSelection()
        item.setSelected(True)
        window.view.centerOn(item)

    editor.graph_replaced.connect(on_graph_replaced)

    def on_edit(_index: int) -> None:
        if isValid(panel):
            panel.try_it.note_graph(editor.document)  # an edit since training: Try it says what changed

    editor.undo_stack.indexChanged.connect(on_edit)
    if hasattr(window, "documentPathChanged"):
        def on_path(_path) -> None:
            reach_questions.remember(panel.chooser.granted)  # saved under its new name
            panel.set_base_dir(_base_dir(window))

        window.documentPathChanged.connect(on_path)
    scene.selectionChanged.connect(on_selection)
    panel.problemActivated.connect(on_problem)
    panel.gradientNorms.connect(canvas.show_norms)
    panel.gradientFlags.connect(canvas.show_flags)
    inspector = getattr(window, "inspector", None)
    if inspector is not None:
        panel.probeShown.connect(inspector.show_probe)  # an activation's curve shows the inputs it receives
    panel.runStarted.connect(lambda _n: canvas.clear())

    def keys_to_canvas(_run: int) -> None:
        # The form is locked while the run trains; keys typed next are meant for the canvas, and a
        # Tab there opens the quick search rather than stepping into the data set's combo box.
        focus = QApplication.focusWidget()
        if focus is None or panel.isAncestorOf(focus):
            window.view.setFocus(Qt.FocusReason.OtherFocusReason)

    panel.runStarted.connect(keys_to_canvas)
    panel.runFinished.connect(lambda _s: canvas.clear())
    return panel
