"""The main window: canvas in the middle, palette, inspector, problems and
training docks around it, menus with the standard shortcuts, files, and the
status bar."""

from __future__ import annotations

import json
import re
import sys
import time
from typing import Callable
from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QApplication, QDockWidget, QLabel, QMainWindow, QVBoxLayout, QWidget
from shiboken6 import isValid

from studio import files
from studio.doctor.lints import standing
from studio.graph import Graph, Problem
from studio.graph.fixes import Fix
from studio.lessons.catalog import EXAMPLES_DIR

from . import dialogs, icons, recovery, start_screen, theme
from . import help as help_ui
from .breadcrumb import Breadcrumb
from .canvas.context_menu import CanvasMenus
from .canvas.format import count_text
from .canvas.scene import GraphScene
from .canvas.view import GraphView
from .document import GraphEditor
from .document.clipboard import MIME_TYPE, ClipboardError
from .importing import add_import_action
from .inspector import InspectorWidget
from .lessons import LessonsPanel
from .palette import PaletteWidget
from .param_counter import ParamCounter
from .problems import ProblemsWidget, by_node
from .problems import count_text as problems_text
from .settings import AppSettings
from .training.dock_size import dock_height

APP_NAME = "Studio"


LESSONS_WIDTH = 380


class MainWindow(QMainWindow):
    # The document's file moved (Save As): paths in it, such as its data file, are read from there now.
    documentPathChanged = Signal(object)  # Path | None
    # The window has painted and made its training dock after that: what start-up deferred further
    # (torch) may load now, without competing with the dock for the interpreter.
    startedUp = Signal()

    def __init__(self, settings: AppSettings | None = None, autosave_ms: int = recovery.INTERVAL_MS):
        super().__init__()
        self.settings = settings or AppSettings()
        self.path: Path | None = None
        self._recovered_unsaved = False
        self.setWindowIcon(icons.app_icon())
        self.setDockOptions(QMainWindow.AnimatedDocks | QMainWindow.AllowTabbedDocks)

        self.editor = GraphEditor(parent=self)
        self.scene = GraphScene(self.editor, self)
        self.scene.snapping = self.settings.snapping
        self.view = GraphView(self.scene, self)
        self.view.context_menus = CanvasMenus(self)
        # Above the canvas while a group is open: where the canvas is, and what an edit there reaches.
        self.breadcrumb = Breadcrumb(self.editor)
        self.breadcrumb.crumbClicked.connect(self.leave_group)
        self.view.openRequested.connect(self.open_group)
        self.view.leaveRequested.connect(lambda: self.leave_group(len(self.editor.path) - 1))
        self._view_states: list[tuple] = []  # each level left for a group: its zoom and scroll
        centre = QWidget()
        column = QVBoxLayout(centre)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.breadcrumb)
        column.addWidget(self.view, 1)
        self.setCentralWidget(centre)
        self.shortcuts_dialog: help_ui.ShortcutsDialog | None = None
        self.block_reference: help_ui.BlockReferenceDialog | None = None
        self._rename_edit = None
        self._export_worker = None  # the thread File > Export writes on, made at the first export
        self.last_export: list[Path] = []  # the files the last export wrote

        self.palette = PaletteWidget(self.editor)  # follows the document's own blocks ("My blocks")
        self.palette.block_activated.connect(self._add_at_centre)
        self.palette_dock = self._dock("Blocks", "Palette", self.palette, Qt.LeftDockWidgetArea)
        self.inspector = InspectorWidget(self.editor)
        self.inspector_dock = self._dock("Inspector", "Inspector", self.inspector, Qt.RightDockWidgetArea)
        # Below the Inspector: both in view, and the canvas keeps its width.
        self.problems = ProblemsWidget()
        self.problems_dock = self._dock("Problems", "Problems", self.problems, Qt.RightDockWidgetArea)
        self.splitDockWidget(self.inspector_dock, self.problems_dock, Qt.Vertical)
        self.problems.problemActivated.connect(self.show_node)
        self.problems.fixChosen.connect(self.apply_fix)
        self.standing: list[Problem] = []  # what the doctor finds now: the dock, the canvas and the status bar show it
        placeholder = QLabel("Training appears here.")
        placeholder.setObjectName("hint")
        placeholder.setAlignment(Qt.AlignCenter)
        self.training_dock = self._dock("Training", "Training", placeholder, Qt.BottomDockWidgetArea)
        self.lessons_panel: LessonsPanel | None = None  # made when first asked for
        self.lessons_dock: QDockWidget | None = None
        self.resizeDocks([self.palette_dock, self.inspector_dock], [210, 290], Qt.Horizontal)
        self.resizeDocks([self.training_dock], [130], Qt.Vertical)

        self.counter = ParamCounter(self.editor, self)
        self.counter.counted.connect(self._on_counted)

        self.status_label = QLabel()
        self.statusBar().addPermanentWidget(self.status_label)
        self.statusBar().setSizeGripEnabled(False)
        self._status_timer = QTimer(self, singleShot=True, interval=0, timeout=self._update_status)
        # The doctor's list is kept until what it reads moves: the document (each step and each of
        # its events count), the parameter total and the data set. Opening or leaving a group
        # changes none of them.
        self._revision = 0
        self._standing_for: tuple | None = None
        self._unwatch_document: Callable[[], None] = lambda: None
        self._watch_document()

        self.scene.refused.connect(lambda reason: self.statusBar().showMessage(f"Refused: {reason}", 8000))
        self.scene.selectionChanged.connect(self._selection_changed)
        stack = self.editor.undo_stack
        stack.cleanChanged.connect(self._update_title)
        stack.indexChanged.connect(self._document_changed)
        self.editor.graph_replaced.connect(lambda _: self._watch_document())
        self.editor.graph_replaced.connect(lambda _: self._document_changed())
        self.editor.graph_replaced.connect(lambda _: self._view_states.clear())
        self.editor.shown_changed.connect(self._shown_changed)

        self._make_actions()
        self._make_menus()
        self._restore_settings()
        self.autosaver = recovery.Autosaver(
            self.settings.recovery_dir, lambda: self.editor.document, self.is_modified,
            lambda: str(self.path) if self.path else None, autosave_ms, self)
        self.autosaver.failed.connect(lambda message: self.statusBar().showMessage(message, 0))
        self.autosaver.start()
        self._update_title()
        self.start_screen: start_screen.StartScreen | None = None  # offered when the app starts empty
        # The training dock fills in once the window has painted (or when first asked for), so its
        # plots and what they import load off the start-up path.
        self._training_panel = None
        self._painted = False
        self._update_status()

    # ---- docks -----------------------------------------------------------
    def _dock(self, title: str, name: str, widget: QWidget, area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    @property
    def training_panel(self):
        """The Training dock's panel, made now if the window has not made it yet."""
        if self._training_panel is None:
            self._install_training()
        return self._training_panel

    @training_panel.setter
    def training_panel(self, panel) -> None:
        self._training_panel = panel

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        if self._first_layout and not self._painted and self._training_panel is None:
            # The heights the docks take once the training panel is in, given before the first
            # paint: nothing moves when it fills in.
            self.resizeDocks([self.training_dock], [dock_height(self.height())], Qt.Vertical)
            self._split_right_column()

    def _split_right_column(self) -> None:
        # Inspector and Problems share the column's height evenly: a lint's message and its
        # fix buttons need about as much room as a block's parameters.
        self.resizeDocks([self.inspector_dock, self.problems_dock], [1000, 1000], Qt.Vertical)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            # After this paint has reached the screen: the window is there before anything else loads.
            QTimer.singleShot(0, self, self._after_first_paint)

    def _after_first_paint(self) -> None:
        self.training_panel  # noqa: B018 (made on access)
        self.startedUp.emit()

    def _install_training(self) -> None:
        if self._training_panel is not None:
            return
        from .collector import no_collection
        from .training import install as install_training

        with no_collection():
            panel = install_training(self)
        if self._first_layout and not self._painted:
            self._split_right_column()  # made before the window was shown (a test, a screenshot)
        # A loaded data set is checked against the graph too (its inputs, its classes).
        panel.chooser.datasetLoaded.connect(lambda _dataset: self._status_timer.start())

    def set_training_panel(self, widget: QWidget) -> None:
        """The live-training panel takes the Training dock's place holder."""
        old = self.training_dock.widget()
        self.training_dock.setWidget(widget)
        if old is not None and old is not widget:
            old.deleteLater()

    # ---- actions and menus -------------------------------------------------
    def _action(self, text: str, slot, shortcut=None, checkable: bool = False) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            keys = shortcut if isinstance(shortcut, list) else [shortcut]
            sequences = []
            for k in keys:
                if isinstance(k, QKeySequence.StandardKey):
                    sequences += QKeySequence.keyBindings(k)  # every platform binding, not just the first
                else:
                    sequences.append(QKeySequence(k))
            unique = []
            for seq in sequences:
                if seq not in unique:
                    unique.append(seq)
            action.setShortcuts(unique)
        action.setCheckable(checkable)
        action.triggered.connect(slot)
        self.addAction(action)  # shortcuts work with the menu bar hidden too
        return action

    def _make_actions(self) -> None:
        S = QKeySequence.StandardKey
        stack = self.editor.undo_stack
        self.act_new = self._action("&New", self.new_document, S.New)
        self.act_open = self._action("&Open…", self.open_dialog, S.Open)
        self.act_save = self._action("&Save", self.save, S.Save)
        self.act_save_as = self._action("Save &As…", self.save_as, "Ctrl+Shift+S")
        self.act_quit = self._action("&Quit", self.close, [S.Quit, "Ctrl+Q"])  # some platforms bind none
        self.act_undo = stack.createUndoAction(self, "&Undo")
        self.act_undo.setShortcuts([QKeySequence("Ctrl+Z")])
        self.act_redo = stack.createRedoAction(self, "&Redo")
        self.act_redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.addAction(self.act_undo)
        self.addAction(self.act_redo)
        self.act_cut = self._action("Cu&t", self.cut, S.Cut)
        self.act_copy = self._action("&Copy", self.copy, S.Copy)
        self.act_paste = self._action("&Paste", self.paste, S.Paste)
        self.act_duplicate = self._action("&Duplicate", self.duplicate, "Ctrl+D")
        self.act_delete = self._action("De&lete", self.delete_selection, [QKeySequence.Delete, "Backspace"])
        self.act_select_all = self._action("Select &All", self.select_all, S.SelectAll)
        self.act_group = self._action("&Group", self.group_selection, "Ctrl+G")
        self.act_group.setStatusTip("Make the selected blocks one group node (double-click it to open)")
        self.act_ungroup = self._action("&Ungroup", self.ungroup_selection, "Ctrl+Shift+G")
        self.act_ungroup.setStatusTip("Put the selected group's blocks back in its place")
        self.act_open_group = self._action("&Open Group", self.open_selected_group)
        self.act_open_group.setStatusTip("Show the selected group's inside (Esc goes back up)")
        self.act_add_block = self._action("Add &Block…  (Tab)", self._quick_search_at_centre)
        self.act_frame_selected = self._action("&Frame Selected", self.view.frame_selected, "F")
        self.act_frame_all = self._action("Frame &All", self.view.frame_all, ["Shift+F", "Home"])
        self.act_zoom_in = self._action("Zoom &In", lambda: self.view.zoom_by(1.25), S.ZoomIn)
        self.act_zoom_out = self._action("Zoom &Out", lambda: self.view.zoom_by(0.8), S.ZoomOut)
        self.act_layout = self._action("Auto-&Layout", self.auto_layout, "Ctrl+L")
        self.act_snap = self._action("&Snap to Grid", self._set_snapping, checkable=True)
        self.act_snap.setChecked(self.scene.snapping)
        self.act_export = {
            "python": self._action("&PyTorch Source (.py)…", lambda: self.export("python")),
            "torchrun": self._action("&torchrun Training Script (.py)…", lambda: self.export("torchrun")),
            "program": self._action("P&rogram (.pt2)…", lambda: self.export("program")),
            "onnx": self._action("&ONNX (.onnx)…", lambda: self.export("onnx")),
            "onnx-int8": self._action("ONNX with &int8 Copy…", lambda: self.export("onnx-int8")),
        }
        self.act_export["python"].setStatusTip("The network as a standalone PyTorch nn.Module source file")
        self.act_export["torchrun"].setStatusTip(
            "A standalone DDP training script for torchrun, with this graph's training settings")
        self.act_export["program"].setStatusTip("A torch.export program (.pt2) with the current initial weights")
        self.act_export["onnx"].setStatusTip(
            "An ONNX file with the trained weights (initial ones before a run), checked in onnxruntime")
        self.act_export["onnx-int8"].setStatusTip(
            "ONNX and its int8 copy, then a table of their sizes, CPU latency and validation score")
        self.act_shortcuts = self._action("&Keyboard Shortcuts", self.show_shortcuts, "Ctrl+/")
        self.act_block_reference = self._action("&Block Reference", lambda: self.show_block_reference(), "F1")
        self.act_lessons = self._action("&Lessons", self.show_lessons, "Ctrl+Shift+L")
        self.act_lessons.setStatusTip("The curriculum: each lesson opens an example, says what to watch and "
                                      "offers experiments")
        self.act_about = self._action(f"&About {APP_NAME}", self.show_about)
        self.theme_group = QActionGroup(self)
        self.theme_actions = {}
        for name in ("dark", "light"):
            act = QAction(name.capitalize(), self, checkable=True)
            act.triggered.connect(lambda _=False, n=name: self.set_theme(n))
            self.theme_group.addAction(act)
            self.theme_actions[name] = act

    def _make_menus(self) -> None:
        bar = self.menuBar()
        m = self.file_menu = bar.addMenu("&File")
        m.addActions([self.act_new, self.act_open])
        self.recent_menu = m.addMenu("Open &Recent")
        self.examples_menu = m.addMenu("&Examples")
        self.examples_menu.setToolTipsVisible(True)
        self._fill_examples()
        m.addSeparator()
        m.addActions([self.act_save, self.act_save_as])
        m.addSeparator()
        self.act_import = add_import_action(self, m)
        from .block_library import add_block_library_actions  # File > Import Blocks…, Export Blocks…

        self.act_export_blocks, self.act_import_blocks = add_block_library_actions(self, m)
        self.export_menu = m.addMenu("E&xport")
        self.export_menu.addActions(list(self.act_export.values()))
        # Entries about this graph's results go after Export, before this separator.
        self.export_separator = m.addSeparator()
        m.addAction(self.act_quit)
        m = bar.addMenu("&Edit")
        m.addActions([self.act_undo, self.act_redo])
        m.addSeparator()
        m.addActions([self.act_cut, self.act_copy, self.act_paste, self.act_duplicate, self.act_delete])
        m.addSeparator()
        m.addActions([self.act_group, self.act_ungroup, self.act_open_group])
        m.addSeparator()
        m.addActions([self.act_select_all, self.act_add_block])
        m = bar.addMenu("&View")
        m.addActions([self.act_frame_selected, self.act_frame_all, self.act_zoom_in, self.act_zoom_out])
        m.addSeparator()
        m.addActions([self.act_layout, self.act_snap])
        theme_menu = m.addMenu("&Theme")
        theme_menu.addActions(list(self.theme_actions.values()))
        m.addSeparator()
        for dock in (self.palette_dock, self.inspector_dock, self.problems_dock, self.training_dock):
            m.addAction(dock.toggleViewAction())
        m = self.help_menu = bar.addMenu("&Help")
        m.addActions([self.act_lessons, self.act_shortcuts, self.act_block_reference])
        m.addSeparator()
        m.addAction(self.act_about)
        self._fill_recent()

    def _fill_examples(self) -> None:
        self.examples_menu.clear()
        paths = sorted(EXAMPLES_DIR.glob("*.json")) if EXAMPLES_DIR.is_dir() else []
        for path in paths:
            title, description = example_title(path)
            act = self.examples_menu.addAction(title)
            act.setToolTip(description or title)
            act.setStatusTip(description)
            act.setData(str(path))
            act.triggered.connect(lambda _=False, p=path: self.open_example(p))
        self.examples_menu.setEnabled(bool(paths))

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        recent = self.settings.recent_files()
        for path in recent:
            act = self.recent_menu.addAction(Path(path).name)
            act.setToolTip(path)
            act.setData(path)
            act.triggered.connect(lambda _=False, p=path: self.open_path(p))
        self.recent_menu.setEnabled(bool(recent))

    # ---- settings -----------------------------------------------------------
    def _restore_settings(self) -> None:
        geometry, state = self.settings.window_state()
        self._first_layout = state is None  # no layout the person left to restore
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1400, 860)
        if state is not None:
            self.restoreState(state)
        self.set_theme(self.settings.theme)

    def save_settings(self) -> None:
        self.settings.save_window_state(self.saveGeometry(), self.saveState())
        self.settings.snapping = self.scene.snapping
        self.settings.sync()

    def set_theme(self, name: str) -> None:
        applied = theme.apply(name)
        self.settings.theme = applied.name
        self.theme_actions[applied.name].setChecked(True)
        self.view.refresh_theme()
        self.inspector.show_node(self.inspector.node_id)
        self.problems.refresh_theme()

    def _set_snapping(self, on: bool) -> None:
        self.scene.snapping = bool(on)
        self.settings.snapping = bool(on)

    # ---- document state -----------------------------------------------------
    def is_modified(self) -> bool:
        return self._recovered_unsaved or not self.editor.undo_stack.isClean()

    def document_name(self) -> str:
        if self.path is not None:
            return self.path.name
        return self.editor.document.name or "Untitled"

    def _update_title(self) -> None:
        self.setWindowTitle(f"{self.document_name()}[*] — {APP_NAME}")
        self.setWindowModified(self.is_modified())

    def _document_changed(self) -> None:
        self._revision += 1
        self._update_title()
        self._status_timer.start()

    def _watch_document(self) -> None:
        self._unwatch_document()
        self._unwatch_document = self.editor.document.subscribe(self._document_event)

    def _document_event(self, _event) -> None:
        self._revision += 1

    def _loaded_dataset(self):
        """The data set the training panel has loaded for this document, if any."""
        return getattr(self._chooser(), "dataset", None)

    def _dataset_error(self) -> str | None:
        """Why the training panel's data set did not load, if it did not."""
        return getattr(self._chooser(), "error", None) or None

    def _chooser(self):
        panel = self._training_panel
        return getattr(panel, "chooser", None) if panel is not None and isValid(panel) else None

    def _update_status(self) -> None:
        """The doctor's list, once per burst of edits, for the Problems dock, the canvas and the status bar."""
        graph = self.editor.document
        dataset, error = self._loaded_dataset(), self._dataset_error()
        key = (self._revision, self.counter.total, error)
        if self._standing_for is not None and self._standing_for[0] == key and self._standing_for[1] is dataset:
            return  # nothing it reads moved: the dock, the canvas and the status bar show it already
        self._standing_for = (key, dataset)
        # What Train's check would say, with the data set when one is loaded; an empty canvas is not a problem.
        problems = [p for p in standing(graph, dataset, self.counter.total, error)
                    if p.kind != "structure" or graph.nodes]
        self.standing = problems
        self.problems.set_problems(problems)
        # inside a group the canvas shows the inside's own shape errors; the list is the document's
        self.scene.set_problems(by_node(problems) if not self.editor.path else {})
        nodes, wires = len(graph), len(graph.edges)
        parts = [f"{nodes:,} node{'s' * (nodes != 1)}", f"{wires:,} wire{'s' * (wires != 1)}",
                 f"{self.counter.total:,} params ({count_text(self.counter.total) or 0})"]
        if graph.nodes:
            parts.append(problems_text(problems))
        self.status_label.setText("   ·   ".join(parts))
        self.status_label.setMinimumWidth(self.status_label.sizeHint().width() + 16)
        self.status_label.setToolTip("\n".join(str(p) for p in problems))

    def _on_counted(self, changed: dict, total: int) -> None:
        if not self.scene.counts_own:
            self.scene.set_param_counts(changed)
            if self.inspector.node_id is not None:
                self.inspector.set_param_count(self.counter.counts.get(self.inspector.node_id))
        self._status_timer.start()

    def _param_count(self, node_id: str) -> int | None:
        """A node's parameter count as the canvas shows it (inside a group, the inside's)."""
        if self.scene.counts_own:
            item = self.scene.nodes.get(node_id)
            return item.param_count if item is not None else None
        return self.counter.counts.get(node_id)

    def show_node(self, node_id: str) -> None:
        """Select a node alone and centre the canvas on it (a row of the Problems dock was clicked)."""
        if self.editor.path and node_id in self.editor.document:
            self.leave_group(0)  # the Problems list names the document's nodes
        item = self.scene.nodes.get(node_id)
        if item is None:
            return
        node_id = self._open_to_error(node_id)
        item = self.scene.nodes[node_id]
        self.scene.select_nodes([node_id])
        self.view.centerOn(item)

    def _open_to_error(self, node_id: str) -> str:
        """A group whose error lies inside it ("inside BasicBlock, conv1: ...") is opened, at every
        depth, down to the node at fault; returns that node's id in the graph shown."""
        graph = self.editor.graph
        while node_id in graph and graph.node(node_id).is_group:
            problem = graph.shapes.error(node_id)
            found = _INSIDE.match(problem.message) if problem is not None else None
            if found is None or found.group(1) != graph.node(node_id).block or not self.open_group(node_id):
                break
            graph = self.editor.graph
            inner = found.group(2)
            if inner not in graph:
                break
            node_id = inner
        return node_id

    def apply_fix(self, fix: Fix) -> str | None:
        """Apply one of the doctor's fixes as one undo step; a refusal is said in the status bar."""
        reason = self.editor.apply_fix(fix)
        if reason is not None:
            self.statusBar().showMessage(f"Refused: {reason}", 8000)
        else:
            self.statusBar().showMessage(f"{fix.title} (Ctrl+Z undoes it)", 5000)
        return reason

    def _selection_changed(self) -> None:
        selected = self.scene.selected_node_ids()
        node_id = selected[0] if len(selected) == 1 else None
        if node_id != self.inspector.node_id:
            self.inspector.show_node(node_id)
            if node_id is not None:
                self.inspector.set_param_count(self._param_count(node_id))

    # ---- files --------------------------------------------------------------
    def maybe_save(self) -> bool:
        """True when it is fine to drop the current document."""
        if not self.is_modified():
            return True
        answer = dialogs.ask_save_changes(self, self.document_name())
        if answer == "save":
            return self.save()
        return answer == "discard"

    def set_document(self, graph: Graph, path: Path | None, modified: bool = False) -> None:
        self.path = Path(path) if path is not None else None
        self._recovered_unsaved = modified
        self.editor.set_graph(graph)
        self.view.frame_opened()
        self._update_title()

    def new_document(self) -> None:
        if self.maybe_save():
            self.set_document(Graph(), None)

    def open_dialog(self) -> None:
        start = str(self.path.parent) if self.path else ""
        path = dialogs.open_file_name(self, start)
        if path:
            self.open_path(path)

    def _load(self, path) -> Graph | None:
        try:
            return files.load(path)
        except files.GraphFileError as exc:
            dialogs.show_error(self, "Could not open the graph", str(exc))
        except OSError as exc:
            dialogs.show_error(self, "Could not open the graph", f"{path}: {exc.strerror or exc}")
        return None

    def open_path(self, path, ask: bool = True) -> bool:
        """Open a graph file; a file that fails to load leaves the current document as it was."""
        if ask and not self.maybe_save():
            return False
        graph = self._load(path)
        if graph is None:
            return False
        self.set_document(graph, Path(path))
        self.settings.add_recent(path)
        self._fill_recent()
        self.statusBar().showMessage(f"Opened {path}", 5000)
        return True

    # ---- lessons -------------------------------------------------------------
    def show_lessons(self) -> LessonsPanel:
        """The Lessons dock, made on first use, beside the palette and in front."""
        if self.lessons_panel is None:
            self.lessons_panel = LessonsPanel(self, self.settings.language)
            self.lessons_panel.languageChanged.connect(self._set_language)
            self.lessons_dock = self._dock("Lessons", "Lessons", self.lessons_panel, Qt.LeftDockWidgetArea)
            self.tabifyDockWidget(self.palette_dock, self.lessons_dock)
        self.lessons_dock.show()
        self.lessons_dock.raise_()
        if self.lessons_dock.width() < LESSONS_WIDTH:  # room for a lesson's sentences and its experiments
            self.resizeDocks([self.lessons_dock], [LESSONS_WIDTH], Qt.Horizontal)
        # The keyboard goes on in the list: arrows choose a lesson, Enter opens it.
        self.lessons_panel.list.setFocus(Qt.FocusReason.OtherFocusReason)
        return self.lessons_panel

    def open_lesson(self, lesson_id: str) -> bool:
        """Show a lesson and open its example (the start screen's buttons)."""
        panel = self.show_lessons()
        panel.show_lesson(lesson_id)
        return panel.start()

    def _set_language(self, code: str) -> None:
        self.settings.language = code

    def open_example(self, path: Path) -> bool:
        """Examples open as untitled copies, so Save never overwrites the shipped file."""
        if not self.maybe_save():
            return False
        graph = self._load(path)
        if graph is None:
            return False
        self.set_document(graph, None)
        return True

    def save(self) -> bool:
        if self.path is None:
            return self.save_as()
        return self.save_to(self.path)

    def save_as(self) -> bool:
        suggested = str(self.path) if self.path else f"{self.editor.document.name or 'untitled'}.json"
        path = dialogs.save_file_name(self, suggested)
        return self.save_to(Path(path)) if path else False

    def save_to(self, path: Path) -> bool:
        try:
            files.save(self.editor.document, path)
        except (OSError, files.GraphFileError) as exc:
            dialogs.show_error(self, "Could not save the graph", f"{path}: {exc}")
            return False
        moved = self.path is None or Path(path).parent != self.path.parent
        self.path = Path(path)
        self._recovered_unsaved = False
        self.editor.undo_stack.setClean()
        if moved:
            self.documentPathChanged.emit(self.path)
        self.settings.add_recent(path)
        self._fill_recent()
        self._update_title()
        self.statusBar().showMessage(f"Saved {path}", 5000)
        return True

    def open_at_start(self, path: str | None) -> None:
        """The first document: work a crash left in the autosave is offered before anything else
        (a file opened first would let the next autosave overwrite it), then the file asked for."""
        if not self.offer_recovery():
            if path:
                self.open_path(path, ask=False)
            if self.path is None and len(self.editor.document) == 0:
                self.start_screen = start_screen.install(self)
            return
        if path and (self.path is None or Path(path).resolve() != self.path.resolve()):
            # The recovered graph is another document: opening ``path`` now would drop it unsaved.
            self.statusBar().showMessage(f"Recovered unsaved work; {path} is not opened yet: save this graph, "
                                         "then open it.", 0)

    def offer_recovery(self) -> bool:
        """After a crash, offer what the windows that did not close autosaved, newest first.
        Returns whether one was taken; the others wait for the next window."""
        orphans = recovery.pending(self.settings.recovery_dir)
        taken = False
        for orphan in orphans:
            if taken:
                orphan.release()
                continue
            try:
                found = orphan.load()
            except files.GraphFileError as exc:
                aside = orphan.keep_aside()
                dialogs.show_error(self, "Could not recover", f"{exc}\n\nThe file is kept as {aside}.")
                continue
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(found.saved_at)) if found.saved_at else "unknown"
            where = found.original_path or "an unsaved graph"
            if not dialogs.ask_recover(self, f"{where}, autosaved {when}, {len(found.graph)} nodes."):
                orphan.discard()
                continue
            self.set_document(found.graph, Path(found.original_path) if found.original_path else None,
                              modified=True)
            # The work moves into this window's own slot before the old one goes: a crash in
            # between leaves one of the two.
            if self.autosaver.save_now():
                orphan.discard()
            else:
                orphan.release()
            taken = True
        return taken

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.maybe_save():
            event.ignore()
            return
        self.save_settings()
        self.autosaver.close()
        self._say_export_finishes()
        # The scene is torn down with the window; its last selection changes
        # must not reach panels that are going away with it.
        self.scene.clearSelection()
        event.accept()

    # ---- editing ------------------------------------------------------------
    def _add_at_centre(self, block: str) -> None:
        centre = self.view.mapToScene(self.view.viewport().rect().center())
        node_id = self.editor.add_block(block, (round(centre.x() / 20) * 20 - 80, round(centre.y() / 20) * 20))
        self.scene.select_nodes([node_id])

    def _quick_search_at_centre(self) -> None:
        self.view.setFocus()
        self.view.open_quick_search(QPoint(self.view.width() // 2 - 120, self.view.height() // 3))

    def copy(self) -> bool:
        ids = self.scene.selected_node_ids()
        if not ids:
            return False
        data = self.editor.copy(ids)
        mime = QMimeData()
        text = json.dumps(data)
        mime.setData(MIME_TYPE, text.encode())
        mime.setText(text)
        QApplication.clipboard().setMimeData(mime)
        return True

    def cut(self) -> None:
        if self.copy():
            self.delete_selection()

    def can_paste(self) -> bool:
        mime = QApplication.clipboard().mimeData()
        return mime is not None and (mime.hasFormat(MIME_TYPE) or mime.hasText())

    def paste(self) -> list[str]:
        return self._paste(None)

    def paste_at(self, scene_pos: tuple[float, float]) -> list[str]:
        """Paste with the fragment's top-left node at ``scene_pos`` (the canvas menu's Paste)."""
        return self._paste(scene_pos)

    def _paste(self, at: tuple[float, float] | None) -> list[str]:
        mime = QApplication.clipboard().mimeData()
        raw = bytes(mime.data(MIME_TYPE)).decode() if mime.hasFormat(MIME_TYPE) else mime.text()
        try:
            data = json.loads(raw)
            if at is None:
                ids = self.editor.paste(data)
            else:
                ids = self.editor.paste(data, _offset_to(data, at))
        except (ValueError, ClipboardError) as exc:
            message = str(exc) if isinstance(exc, ClipboardError) else "clipboard: not a studio fragment"
            self.statusBar().showMessage(f"Nothing to paste: {message}", 6000)
            return []
        self.scene.select_nodes(ids)
        return ids

    def duplicate(self) -> list[str]:
        ids = self.editor.duplicate(self.scene.selected_node_ids())
        self.scene.select_nodes(ids)
        return ids

    def delete_selection(self) -> None:
        self.editor.delete(self.scene.selected_node_ids(), self.scene.selected_edges())

    def select_all(self) -> None:
        for item in self.scene.nodes.values():
            item.setSelected(True)

    def auto_layout(self) -> None:
        if self.editor.auto_layout():
            self.view.frame_all()

    # ---- groups -----------------------------------------------------------------
    def group_selection(self) -> str | None:
        """Ctrl+G: the selected blocks become one group node, selected; one undo step."""
        ids = self.scene.selected_node_ids()
        # An Input stays outside a group: with the keyboard (Ctrl+A, Ctrl+G) the inputs are left out
        # rather than the whole selection refused.
        graph = self.editor.graph
        blocks = [n for n in ids if not graph.node(n).spec.is_input]
        kept_out = len(ids) - len(blocks)
        ids = blocks
        if not ids:
            self.statusBar().showMessage("Select the blocks to group first", 5000)
            return None
        group_id, reason = self.editor.group(ids)
        if reason is not None:
            self.statusBar().showMessage(f"Refused: {reason}", 8000)
            return None
        self.scene.select_nodes([group_id])
        outside = f" (the {'Input stays' if kept_out == 1 else 'Inputs stay'} outside)" if kept_out else ""
        self.statusBar().showMessage(f"Grouped {len(ids)} blocks as {group_id}{outside}: double-click it to open, "
                                     "Ctrl+Shift+G ungroups", 6000)
        return group_id

    def ungroup_selection(self) -> list[str]:
        """Ctrl+Shift+G: each selected group node is put back as its blocks, selected."""
        groups = [n for n in self.scene.selected_node_ids() if self.editor.graph.node(n).is_group]
        if not groups:
            self.statusBar().showMessage("Select a group to ungroup", 5000)
            return []
        new: list[str] = []
        self.editor.undo_stack.beginMacro("Ungroup" if len(groups) > 1 else f"Ungroup {groups[0]}")
        try:
            for group_id in groups:
                ids, reason = self.editor.ungroup(group_id)
                if reason is not None:
                    self.statusBar().showMessage(f"Refused: {reason}", 8000)
                new += ids
        finally:
            self.editor.undo_stack.endMacro()
        self.scene.select_nodes(new)
        return new

    def open_selected_group(self) -> bool:
        selected = self.scene.selected_node_ids()
        if len(selected) != 1 or not self.editor.can_enter(selected[0]):
            self.statusBar().showMessage("Select one group to open", 5000)
            return False
        return self.open_group(selected[0])

    def open_group(self, node_id: str) -> bool:
        """Show a group node's inside on the canvas (double-click, Enter); Esc goes back."""
        state = (self.view.transform(), self.view.horizontalScrollBar().value(),
                 self.view.verticalScrollBar().value(), node_id)
        if not self.editor.enter(node_id):
            return False
        self._view_states.append(state)
        self.view.keep_framed = False
        self.view.frame_all()
        self.view.setFocus()
        return True

    def leave_group(self, depth: int | None = None) -> bool:
        """Back up to ``depth`` groups deep (0: the document), at the zoom and scroll it had."""
        depth = len(self.editor.path) - 1 if depth is None else depth
        if not self.editor.leave(depth):
            return False
        self._restore_view(depth)
        return True

    def _restore_view(self, depth: int) -> None:
        states, self._view_states = self._view_states[depth:], self._view_states[:depth]
        if states:
            transform, h, v, node_id = states[0]
            self.view.setTransform(transform)
            self.view.horizontalScrollBar().setValue(h)
            self.view.verticalScrollBar().setValue(v)
            self.scene.select_nodes([node_id])
        self.view.setFocus()

    def _shown_changed(self, _graph) -> None:
        # a level left by an undo (its group went) restores that level's view too
        if len(self._view_states) > len(self.editor.path):
            self._restore_view(len(self.editor.path))
        self.inspector._bind(self.editor.graph)
        gradients = getattr(self._training_panel, "canvas_gradients", None)
        if gradients is not None:
            gradients.badges.clear()  # their items went with the level left
        self._selection_changed()  # the level's restored selection (the group just left) is inspected again
        if not self.scene.counts_own:
            self.scene.set_param_counts(self.counter.counts)  # the document's, counted while away
        # the document's problems are the same on every level: only the canvas's marks change
        self.scene.set_problems(by_node(self.standing) if not self.editor.path else {})

    def _back_to_canvas(self, *_args) -> None:
        # keys belong to the canvas again once a dialog is gone (not every platform hands them back)
        self.activateWindow()
        self.view.setFocus(Qt.OtherFocusReason)

    def make_unique(self, node_id: str) -> str | None:
        reason = self.editor.make_unique(node_id)
        if reason is not None:
            self.statusBar().showMessage(f"Refused: {reason}", 8000)
        else:
            block = self.editor.graph.node(node_id).block
            self.statusBar().showMessage(f"{node_id} now uses a block of its own, {block}", 6000)
            self.scene.select_nodes([node_id])
        return reason

    def rename_block_dialog(self, node_id: str):
        """Rename a group's block (every use follows) in a small dialog; Enter applies."""
        from .group_dialogs import RenameBlockDialog

        dialog = RenameBlockDialog(self, self.editor, self.editor.graph.node(node_id).block)
        dialog.renamed.connect(lambda _name: self.scene.select_nodes([node_id]))
        dialog.finished.connect(self._back_to_canvas)
        dialog.open()
        self.rename_dialog = dialog
        return dialog

    def rename_port_dialog(self, node_id: str, port: str):
        """Rename one of a group's ports (on every use of its block, wires included); Enter applies."""
        from .group_dialogs import RenameBlockDialog

        dialog = RenameBlockDialog(self, self.editor, self.editor.graph.node(node_id).block, port)
        dialog.renamed.connect(lambda _name: self.scene.select_nodes([node_id]))
        dialog.finished.connect(self._back_to_canvas)
        dialog.open()
        self.rename_dialog = dialog
        return dialog

    def rename_node(self, node_id: str) -> None:
        """Rename in the Inspector's label field: selected, typed over, Enter returns to the canvas."""
        self.scene.select_nodes([node_id])
        self.inspector_dock.show()
        self.inspector_dock.raise_()
        if self.inspector.node_id != node_id:
            self.inspector.show_node(node_id)
        edit = self.inspector.label_edit
        if edit is None:
            return
        if edit is not self._rename_edit:
            self._rename_edit = edit
            edit.returnPressed.connect(self.view.setFocus)
        edit.setFocus(Qt.OtherFocusReason)
        edit.selectAll()

    # ---- help ---------------------------------------------------------------
    def show_shortcuts(self) -> None:
        if self.shortcuts_dialog is None:
            self.shortcuts_dialog = help_ui.ShortcutsDialog(self)
        else:
            self.shortcuts_dialog.refresh(self)
        self._present(self.shortcuts_dialog)

    def show_block_reference(self, block: str | None = None) -> None:
        if self.block_reference is None:
            self.block_reference = help_ui.BlockReferenceDialog(self)
        if block:
            self.block_reference.show_block(block)
        self._present(self.block_reference)
        if not block:
            self.block_reference.search.setFocus()

    @staticmethod
    def _present(dialog) -> None:
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()

    def show_about(self) -> None:
        dialogs.show_about(self, f"About {APP_NAME}", help_ui.about_text())

    # ---- export -------------------------------------------------------------
    KIND_WORDS = {"python": "PyTorch source", "torchrun": "a torchrun script", "program": "a program",
                  "onnx": "ONNX", "onnx-int8": "ONNX with an int8 copy"}

    @property
    def exporting(self) -> bool:
        """Whether an export is being written (off the window's thread)."""
        return self._export_worker is not None and self._export_worker.busy

    def _say_export_finishes(self) -> None:
        """The window closes at once; an export being written is finished before the process ends
        (its thread is waited for at exit), and a terminal says why the process lingers."""
        if self.exporting:
            print(f"studio: finishing the export of {self._export_target} before quitting", file=sys.stderr)

    def export(self, kind: str) -> None:
        """File > Export: ask where, then write on a thread of its own, so that a large network (VGG-16
        to ONNX takes half a minute) never freezes the window; a failure is shown with its reason."""
        if self.exporting:
            return
        stem = self.path.stem if self.path else (self.editor.document.name or "untitled").replace(" ", "_").lower()
        directory = self.path.parent if self.path else Path.home()
        name = {"python": f"{stem}.py", "torchrun": f"train_{stem}.py", "program": f"{stem}.pt2",
                "onnx": f"{stem}.onnx", "onnx-int8": f"{stem}.onnx"}[kind]
        target = dialogs.export_file_name(self, kind, str(directory / name))
        if not target:
            return
        from .exporting import export_graph
        from .off_thread import OneAtATime

        if self._export_worker is None:
            self._export_worker = OneAtATime(self, "studio-export")
        # What the export reads is fixed now: the person may go on editing (or train) meanwhile.
        graph = self.editor.document.copy()
        panel = self.training_dock.widget()
        weights = getattr(panel, "weights", None)
        weights_graph = getattr(panel, "weights_graph", None)
        graph_path = self.path
        for action in self.act_export.values():
            action.setEnabled(False)
        self._export_target = target
        self.statusBar().showMessage(f"Exporting {Path(target).name} as {self.KIND_WORDS[kind]}…")
        carried: list[bool] = []

        def exported(written, error, _seconds) -> None:
            note = self._weights_note(carried, weights, weights_graph, graph)
            self._exported(kind, graph, panel, graph_path, written, error, note)

        self._export_worker.submit(lambda: export_graph(graph, kind, Path(target), graph_path, weights, carried),
                                   exported)

    @staticmethod
    def _weights_note(carried: list[bool], weights, weights_graph, graph) -> str:
        """What the ONNX files hold, in words: the trained weights, or fresh ones and why."""
        if not carried:
            return ""  # not an ONNX export: its files hold no weights, or the graph's initial ones
        if not weights:
            return " (with initial, untrained weights: train first, or File > Load Weights…, to export trained ones)"
        if carried[0]:
            return " (with the trained weights)"
        from .training.try_it import graph_changes

        changes = graph_changes(weights_graph, graph) if weights_graph is not None else ""
        why = f"the graph has changed since training: {changes}" if changes else \
            "the trained weights do not fit the graph as it is now"
        return f" (with fresh initial weights: {why}; train again to export trained ones)"

    def _exported(self, kind: str, graph, panel, graph_path, written, error, note: str = "") -> None:
        from .exporting import ExportFailed

        for action in self.act_export.values():
            action.setEnabled(True)
        if error is not None:
            self.statusBar().clearMessage()
            text = str(error) if isinstance(error, ExportFailed) else f"{type(error).__name__}: {error}"
            dialogs.show_error(self, "Could not export", text)
            return
        self.statusBar().showMessage("Exported " + ", ".join(str(p) for p in written) + note, 15000)
        self.last_export = written
        if kind == "onnx-int8":
            from .export_report import show_int8_report

            self.export_report = show_int8_report(self, graph, written, panel, graph_path)


_INSIDE = re.compile(r"inside ([A-Za-z_][A-Za-z0-9_]*), ([A-Za-z_][A-Za-z0-9_]*): ")


def example_title(path: Path) -> tuple[str, str]:
    """An example's menu title (its graph's name) and its description, read without loading the graph."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        name, description = doc.get("name"), doc.get("description")
    except (OSError, ValueError, AttributeError):
        name, description = None, None
    title = name if isinstance(name, str) and name.strip() else path.stem.replace("_", " ")
    return title.strip(), description.strip() if isinstance(description, str) else ""


def _offset_to(data, at: tuple[float, float]) -> tuple[float, float]:
    """The shift that puts a copied fragment's top-left corner at ``at``."""
    try:
        xs = [float(n["position"][0]) for n in data["nodes"]]
        ys = [float(n["position"][1]) for n in data["nodes"]]
    except (KeyError, TypeError, ValueError, IndexError):
        return (40.0, 40.0)
    if not xs:
        return (0.0, 0.0)
    return (round((at[0] - min(xs)) / 20) * 20, round((at[1] - min(ys)) / 20) * 20)
