"""The training panel: data, settings, the run's controls and the live views.

It reads and writes only the document (``graph.training``) and the run it
starts; every live view is fed the same batched event lists from the
background thread. Before a run starts, the graph is validated and the data
set checked against it; problems are listed by node, and activating one asks
the editor to select that node (``problemActivated``).
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import (
    QAbstractSpinBox, QApplication, QComboBox, QFrame, QLabel, QListView, QListWidget, QListWidgetItem, QScrollArea,
    QSplitter, QTabWidget, QVBoxLayout, QWidget,
)
from shiboken6 import isValid

from studio.graph import Graph, Problem
from studio.training.events import EndEvent

from .. import torch_loader
from .activation_view import ActivationView
from .attention_view import AttentionView
from .block_tabs import ATTENTION_BLOCKS, EMBEDDING_BLOCKS, BlockTabs
from .boundary_view import BoundaryView
from .check_runner import CheckRunner
from .check_view import LR_END, LR_START, LR_STEPS, OVERFIT_STEPS, CheckView, check_keys
from .config_form import LOADING_DEVICE, TrainingConfigForm, resolved_device
from .controls import ControlBar
from .dataset_chooser import DatasetChooser
from .draw_budget import budget
from .embedding_view import EmbeddingView
from .evaluation_view import EvaluationView
from .gradient_view import GradientView
from .history import HistoryView
from .landscape_view import LandscapeView
from .loss_view import LossView
from .plot_style import style_plots
from studio.session import Run
from studio.session.progress import RunProgress
from .run import RunSetup, preflight, problem_headline
from .samples_view import SamplesView
from .steady import SteadyLabel
from .throttle import Throttle
from .try_it import TryItView
from .weights_file import WeightsRefused
from .worker import TrainingSession

GIL_SWITCH_S = 0.005
# Seconds between redraws at the base rate: curves often, the probe views (sampled far more rarely
# anyway) less. The draw budget stretches or shortens them all to hold drawing to its share.
REDRAW_S = {"loss": 0.3, "probe": 0.5, "history": 1.0}
PROBE_SIGNAL_S = 0.4  # ``probeShown``: the newest probe, at most this often
# Progress bars and the run's numbers: a progress bar repaints at once on every new value.
PROGRESS_S = 0.25
REDRAW_TICK_MS = 100
RECHECK_MS = 150  # the problem list catches up with edits this long after the last one

NO_DATA = "Choose a data set, then press Train."

END_WORDS = {
    "finished": "Finished",
    "stopped": "Stopped",
    "early_stopped": "Stopped early (validation loss stopped improving)",
    "failed": "Failed",
}


class WheelGuard(QObject):
    """A setting changes only when the person is in it: the wheel over a combo or spin box they did
    not click scrolls the form instead (scrolling past the settings changed them one by one)."""

    FIELDS = (QComboBox, QAbstractSpinBox)

    def __init__(self, scroll: QScrollArea) -> None:
        super().__init__(scroll)
        self.scroll = scroll

    def guard(self, root: QWidget) -> None:
        for field in root.findChildren(QWidget):
            if isinstance(field, self.FIELDS) and not field.property("wheel_guarded"):
                # Keys and clicks focus a field; the wheel alone does not.
                field.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
                field.installEventFilter(self)
                field.setProperty("wheel_guarded", True)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt name)
        if event.type() == QEvent.Type.Wheel and isinstance(obj, QWidget) and not obj.hasFocus():
            QApplication.sendEvent(self.scroll.verticalScrollBar(), event)
            return True
        return False


def metered(feed: Callable[[list], None]) -> Callable[[list], None]:
    """``feed`` with its CPU time counted against the views' drawing budget."""
    def feed_metered(events: list) -> None:
        with budget.metered():
            feed(events)
    return feed_metered


