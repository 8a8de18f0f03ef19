"""The headless Trainer: one run of a graph on a data set, reported through a callback.

    trainer = Trainer(graph, dataset, config, callback=print, base_dir=folder)
    result = trainer.run()          # blocks; call pause/resume/stop from any thread

``run()`` never raises for a failed run: it ends with ``EndEvent(status="failed")``
and a ``RunResult`` carrying the message and the exception. The callback is
called on the thread that runs ``run()``, with the events of ``events.py`` in
order: ``StepsEvent``s (per-step losses, read back every ``report_every``
steps), ``ProbeEvent``s (sampled), one ``EpochEvent`` per epoch, and a last
``EndEvent``.

The Trainer is the loop and the run's state; its helpers each do one thing:
``step_report`` (read the losses back, report them, catch a non-finite one),
``probe_budget`` (when a probe comes, and how rich), ``monitor`` (the best epoch
by the recipe's goal, and early stopping), ``kept_weights`` (what a failed or
early-stopped run falls back on) and ``resume`` (its checkpoints).
"""

from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import torch
from torch import nn

from studio.files.reach import Reach
from studio.graph import Graph, Problem

from . import checkpoint as ckpt
from . import preflight
from .config import ConfigError, TrainingConfig
from .device import cpu_threads, pick_device
from .errors import TrainingSetupError
from .events import EndEvent, EpochEvent, Event
from .kept_weights import KeptWeights, kept_message
from .monitor import Monitor
from .optim import Schedule, set_lr
from .probe_budget import ProbeBudget
from .probes import study
from .recipe import Recipe
from .resume import checkpoint_place, load_run, save_run
from .step_report import NonFinite, StepReport

Callback = Callable[[Event], None]

FINAL_STATES = ("finished", "stopped", "early_stopped", "failed")


def _reseeder(device: torch.device | None) -> Callable[[int], None]:
    """Seeds the generators a run on ``device`` draws from. Only those: seeding
    every backend (``torch.manual_seed``) costs a hundred times more per epoch."""
    if device is not None and device.type == "cuda":
        return lambda seed: (torch.default_generator.manual_seed(seed), torch.cuda.manual_seed(seed))
    if device is not None and device.type == "mps":
        return torch.manual_seed
    return torch.default_generator.manual_seed


@dataclass
class RunResult:
    """How a run ended. ``status``: finished, stopped, early_stopped or failed."""

    status: str
    message: str
    epochs: int  # epochs completed, counting those of a resumed run
    steps: int  # steps completed
    history: list[EpochEvent] = field(default_factory=list)
    best: EpochEvent | None = None
    losses: list[float] = field(default_factory=list)  # every finite step loss, in order
    error: BaseException | None = None
    traceback: str | None = None
    checkpoint: Path | None = None  # weights file last written, if any
    networks: dict[str, nn.Module] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status != "failed"