class TrainingPanel(QWidget):
    problemsFound = Signal(list)  # list[Problem] that kept a run from starting
    problemActivated = Signal(str)  # node id a person wants to see
    gradientNorms = Signal(dict)  # node id -> latest gradient norm (for the canvas wires)
    gradientFlags = Signal(dict)  # node id -> "vanishing" | "exploding"
    runStarted = Signal(int)  # run number
    runFinished = Signal(str)  # finished, stopped, early_stopped or failed
    weightsChanged = Signal(bool)  # whether there are trained weights to save
    probeShown = Signal(object)  # the newest ProbeEvent with activation statistics (the inspector's curve)

    def __init__(self, graph: Graph, undo_stack: QUndoStack | None = None, base_dir: str | Path | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.graph = graph
        self.undo_stack = undo_stack if undo_stack is not None else QUndoStack(self)
        self.session: TrainingSession | None = None
        self.run: Run | None = None  # the latest run's data: what the views draw and the history keeps
        self.progress: RunProgress | None = None  # the latest run's progress (its ``run.progress``)
        self.setup: RunSetup | None = None
        self.weights: dict[str, Any] | None = None  # trained state carried into the next run
        self.weights_graph: Graph | None = None  # the graph those weights were trained on (a copy)
        self.weights_source: str | None = None  # where they came from, in words ("run 2", "flowers.safetensors")
        self.runs = 0
        self.last_end: EndEvent | None = None
        self.last_error: str | None = None
        self._switch_interval = sys.getswitchinterval()
        self._train_when_loaded = False
        self._step_axis_set = False
        self._progress_shown = float("-inf")
        self._progress_dirty = False
        # Swappable so the same panel can drive a test double in a unit test of the panel alone.
        self.make_trainer: Callable[..., Any] | None = None
        self.canvas_gradients: Any = None  # the window's wire colours, when the panel sits in one
        self._check_on_canvas: str | None = None  # "shown", "stale" (hidden until an undo) or None

        self.controls = ControlBar()
        self.status_label = SteadyLabel(NO_DATA, lines=2)
        self.error_banner = QLabel()
        self.error_banner.setObjectName("training_error")
        self.error_banner.setWordWrap(True)
        self.error_banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_banner.setStyleSheet("background: #fdecea; color: #8a1c14; padding: 6px; border-radius: 4px;")
        self.error_banner.hide()
        self.problem_list = QListWidget()
        self.problem_list.setObjectName("training_problems")
        self.problem_list.setMaximumHeight(130)
        # Long messages (a CSV's file, line and column) wrap onto more lines instead of scrolling sideways.
        self.problem_list.setWordWrap(True)
        self.problem_list.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.problem_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.problem_list.setResizeMode(QListView.ResizeMode.Adjust)
        self.problem_list.hide()
        # Problems shown are checked again once the document changes, so a fixed one goes at once.
        self._recheck_timer = QTimer(self, singleShot=True, interval=RECHECK_MS, timeout=self._recheck_problems)
        # Before any run, the status line follows the graph: "Ready" only while nothing stands in the way.
        self._ready_timer = QTimer(self, singleShot=True, interval=RECHECK_MS, timeout=self._refresh_ready)
        self._unsubscribe_graph = graph.subscribe(self._on_graph_event)
        self.problem_list.itemActivated.connect(self._on_problem_item)
        self.problem_list.itemClicked.connect(self._on_problem_item)

        self.chooser = DatasetChooser(graph, self.undo_stack)
        self.config_form = TrainingConfigForm(graph, self.undo_stack)
        if base_dir is not None:
            self.chooser.set_base_dir(base_dir)
        setup = QWidget()
        self._setup_box = setup_box = QVBoxLayout(setup)
        setup_box.addWidget(self.chooser)
        setup_box.addWidget(self.config_form)
        setup_box.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(setup)
        self._setup_widget = setup
        self._wheel_guard = WheelGuard(scroll)

        self.loss_view = LossView()
        self.boundary_view = BoundaryView()
        self.activation_view = ActivationView()
        self.gradient_view = GradientView()
        self.samples_view = SamplesView()
        self.evaluation_view = EvaluationView()
        self.try_it = TryItView()
        self.history_view = HistoryView()
        self.check_view = CheckView()
        self.views = QTabWidget()
        self.views.addTab(self.check_view, "Check")
        self.views.addTab(self.loss_view, "Loss and accuracy")
        self.views.addTab(self.boundary_view, self.boundary_view.title)
        self.boundary_view.titleChanged.connect(
            lambda title: self.views.setTabText(self.views.indexOf(self.boundary_view), title))
        self.views.addTab(self.activation_view, "Activations")
        self.views.addTab(self.gradient_view, "Gradient flow")
        self.views.addTab(self.samples_view, "Samples")
        self.landscape_view = LandscapeView(self)  # follows the document, its learning rate and runs itself
        self.views.addTab(self.landscape_view, "Loss surface")
        self.attention_view = AttentionView()
        self.embedding_view = EmbeddingView()
        self.views.addTab(self.attention_view, "Attention")
        self.views.addTab(self.embedding_view, "Embeddings")
        # shown only while the graph holds an attention or Embedding layer
        self.block_tabs = BlockTabs(self.views, graph, {self.attention_view: ATTENTION_BLOCKS,
                                                         self.embedding_view: EMBEDDING_BLOCKS})
        self.views.addTab(self.evaluation_view, "Evaluation")
        # The pad and its answers need more width than the other views; in a narrow window they
        # scroll rather than hold the whole window wider.
        try_it_scroll = QScrollArea()
        try_it_scroll.setWidgetResizable(True)
        try_it_scroll.setFrameShape(QFrame.Shape.NoFrame)
        try_it_scroll.setWidget(self.try_it)
        self.views.addTab(try_it_scroll, "Try it")
        self.views.addTab(self.history_view, "Runs")
        self.views.setCurrentWidget(self.loss_view)
        self.live_views = (self.loss_view, self.boundary_view, self.activation_view, self.gradient_view,
                           self.samples_view, self.attention_view, self.embedding_view)
        # The loss view's throttle is handed what grew in the run's curves; the probe views, the probes.
        self._throttles = [Throttle(metered(self._draw_curves), REDRAW_S["loss"])] + [
            Throttle(metered(v.feed), REDRAW_S["probe"]) for v in self.live_views[1:]]
        # The evaluation tab takes the epoch ends (their reports); it draws only while it is shown.
        self._evaluation_throttle = Throttle(metered(self.evaluation_view.feed), REDRAW_S["probe"])
        self._history_throttle = Throttle(metered(lambda _events: self._update_history()), REDRAW_S["history"])
        # Not stretched by the draw budget: what listens redraws at least twice a second of a run.
        self._probe_signal = Throttle(metered(lambda probes: self.probeShown.emit(probes[-1])), PROBE_SIGNAL_S)
        self._base_intervals = [t.interval for t in self._all_throttles]
        # A tab brought forward shows the run as it is now, not as it was at its last turn to redraw.
        self._throttle_of = dict(zip(self.live_views + (self.evaluation_view, self.history_view),
                                     self._all_throttles))
        self.views.currentChanged.connect(self._on_tab)
        # Hands over what a throttle still holds once events stop coming (a pause, a slow epoch).
        self._redraw_timer = QTimer(self)
        self._redraw_timer.setInterval(REDRAW_TICK_MS)
        self._redraw_timer.timeout.connect(self._on_redraw_tick)

        left = QWidget()
        left_box = QVBoxLayout(left)
        left_box.setContentsMargins(0, 0, 0, 0)
        left_box.addWidget(self.controls)
        left_box.addWidget(self.status_label)
        left_box.addWidget(self.error_banner)
        left_box.addWidget(self.problem_list)
        left_box.addWidget(scroll, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(self.views)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 4, 4, 4)
        box.addWidget(splitter)

        self.controls.train_button.clicked.connect(self.train)
        self.controls.pause_button.toggled.connect(self._on_pause_toggled)
        self.controls.stop_button.clicked.connect(self.stop)
        self.controls.reset_button.clicked.connect(self.reset_weights)
        # The doctor's checks: one at a time, never while a run trains.
        self.checks = CheckRunner(self)
        self.controls.check_button.clicked.connect(self.check)
        self.check_view.overfit_button.clicked.connect(self._on_overfit_button)
        self.check_view.lr_button.clicked.connect(self._on_lr_button)
        self.check_view.use_lr_button.clicked.connect(self.use_suggested_lr)
        self.check_view.nodeActivated.connect(self.problemActivated)
        # What the Check tab shows is compared with the graph once edits pause.
        self._check_follow_timer = QTimer(self, singleShot=True, interval=RECHECK_MS,
                                          timeout=self._follow_checks)
        self.gradient_view.normsChanged.connect(self.gradientNorms)
        self.gradient_view.flagsChanged.connect(self.gradientFlags)
        self._connect_setup()
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        self._on_dataset(self.chooser.dataset)
        self.refresh_theme()

    @property
    def _all_throttles(self) -> list[Throttle]:
        return self._throttles + [self._evaluation_throttle, self._history_throttle]

    # ---- theme -----------------------------------------------------------
    def changeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        # The app's theme is its palette: a new palette means new plot colours.
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self.refresh_theme()

    def refresh_theme(self) -> None:
        """Give every plot the current theme's colours (at start-up and on a theme switch)."""
        colors = style_plots(self)
        self.loss_view.apply_colors(colors)
        self.check_view.apply_colors(colors)

    # ---- the document and the editor ----------------------------------
    def _connect_setup(self) -> None:
        self.chooser.datasetLoaded.connect(self._on_dataset)
        self.chooser.loadingStarted.connect(self._on_loading)
        self.config_form.configChanged.connect(self._on_config)

    def set_graph(self, graph: Graph, undo_stack: QUndoStack | None = None,
                  base_dir: str | Path | None = None, granted: list[str] | None = None) -> None:
        """A new document (New, Open): its own data set and settings, and no trace of the last
        run in the views; a run still going is stopped first. The run history stays."""
        self.shutdown()
        self._unsubscribe_graph()
        self.graph = graph
        self._unsubscribe_graph = graph.subscribe(self._on_graph_event)
        if undo_stack is not None:
            self.undo_stack = undo_stack
        self._set_weights(None)
        # The same forms show the new document: building new ones cost most of an Open.
        self.config_form.set_graph(graph, self.undo_stack)
        self.block_tabs.set_graph(graph)
        self.boundary_view.expect(graph)  # its tab named before the data set loads
        self.chooser.set_graph(graph, self.undo_stack, base_dir, granted)
        self._forget_run()
        self._on_dataset(self.chooser.dataset)

    def _forget_run(self) -> None:
        """Every view back to its empty state: bars, numbers, curves, probes, problems, errors."""
        self.progress = None
        self.run = None
        self.setup = None
        self.last_end = None
        self.last_error = None
        self.controls.reset_progress()
        self.controls.set_running(False)
        self._show_problems([])
        self.error_banner.hide()
        for throttle in self._all_throttles + [self._probe_signal]:
            throttle.clear()
        self.activation_view.preferred = []
        for view in self.live_views:
            view.clear()
        self.evaluation_view.clear()
        self.check_view.clear()
        self._check_on_canvas = None
        if self.canvas_gradients is not None:
            self.canvas_gradients.clear()

    def set_selected_node(self, node_id: str | None) -> None:
        """The editor's selection: the activation view follows it."""
        self.activation_view.set_node(node_id)

    def set_base_dir(self, base_dir: str | Path | None) -> None:
        self.chooser.set_base_dir(base_dir)

    def _on_loading(self, shown: str) -> None:
        self.boundary_view.show_loading()
        if not self.running:
            self.status_label.setText(f"Reading {shown}…")

    def _on_dataset(self, dataset) -> None:
        self._wheel_guard.guard(self._setup_widget)  # the data set's options are new widgets
        self.evaluation_view.set_data(dataset)
        if self._train_when_loaded:
            self._train_when_loaded = False
            QTimer.singleShot(0, self, self.train)  # after every listener has seen the data set
        # a boundary over 2-D points, a function over 1-D ones
        self.boundary_view.set_data(dataset, loading=self.chooser.loading)
        if dataset is not None and self.weights is not None and self.try_it.dataset is None:
            # Weights loaded before any data set was: Try it needs the data set's classes and scaling.
            self.try_it.set_model(self.weights_graph or self.graph, self.weights, dataset)
        if self.chooser.loading and not self.running:
            self._on_loading(self.chooser.spec().get("path") or "the data set")
        elif not self.running:
            self.status_label.setText(self._ready_text(dataset))
        self._on_config(None)
        if not self.problem_list.isHidden():
            self._recheck_timer.start()

    def _ready_text(self, dataset) -> str:
        """What the status line says before a run: the data set in use, or what is missing."""
        if dataset is None:
            if self.chooser.waiting_for:
                return f"Choose your {self.chooser.waiting_for} with Browse… next to path, then press Train."
            if self.chooser.error:
                return "The data set did not load: see the message under it, fix its options, then press Train."
            return NO_DATA
        val = len(dataset.val) if dataset.val is not None else 0
        split = f"{len(dataset.train):,} training / {val:,} validation samples" if val else \
            f"{len(dataset.train):,} training samples, none kept for validation"
        from studio.doctor.lints import standing

        # the doctor's list, as the window's Problems dock shows it: errors stand in the way, warnings do not
        problems = standing(self.graph, dataset)
        errors = [p for p in problems if not p.is_warning]
        if errors:
            return f"{dataset.name}, {split}. {problem_headline(errors)} Press Train to list them."
        warnings = len(problems)
        note = f" ({warnings} warning{'s' if warnings != 1 else ''}: see Problems.)" if warnings else ""
        return f"Ready: {dataset.name}, {split}. Press Train.{note}"

    def _refresh_ready(self) -> None:
        if isValid(self) and not self.running and self.progress is None and not self.chooser.loading \
                and self.problem_list.isHidden():
            self.status_label.setText(self._ready_text(self.chooser.dataset))

    def _on_config(self, _cfg) -> None:
        try:
            cfg = self.config_form.config()
        except Exception:
            return
        # Until torch has loaded the form says "…" and refreshes, which comes back here.
        device = resolved_device(cfg.device) if torch_loader.ready() else LOADING_DEVICE
        self.controls.device_label.setText(f"device: {device}")
        if not self.running:
            self.loss_view.show_plan(cfg.epochs, cfg.optimizer.lr)
        ds = self.chooser.dataset
        if ds is not None:
            steps = max(1, math.ceil(len(ds.train) / cfg.batch_size))
            if steps != self.config_form.steps_per_epoch:
                self.config_form.set_steps_per_epoch(steps)

    # ---- running -------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.session is not None and self.session.running

    def train(self) -> bool:
        """Check everything, then start a run on the background thread. False when refused."""
        if self.running:
            return False
        if self.checking:
            self.status_label.setText("Not started: a check is running; wait for it or stop it first.")
            return False
        self.error_banner.hide()
        self.last_error = None
        if not torch_loader.ready():  # the check below imports torch: the window would freeze, silent
            self.status_label.setText("Loading PyTorch… training starts when it has loaded.")
            torch_loader.when_loaded(self, self.train)
            return False
        if self.chooser.loading:  # the run starts once the person's file is read
            self._train_when_loaded = True
            self.status_label.setText("Loading the data set… training starts when it is read.")
            return False
        setup, problems = preflight(self.graph, self.chooser.dataset, self.chooser.error, self.chooser.reach)
        self._show_problems(problems)
        if problems:
            self.status_label.setText(f"Not started: {problem_headline(problems)}")
            self.controls.reset_progress()  # the bars showed the last run: beside "Not started" they misled
            self.problemsFound.emit(problems)
            return False
        self.setup = setup
        self.runs += 1
        self._check_on_canvas = None  # the run's gradients take the wires
        for view in self.live_views:
            view.clear()
        self.evaluation_view.clear()
        for throttle in self._all_throttles:
            throttle.clear()
        budget.restart()
        for throttle, base in zip(self._all_throttles, self._base_intervals):
            throttle.interval = budget.interval(base)  # a new run starts at the budget's present rate
        self._redraw_timer.start()
        self.activation_view.preferred = [n for n in setup.graph.topological_order()
                                          if not setup.graph.node(n).spec.is_input]
        self.run = Run(self.runs, setup.config.to_dict(), setup.dataset.name, setup.config.epochs,
                       started_from=self.weights_source if self.weights is not None else None)
        self.progress = self.run.progress
        self.loss_view.show_curves(self.run.curves)
        self.loss_view.show_plan(setup.config.epochs, setup.config.optimizer.lr)
        self.loss_view.set_run_length(setup.config.epochs)
        self.loss_view.set_hint("Training: the first steps are on their way…")
        self._step_axis_set = False
        self._progress_shown = float("-inf")
        self._progress_dirty = False
        self.history_view.add_run(self.run)
        factory = self.make_trainer or setup.trainer_factory
        weights = self.weights
        self.session = TrainingSession(lambda callback: factory(callback, weights), self)
        self.session.events.connect(self._on_events)
        self.session.failed.connect(self._on_failed)
        self.session.finished.connect(self._on_finished)
        self.controls.set_running(True)
        self.check_view.set_busy(None, can_run=False)
        self.config_form.setEnabled(False)
        self.chooser.setEnabled(False)
        self.status_label.setText(f"Run {self.runs}: starting on {resolved_device(setup.config.device)}…")
        # The trainer's Python code holds the GIL between torch calls; a short switch interval
        # hands it to the UI thread within a millisecond instead of five, so paints are not held up.
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(GIL_SWITCH_S)
        self.session.start()
        self.try_it.set_training(True)
        self.runStarted.emit(self.runs)
        return True

    def _on_pause_toggled(self, paused: bool) -> None:
        if paused:
            self.pause()
        else:
            self.resume()

    def pause(self) -> None:
        if self.running:
            self.session.pause()
            self.progress.pause()
            self.controls.set_running(True, paused=True)
            self.status_label.setText(f"Run {self.runs}: paused.")

    def resume(self) -> None:
        if self.running:
            self.session.resume()
            self.progress.resume()
            self.controls.set_running(True, paused=False)
            self.status_label.setText(f"Run {self.runs}: training…")

    def stop(self) -> None:
        if self.running:
            self.session.stop()
            self.progress.resume()
            self.status_label.setText(f"Run {self.runs}: stopping after this step…")

    # ---- the doctor's checks -------------------------------------------
    @property
    def checking(self) -> bool:
        return self.checks.busy

    def _check_setup(self, what: str) -> RunSetup | None:
        """What a check runs on: a copy of the graph, the data set loaded and the settings, checked
        as Train checks them. None when it cannot run: the reason goes on the status line and the
        problems into the same list Train fills."""
        if self.running:
            self.status_label.setText(f"{what} waits for the run to end: stop it first.")
            return None
        if self.checking:
            return None
        if self.chooser.loading:
            self.status_label.setText(f"Loading the data set… press {what} again once it is read.")
            return None
        self.error_banner.hide()
        setup, problems = preflight(self.graph, self.chooser.dataset, self.chooser.error, self.chooser.reach)
        self._show_problems(problems)
        if problems or setup is None:
            self.status_label.setText(f"{what} not run: {problem_headline(problems)}")
            self.problemsFound.emit(problems)
            return None
        return setup

    def check(self) -> bool:
        """The doctor's look at the network before its first step (``studio.doctor.preview``), made off
        the window's thread: the Check tab shows it and the canvas wires take its gradient norms.
        False when refused."""
        setup = self._check_setup("Check")
        if setup is None:
            return False
        key = check_keys(self.graph)["preview"]

        def work(_progress, _stop):
            from studio.doctor.preview import preview

            return preview(setup.graph, setup.base_dir, setup.dataset, device=setup.config.device)

        def show(result, error) -> None:
            self._set_checking(None)
            if error is not None:
                self.check_view.show_preview_error(str(error))
                self.status_label.setText(f"The check could not run: {error}")
                return
            self.check_view.show_preview(result, key)
            self._check_on_canvas = "shown"
            self._show_check_on_canvas()
            self._follow_checks()  # an edit made while it ran makes it stale at once
            self.views.setCurrentWidget(self.check_view)
            warnings = len(result.problems)
            self.status_label.setText(
                f"Checked: {warnings} warning(s) before training; see the Check tab." if warnings else
                "Checked: nothing looks wrong before training.")

        self._start_check("preview", work, show)
        self.check_view.preview_started()
        return True

    def overfit_one_batch(self) -> bool:
        """Train a fresh copy of the network on one batch (``studio.doctor.sanity.overfit_batch``), its
        loss drawn as it falls. False when refused."""
        setup = self._check_setup("Overfit one batch")
        if setup is None:
            return False
        key = check_keys(self.graph)["overfit"]

        def work(progress, stop):
            from studio.doctor.sanity import overfit_batch

            return overfit_batch(setup.graph, setup.base_dir, setup.dataset, steps=OVERFIT_STEPS,
                                 progress=progress, stop=stop, device=setup.config.device)

        def show(result, error) -> None:
            self._set_checking(None)
            if error is not None:
                self.check_view.show_sanity_error("overfit", str(error))
                self.status_label.setText(f"The one-batch test could not run: {error}")
                return
            self.check_view.show_overfit(result, key)
            self._follow_checks()
            words = "passed" if result.passed else ("stopped" if result.stopped else "failed")
            self.status_label.setText(f"Overfit one batch: {words} after {result.steps} steps; see the Check tab.")

        self._start_check("overfit", work, show, self.check_view.add_overfit_points)
        self.check_view.overfit_started(OVERFIT_STEPS)
        return True

    def find_lr(self) -> bool:
        """The learning-rate range test (``studio.doctor.sanity.lr_find``), its curve drawn as it runs
        and its suggestion offered as one undoable edit. False when refused."""
        setup = self._check_setup("Find learning rate")
        if setup is None:
            return False
        key = check_keys(self.graph)["lr_find"]

        def work(progress, stop):
            from studio.doctor.sanity import lr_find

            return lr_find(setup.graph, setup.base_dir, setup.dataset, start=LR_START, end=LR_END, steps=LR_STEPS,
                           progress=progress, stop=stop, device=setup.config.device)

        def show(result, error) -> None:
            self._set_checking(None)
            if error is not None:
                self.check_view.show_sanity_error("lr_find", str(error))
                self.status_label.setText(f"The learning-rate test could not run: {error}")
                return
            self.check_view.show_lr(result, key)
            self._follow_checks()
            self.status_label.setText(
                f"Suggested learning rate: {result.suggested:g}; see the Check tab." if result.suggested is not None
                else "The learning-rate test has no suggestion; see the Check tab.")

        self._start_check("lr_find", work, show, self.check_view.add_lr_points)
        self.check_view.lr_started()
        return True

    def stop_check(self) -> None:
        """End the overfit or learning-rate check before its next step."""
        if self.checking:
            self.checks.stop()
            self.status_label.setText("Stopping the check after this step…")

    def use_suggested_lr(self) -> bool:
        """The learning-rate test's suggestion into ``training.optimizer.lr``, one undo step."""
        result = self.check_view.lr_result
        if result is None or result.suggested is None or self.running or self.checking:
            return False
        from studio.ui.document.commands import FixCommand

        command = FixCommand(self.graph, result.fix())
        self.undo_stack.push(command)
        if command.refusal:
            self.status_label.setText(f"The learning rate was not changed: {command.refusal}")
            return False
        self.status_label.setText(f"Learning rate set to {result.suggested:g} (Edit > Undo takes it back).")
        self._follow_checks()
        return True

    def _on_overfit_button(self) -> None:
        if self.checks.kind == "overfit":
            self.stop_check()
        else:
            self.overfit_one_batch()

    def _on_lr_button(self) -> None:
        if self.checks.kind == "lr_find":
            self.stop_check()
        else:
            self.find_lr()

    def _start_check(self, kind: str, work, show, points=None) -> None:
        self.checks.start(kind, work, show, points)
        self._set_checking(kind)
        self.views.setCurrentWidget(self.check_view)

    def _set_checking(self, kind: str | None) -> None:
        if not isValid(self.controls):
            return
        self.controls.set_checking(kind is not None)
        self.check_view.set_busy(kind, can_run=not self.running)

    def _forget_checks(self) -> None:
        """A check still running is stopped and waited for (another document, the window closing)."""
        if self.checking:
            self.checks.forget()
            self._set_checking(None)

    def _follow_checks(self) -> None:
        """The Check tab against the graph as it is now: a result of another graph is marked stale,
        and the canvas loses (or, after an undo, gets back) the preview's colours."""
        if not isValid(self) or not self.check_view.has_results:
            return
        try:
            lr = float(self.graph.training["optimizer"]["lr"])
        except (KeyError, TypeError, ValueError):
            lr = None
        stale = self.check_view.follow(check_keys(self.graph), lr)
        if self._check_on_canvas == "shown" and "preview" in stale:
            self._check_on_canvas = "stale"
            if self.canvas_gradients is not None and not self.running:
                self.canvas_gradients.clear()
        elif self._check_on_canvas == "stale" and "preview" not in stale:
            self._check_on_canvas = "shown"
            self._show_check_on_canvas()

    def _show_check_on_canvas(self) -> None:
        """The preview's gradient norms on the canvas wires, coloured as the live gradient flow colours
        them, and its vanishing or exploding nodes badged: the problem shows before any step."""
        preview = self.check_view.preview
        if self.canvas_gradients is None or preview is None or self.running:
            return
        norms = {n.node: n.grad_norm for n in preview.nodes if n.grad_norm is not None}
        flags = {n.node: f for n in preview.nodes for f in n.flags[:1] if f in ("vanishing", "exploding")}
        self.canvas_gradients.show_norms(norms)
        self.canvas_gradients.show_flags(flags)

    def reset_weights(self) -> None:
        self._set_weights(None)
        self.status_label.setText("Weights reset: the next run starts from a fresh initialisation.")

    def _set_weights(self, weights: dict[str, Any] | None, graph: Graph | None = None, dataset: Any = None,
                     source: str | None = None) -> None:
        """``weights`` (state dicts by network) as the panel's trained weights, trained on ``graph``
        with ``dataset``, from ``source`` (in words): the next run starts from them, and the Try it
        tab predicts with them."""
        had = self.weights is not None
        self.weights = weights
        self.weights_source = source if weights is not None else None
        self.weights_graph = graph if weights is not None else None
        if weights is None:
            self.try_it.clear()
        else:
            self.try_it.set_model(graph if graph is not None else self.graph, weights,
                                  dataset if dataset is not None else self.chooser.dataset)
        if had != (weights is not None):
            self.weightsChanged.emit(weights is not None)

    @property
    def has_weights(self) -> bool:
        return self.weights is not None

    def save_weights(self, path: str | Path) -> Path:
        """The last run's trained weights as a checkpoint's weights file (``.safetensors``), the
        one ``studio export --weights`` takes. Raises ``OSError`` when it cannot be written."""
        from .run import write_weights

        if self.weights is None:
            raise ValueError("no trained weights yet: train first")
        return write_weights(self.weights, path)

    def load_weights(self, path: str | Path) -> str:
        """A weights file (``.safetensors``, or a checkpoint named by either of its files) as the panel's
        trained weights, all or nothing: the next Train continues from them and Try it uses them.
        Returns what was loaded, in words; raises ``WeightsRefused`` naming the file and the tensors
        that do not fit the graph (nothing changes then)."""
        from .weights_file import read_weights, summary

        if self.running:
            raise WeightsRefused(f"{path}: not loaded while a run trains: stop it first")
        weights = read_weights(self.graph, path)
        self._set_weights(weights, self.graph.copy(), self.chooser.dataset, source=Path(path).name)
        text = f"Loaded {summary(weights)} from {Path(path).name}"
        self.evaluation_view.evaluate_later(lambda: self._evaluate_weights(path, weights),
                                            f"weights loaded from {Path(path).name}")
        self.status_label.setText(f"{text}: the next run starts from them.")
        return text

    def _evaluate_weights(self, path: str | Path, weights: dict[str, Any]) -> Any:
        """The report of ``weights`` on the validation samples of the data set chosen, made by the pass
        that reports a run's epochs (``studio evaluate``'s)."""
        from studio.compile import compile_networks
        from studio.evaluation.evaluate import evaluate
        from studio.evaluation.loading import Loaded
        from studio.training.checkpoint import flatten, load_flat_state

        setup, problems = preflight(self.graph, self.chooser.dataset, self.chooser.error, self.chooser.reach)
        if problems or setup is None:
            raise ValueError(f"{problem_headline(problems)} Press Train to list them.")
        networks = compile_networks(setup.graph)
        load_flat_state(networks, flatten(weights), str(path))
        loaded = Loaded(graph=setup.graph, path=Path(path), weights=Path(path), checked=setup.checked,
                        networks=networks)
        return evaluate(loaded).report

    def shutdown(self, timeout_ms: int = 10_000) -> None:
        """Stop a run and wait for its thread (before the window closes or another document opens).
        What the run still has on its way is dropped: it is not for the views any more."""
        self._forget_checks()
        session = self.session
        if session is None:
            return
        if session.running:
            session.stop()
            session.resume()
            session.wait(timeout_ms)
        for signal, slot in ((session.events, self._on_events), (session.failed, self._on_failed),
                             (session.finished, self._on_finished)):
            try:
                signal.disconnect(slot)
            except (RuntimeError, TypeError):
                pass
        # The session still ends its thread when the worker's last signal arrives; then it goes.
        session.finished.connect(session.deleteLater)
        if not session.running:
            session.deleteLater()
        self.session = None
        self._redraw_timer.stop()
        sys.setswitchinterval(self._switch_interval)
        if isValid(self.controls):
            self.controls.set_running(False)
            self.check_view.set_busy(None, can_run=True)
            self.config_form.setEnabled(True)
            self.chooser.setEnabled(True)
            self._update_history("stopped", "stopped for another document or on closing")
        self.runFinished.emit("stopped")

    # ---- events from the run -------------------------------------------
    def _on_events(self, batch: list) -> None:
        # Into the run at once (sorted once there: a batch holds hundreds of step reports and a
        # handful of probes); each view is then handed only what it draws, at its own pace.
        arrived = self.run.add(batch)
        self.last_end = self.run.end
        progress = self.progress
        if not self._step_axis_set and progress.steps_per_epoch:
            total = progress.steps_per_epoch * progress.epochs
            self.gradient_view.set_run_length(total)
            self.activation_view.set_run_length(total)
            self._step_axis_set = True
        if arrived.steps or arrived.epochs:
            self._throttles[0].queue([(arrived.steps, bool(arrived.epochs))])
        if arrived.probes:
            for throttle in self._throttles[1:]:
                throttle.queue(arrived.probes)
            self._probe_signal.queue([p for p in arrived.probes if p.activations])
        if arrived.epochs:
            self._history_throttle.queue(arrived.epochs)
            self._evaluation_throttle.queue(arrived.epochs)
        self._progress_dirty = True
        self._on_redraw_tick()

    def _on_redraw_tick(self) -> None:
        if self.running and self.session.paused:
            # Nothing trains while paused, so drawing slows nothing: show everything there is.
            if self._progress_dirty:
                self._show_progress()
            self._flush_all()
            return
        now = time.monotonic()
        if budget.adjust():
            for throttle, base in zip(self._all_throttles, self._base_intervals):
                throttle.interval = budget.interval(base)
        if self._progress_dirty and now - self._progress_shown >= PROGRESS_S:
            self._show_progress()
        self._flush_due()
        if self._probe_signal.due():
            self._probe_signal.flush()

    def _show_progress(self) -> None:
        progress = self.progress
        self._progress_shown = time.monotonic()
        self._progress_dirty = False
        self.controls.show_progress(progress)
        if progress.ended is None and self.running and not self.session.paused:
            self.status_label.setText(f"Run {self.runs}: training, epoch {min(progress.epoch, progress.epochs)}"
                                      f" of {progress.epochs}.")

    def _on_tab(self, index: int) -> None:
        throttle = self._throttle_of.get(self.views.widget(index))
        if throttle is not None:
            throttle.flush()
            if self._progress_dirty and self.progress is not None:
                self._show_progress()  # the bars and the view tell of the same moment

    def _flush_due(self) -> None:
        """Redraw the one view that has waited longest: one view per turn of the event loop keeps
        each paint short, so the window answers between them."""
        due = [t for t in self._all_throttles if t.due()]
        if due:
            min(due, key=lambda t: t.last).flush()

    def _flush_all(self) -> None:
        for throttle in self._all_throttles + [self._probe_signal]:
            throttle.flush()

    def _draw_curves(self, grown: list[tuple[bool, bool]]) -> None:
        self.loss_view.draw(any(s for s, _ in grown), any(e for _, e in grown))

    def _update_history(self, status: str | None = None, message: str = "") -> None:
        run = self.history_view.record(self.runs)
        if status is not None:
            run.finish(status, message)
        self.history_view.update_run(run)

    def _on_failed(self, message: str) -> None:
        self.last_error = message
        self._show_error(message)

    def _show_error(self, message: str) -> None:
        self.error_banner.setText(f"Training stopped with an error: {message}")
        self.error_banner.show()

    def _on_finished(self) -> None:
        self._redraw_timer.stop()
        self._show_progress()
        self._flush_all()  # the views show the run to its last step
        for view in (self.boundary_view, self.activation_view, self.gradient_view, self.samples_view,
                     self.attention_view, self.embedding_view,
                     self.evaluation_view):
            catch_up = getattr(view, "catch_up", None)
            if catch_up is not None:
                catch_up()  # at once, not after the frames still waiting their turn
        end = self.last_end if self.last_end is not None and self.progress.ended is self.last_end else None
        status = "failed" if self.last_error else (end.status if end else "stopped")
        if end is not None and end.status == "failed" and not self.last_error:
            self.last_error = end.message
            self._show_error(end.message)
        sys.setswitchinterval(self._switch_interval)
        trainer = self.session.worker.trainer
        self.try_it.set_training(False)
        if status != "failed" and self.setup is not None:
            self._set_weights(self.setup.keep_weights(trainer), self.setup.graph, self.setup.dataset,
                              source=f"run {self.runs}")
        self.controls.set_running(False)
        self.check_view.set_busy(None, can_run=True)
        self.config_form.setEnabled(True)
        self.chooser.setEnabled(True)
        words = END_WORDS.get(status, status)
        epochs = end.epochs if end else self.progress.epochs_done
        text = f"Run {self.runs}: {words} after {epochs} epoch(s)."
        if end is not None and end.best is not None and end.best.val_loss is not None:
            text += f" Best validation loss {end.best.val_loss:.4f} at epoch {end.best.epoch}."
        self.status_label.setText(text)
        self._update_history(status, self.last_error or (end.message if end else ""))
        self.session.deleteLater()
        self.session = None
        self.runFinished.emit(status)

    # ---- problems ------------------------------------------------------
    def _on_graph_event(self, event) -> None:
        if isValid(self) and self.check_view.has_results and event.kind not in ("node_moved", "label_changed"):
            self._check_follow_timer.start()
        if isValid(self) and not self.problem_list.isHidden() and not self.running:
            self._recheck_timer.start()
        elif isValid(self) and not self.running and self.progress is None:
            self._ready_timer.start()

    def _recheck_problems(self) -> None:
        """The listed problems again, for the document as it is now: fixed ones go, and when none
        is left the list goes and the status line says the run is ready."""
        if self.running or self.problem_list.isHidden() or self.chooser.loading:
            return
        _setup, problems = preflight(self.graph, self.chooser.dataset, self.chooser.error, self.chooser.reach)
        self._show_problems(problems)
        if problems:
            self.status_label.setText(f"Not started: {problem_headline(problems)}")
        else:
            self.status_label.setText(self._ready_text(self.chooser.dataset))

    def _show_problems(self, problems: list[Problem]) -> None:
        self.problem_list.clear()
        for p in problems:
            item = QListWidgetItem(f"⚠ {p}")
            item.setData(Qt.ItemDataRole.UserRole, p.node)
            self.problem_list.addItem(item)
        self.problem_list.setVisible(bool(problems))

    def _on_problem_item(self, item: QListWidgetItem) -> None:
        node = item.data(Qt.ItemDataRole.UserRole)
        if node:
            self.problemActivated.emit(node)