class Trainer:
    """Trains ``graph`` on ``dataset`` (or on ``config.dataset`` loaded from ``base_dir``).

    ``config``: a ``TrainingConfig``, a ``training`` dict, or None for
    ``graph.training``; a bad dict raises ``ConfigError`` here, listing every
    bad key. Everything else (an invalid graph, data that does not fit it, a
    missing device) is checked by ``prepare()``, which ``run()`` calls.

    ``graph_path`` names the graph file: checkpoints go beside it, and it is
    the default ``base_dir``. ``base_dir`` is the graph file's reach: a folder, or
    a ``studio.files.reach.Reach`` (the folder plus what the person granted);
    ``allow_outside`` grants more paths. The data set and ``checkpoint.path``
    the settings name must lie inside it, else ``prepare()`` refuses before
    anything is read or written. ``checkpoint_path`` and ``resume_from`` come
    from the caller (the person's own choice), so they may point anywhere;
    ``resume_from`` continues a run from a checkpoint (either of its files).
    ``threads`` caps torch's CPU threads (default: config ``threads``, else all
    cores but one, leaving one for the UI; never more than the cores).

    ``checked``: what ``preflight.checked`` or ``preflight.check_run`` found for this
    graph, from a caller that ran the checks already. The run then takes its settings,
    data set, task and reach from it (leave ``dataset``, ``config`` and ``base_dir``
    out), and ``prepare()`` checks none of it again.
    """

    def __init__(
        self,
        graph: Graph,
        dataset: Any = None,
        config: TrainingConfig | Mapping[str, Any] | None = None,
        callback: Callback | None = None,
        base_dir: str | Path | Reach | None = None,
        *,
        graph_path: str | Path | None = None,
        resume_from: str | Path | None = None,
        checkpoint_path: str | Path | None = None,
        threads: int | None = None,
        allow_outside: Iterable[str | Path] = (),
        checked: preflight.Checked | None = None,
    ) -> None:
        self.graph = graph
        self._checked = checked
        if checked is not None:
            if dataset is not None or config is not None or base_dir is not None or tuple(allow_outside):
                raise ValueError("a checked run takes its data set, settings and reach from the check")
            dataset, config = checked.dataset, checked.config
        if config is None:
            config = graph.training
        self.config = config if isinstance(config, TrainingConfig) else TrainingConfig.from_dict(config)
        self.dataset = dataset
        self.callback = callback
        self.graph_path = Path(graph_path) if graph_path is not None else None
        if base_dir is None and self.graph_path is not None:
            base_dir = self.graph_path.parent
        self.reach = checked.reach if checked is not None else Reach.of(base_dir, tuple(allow_outside))
        self.base_dir = self.reach.folder
        self.resume_from = Path(resume_from) if resume_from is not None else None
        self._checkpoint_path = Path(checkpoint_path) if checkpoint_path is not None else None
        self.threads = threads if threads is not None else self.config.threads

        self._lock = threading.Lock()
        self._go = threading.Event()  # cleared while paused
        self._go.set()
        self._stop = threading.Event()
        self._state = "ready"
        self._epoch = 0
        self._step = 0
        self._prepared = False
        self.task: str | None = None
        self.device: torch.device | None = None
        self.recipe: Recipe | None = None
        self.history: list[EpochEvent] = []
        self._monitor: Monitor | None = None
        self._kept: KeptWeights | None = None
        self._losses: list[float] = []
        self._last_checkpoint: Path | None = None

    # ---- control, from any thread -----------------------------------------
    def pause(self) -> None:
        """Hold the run before its next step (until ``resume()`` or ``stop()``)."""
        self._go.clear()

    def resume(self) -> None:
        self._go.set()

    def stop(self) -> None:
        """End the run before its next step; a paused run ends at once."""
        self._stop.set()
        self._go.set()

    @property
    def state(self) -> str:
        """ready, preparing, running, paused, then finished, stopped, early_stopped or failed."""
        with self._lock:
            if self._state == "running" and not self._go.is_set():
                return "paused"
            return self._state

    @property
    def is_running(self) -> bool:
        return self.state in ("preparing", "running", "paused")

    @property
    def is_paused(self) -> bool:
        return self.state == "paused"

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    @property
    def epoch(self) -> int:
        """Epochs completed."""
        return self._epoch

    @property
    def step(self) -> int:
        """Steps completed over the whole run (a resumed run counts on)."""
        return self._step

    @property
    def networks(self) -> dict[str, nn.Module]:
        """The networks being trained (after ``prepare()``), by name."""
        return dict(self.recipe.networks) if self.recipe is not None else {}

    @property
    def best(self) -> EpochEvent | None:
        """The best epoch so far, by the recipe's goal."""
        return self._monitor.best if self._monitor is not None else None

    def _set_state(self, state: str) -> None:
        with self._lock:
            self._state = state

    # ---- checks and set-up -------------------------------------------------
    def check(self) -> list[Problem | str]:
        """Everything that would stop the run from starting, without training."""
        try:
            self.prepare()
        except TrainingSetupError as exc:
            return exc.problems
        except (ConfigError, ckpt.CheckpointError, ValueError, RuntimeError) as exc:
            return [str(exc)]
        return []

    def prepare(self) -> None:
        """Check (unless handed a ``Checked``: ``preflight.checked``), pick the device, compile,
        and (when asked) resume. Raises ``TrainingSetupError`` listing the problems."""
        if self._prepared:
            return
        from .setup import build_recipe

        checked = self._checked
        if checked is None:
            checked = preflight.checked(self.graph, self.reach, self.dataset, config=self.config,
                                        checkpoint_chosen=self._checkpoint_path is not None)
        cfg = self.config
        self.dataset, self.task = checked.dataset, checked.task
        self.device = pick_device(cfg.device)
        torch.manual_seed(cfg.seed)  # weights are drawn when the networks are built
        self.recipe = build_recipe(self.graph, self.dataset, cfg, self.task, self.device)
        if self.resume_from is not None:
            try:
                self._load(self.resume_from)
            except ckpt.CheckpointError as exc:
                raise TrainingSetupError([str(exc)], "cannot resume from the checkpoint") from exc
        self._kept = KeptWeights(self.recipe.networks, self._epoch)
        if cfg.probes.enabled:
            study(self.recipe.networks)  # the probes' tap is compiled with the network
        es = cfg.early_stopping
        self._monitor = Monitor(self.recipe.goal, es.min_delta if es.enabled else 0.0,
                                es.patience if es.enabled else None)
        self._prepared = True

    # ---- running -----------------------------------------------------------
    def run(self) -> RunResult:
        """Train to the end, a stop, early stopping or a failure; never raises."""
        if self.state != "ready":
            raise RuntimeError(f"this trainer has already run (state {self.state}); make a new one")
        self._set_state("preparing")
        old_threads = torch.get_num_threads()
        status, message, error, trace = "finished", "", None, None
        try:
            self.prepare()
            if self.device.type == "cpu":
                torch.set_num_threads(cpu_threads(self.threads))
            self._set_state("running")
            status, message = self._train()
        except NonFinite as bad:
            status, message = "failed", self._non_finite_message(bad)
            self._restore_good()
        except torch.OutOfMemoryError as exc:
            status, error = "failed", exc
            message = (f"out of memory at step {self._step + 1} (epoch {self._epoch + 1}, batch_size "
                       f"{self.config.batch_size}); try a smaller batch size or network. "
                       f"{self._kept_message()}")
            self._restore_good()
            if self.device is not None and self.device.type == "cuda":
                torch.cuda.empty_cache()
        except TrainingSetupError as exc:
            status, message, error = "failed", str(exc), exc
        except Exception as exc:  # a failed run is reported, never raised into the caller
            status, error, trace = "failed", exc, traceback.format_exc()
            where = f" at step {self._step + 1} (epoch {self._epoch + 1})" if self._state == "running" else ""
            message = f"{type(exc).__name__}{where}: {exc}"
        finally:
            torch.set_num_threads(old_threads)
        if self.config.checkpoint.enabled and status != "failed" and self.recipe is not None:
            try:
                self.save_checkpoint()
            except (OSError, ValueError, ckpt.CheckpointError) as exc:
                message = f"{message}; the checkpoint could not be saved: {exc}".lstrip("; ")
        if not message:
            message = {"finished": f"trained {self._epoch} epochs"}.get(status, status)
        self._set_state(status)
        result = RunResult(status, message, self._epoch, self._step, list(self.history), self.best,
                           list(self._losses), error, trace, self._last_checkpoint, self.networks)
        try:
            self._emit(EndEvent(status, message, self._epoch, self.best))
        except Exception as exc:  # the receiver failed on the last event: say so in the result
            result.message += f" (the callback failed on the end event: {exc})"
        return result

    def _emit(self, event: Event) -> None:
        if self.callback is not None:
            self.callback(event)

    def _train(self) -> tuple[str, str]:
        cfg, r = self.config, self.recipe
        spe = r.steps_per_epoch
        if self._epoch >= cfg.epochs:
            return "finished", f"already trained {self._epoch} of {cfg.epochs} epochs"
        schedule = Schedule(cfg.schedule, cfg.optimizer.lr, cfg.epochs, spe)
        optimizers = [u.optimizer for u in r.updates]
        budget = ProbeBudget(cfg.probes, r, self._emit, self.device, self._step, self._epoch) \
            if cfg.probes.enabled else None
        report = StepReport(self._emit, r.step_extra_names, spe, self._losses)
        pending, extra_pending, lrs = report.pending, report.extra_pending, report.lrs
        report_every = cfg.report_every
        weights = getattr(r, "step_weights", None)
        has_extra = bool(r.step_extra_names)
        reseed = _reseeder(self.device)
        go_is_set, stop_is_set, step = self._go.is_set, self._stop.is_set, r.step
        varying_lr = not schedule.constant
        stopped = False
        for epoch in range(self._epoch + 1, cfg.epochs + 1):
            started = time.perf_counter()
            wait = 0.0
            # each epoch's dropout and noise follow from seed and epoch alone, whatever ran before
            reseed(cfg.seed * 1000 + epoch)
            r.begin_epoch(epoch)
            report.begin_epoch(epoch)
            lr = schedule.lr(self._step)
            for opt in optimizers:
                set_lr(opt, lr)
            for i in range(spe):
                # the hot loop: a few flag reads and list appends around the step, nothing more
                if not go_is_set():
                    report.flush(self._step)  # a paused run shows every step it took, not all but the last few
                    wait += self._wait_while_paused()
                if stop_is_set():
                    stopped = True
                    break
                if varying_lr:
                    lr = schedule.lr(self._step)
                    for opt in optimizers:
                        set_lr(opt, lr)
                pending.append(step(i))
                if has_extra:
                    for k, v in r.step_extra().items():
                        extra_pending[k].append(v)
                lrs.append(lr)
                self._step += 1
                if len(pending) >= report_every:
                    report.flush(self._step)
                if budget is not None and budget.due(self._step):
                    budget.after_step(self._step, epoch, end_of_epoch=i == spe - 1)
            report.flush(self._step)
            if stopped:
                break
            ev = r.evaluate()
            seconds = time.perf_counter() - started - wait
            extra = report.epoch_extra_means()
            extra.update(ev.extra)
            event = EpochEvent(epoch, report.epoch_loss(weights), ev.val_loss, ev.train_acc, ev.val_acc, lr,
                               seconds, r.samples_per_epoch / max(seconds, 1e-9), extra, ev.report)
            self._epoch = epoch
            self.history.append(event)
            self._emit(event)
            improved = self._monitor.update(event)
            self._kept.epoch_done(epoch, keep_as_best=improved and cfg.early_stopping.restore_best
                                  and cfg.early_stopping.enabled)
            if cfg.checkpoint.enabled and epoch % cfg.checkpoint.every == 0 and epoch < cfg.epochs:
                self.save_checkpoint()
            if self._monitor.should_stop:
                if self._kept.restore_best() and budget is not None:
                    budget.weights_restored()
                if budget is not None:
                    budget.final(self._step, epoch)
                return "early_stopped", self._early_stop_message(epoch)
        if budget is not None:
            budget.final(self._step, self._epoch)
        if stopped:
            return "stopped", f"stopped after step {self._step}, with {self._epoch} of {cfg.epochs} epochs complete"
        return "finished", f"trained {self._epoch} epochs"

    def _wait_while_paused(self) -> float:
        started = time.perf_counter()
        while not self._go.wait(0.1):
            pass
        return time.perf_counter() - started

    # ---- messages ----------------------------------------------------------
    def _early_stop_message(self, epoch: int) -> str:
        es, goal = self.config.early_stopping, self._monitor.goal
        kept = f"kept the weights of epoch {self.best.epoch}" if es.restore_best else "kept the last weights"
        return (f"stopped early after epoch {epoch}: {goal.label or goal.metric} has not improved for "
                f"{es.patience} epochs; {kept}")

    def _restore_good(self) -> None:
        if self._kept is not None:
            self._kept.restore_good()

    def _kept_message(self) -> str:
        return self._kept.message() if self._kept is not None else kept_message(self._epoch)

    def _non_finite_message(self, bad: NonFinite) -> str:
        lr = self.config.optimizer.lr
        return (f"the loss became {bad.value} at step {bad.step} (epoch {self._epoch + 1}); training stopped. "
                f"{self._kept_message()} Try a lower learning rate (optimizer.lr is {lr:g}), "
                "gradient clipping, or look for missing or infinite values in the data.")

    # ---- checkpoints -------------------------------------------------------
    def checkpoint_path(self) -> Path:
        """Where checkpoints go: as given, the config's ``checkpoint.path`` (inside the graph's
        reach, else ``OutsideFolder``), or beside the graph file as ``<graph>.safetensors``."""
        return checkpoint_place(self._checkpoint_path, self.config.checkpoint.path, self.reach, self.graph_path,
                                self.graph.name)

    def save_checkpoint(self, path: str | Path | None = None) -> Path:
        """Write the weights and the state a resumed run needs; returns the weights path.
        Call it between runs or from the callback (the training thread)."""
        if self.recipe is None:
            raise RuntimeError("nothing to save: the trainer has not been prepared")
        target = ckpt.weights_path(path) if path is not None else self.checkpoint_path()
        self._last_checkpoint = save_run(target, self.recipe.networks, self.recipe.updates, self._epoch,
                                         self._step, self.best)
        return self._last_checkpoint

    def _load(self, path: Path) -> None:
        if not path.is_absolute():
            path = self.base_dir / path
        self._epoch, self._step = load_run(path, self.recipe.networks, self.recipe.updates)
