"""The headless Trainer: one run of a graph on a data set, reported through a callback.

    trainer = Trainer(graph, dataset, config, callback=print, base_dir=folder)
    result = trainer.run()          # blocks; call pause/resume/stop from any thread

``run()`` never raises for a failed run: it ends with ``EndEvent(status="failed")``
and a ``RunResult`` carrying the message and the exception. The callback is
called on the thread that runs ``run()``, with the events of ``events.py`` in
order: ``StepsEvent``s (per-step losses, read back every ``report_every``
steps), ``ProbeEvent``s (sampled), one ``EpochEvent`` per epoch, and a last
``EndEvent``.
"""

from __future__ import annotations

import math
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import torch
from torch import nn

from studio.files.reach import OutsideFolder, Reach
from studio.graph import Graph, Problem, validate

from . import checkpoint as ckpt
from .config import ConfigError, TrainingConfig
from .device import cpu_threads, pick_device
from .events import EndEvent, EpochEvent, Event, ProbeEvent, StepsEvent
from .optim import Schedule, set_lr
from .probes import grad_norms, probe_levels
from .recipe import Recipe

Callback = Callable[[Event], None]

# The live views redraw from whole probes: one at least every LIVE_S seconds of wall time,
# whatever the budget (which picks how rich each is, not whether it comes). Only when even the
# cheapest probe would take more than LIVE_CAP of the run (a large network on a CPU) do they
# thin out, to as often as LIVE_CAP allows and never fewer than one an epoch.
LIVE_S = 0.4  # under 0.5 s: frames stay above two a second when the window delays one
LIVE_CAP = 0.1
_wall_clock = time.perf_counter  # what LIVE_S is measured with
LEVEL_RATIO = 1.5  # a probe one level richer is guessed to cost this much more, until measured

FINAL_STATES = ("finished", "stopped", "early_stopped", "failed")


class TrainingSetupError(RuntimeError):
    """The run cannot start; ``problems`` lists why, each naming its node, key or file."""

    def __init__(self, problems: list[Problem | str], headline: str = "cannot train"):
        self.problems = list(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{headline}:\n{lines}")


def _reseeder(device: torch.device | None) -> Callable[[int], None]:
    """Seeds the generators a run on ``device`` draws from. Only those: seeding
    every backend (``torch.manual_seed``) costs a hundred times more per epoch."""
    if device is not None and device.type == "cuda":
        return lambda seed: (torch.default_generator.manual_seed(seed), torch.cuda.manual_seed(seed))
    if device is not None and device.type == "mps":
        return torch.manual_seed
    return torch.default_generator.manual_seed


def _budget_clock(device: torch.device | None) -> Callable[[], float]:
    """The clock probe costs are weighed with: on the CPU, this thread's CPU time
    (a busy machine slows probes and steps alike, so their ratio holds); on a
    GPU, where probes wait for the device, the wall clock."""
    if device is not None and device.type == "cpu":
        return time.thread_time
    return time.perf_counter


class _NonFinite(Exception):
    def __init__(self, step: int, value: float):
        self.step = step
        self.value = value


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
    ) -> None:
        self.graph = graph
        if config is None:
            config = graph.training
        self.config = config if isinstance(config, TrainingConfig) else TrainingConfig.from_dict(config)
        self.dataset = dataset
        self.callback = callback
        self.graph_path = Path(graph_path) if graph_path is not None else None
        if base_dir is None and self.graph_path is not None:
            base_dir = self.graph_path.parent
        self.reach = Reach.of(base_dir, tuple(allow_outside))
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
        self.best: EpochEvent | None = None
        self._good_epoch = 0
        self._good_state: dict[str, dict[str, torch.Tensor]] | None = None
        self._best_state: dict[str, dict[str, torch.Tensor]] | None = None
        self._losses: list[float] = []
        self._last_checkpoint: Path | None = None
        self._last_probe_step = -(10**9)
        self._last_probe_level = 0
        self._restored = False  # weights restored since the latest whole probe

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
        """Validate, load the data, check it fits, pick the device, compile, and
        (when asked) resume. Raises ``TrainingSetupError`` listing the problems."""
        if self._prepared:
            return
        from .setup import build_recipe, load_data, resolve_task

        cfg = self.config
        problems: list[Problem | str] = list(cfg.validate())
        if problems:
            raise TrainingSetupError(problems, "the training settings have problems")
        problems = list(validate(self.graph))
        if problems:
            raise TrainingSetupError(problems, "the graph has problems")
        from .preflight import model_memory_problems

        problems = model_memory_problems(self.graph)
        if problems:  # said before a single weight is allocated
            raise TrainingSetupError(problems, "the network does not fit in memory")
        if cfg.checkpoint.enabled:
            try:  # refused before any data is read or anything written
                self.checkpoint_path()
            except OutsideFolder as exc:
                raise TrainingSetupError([f"{exc.place}: {exc}"], "the training settings have problems") from exc
        if self.dataset is None:
            self.dataset = load_data(cfg, self.reach)
        self.task = resolve_task(cfg, self.dataset)
        self.device = pick_device(cfg.device)
        torch.manual_seed(cfg.seed)  # weights are drawn when the networks are built
        self.recipe = build_recipe(self.graph, self.dataset, cfg, self.task, self.device)
        if self.resume_from is not None:
            try:
                self._load(self.resume_from)
            except ckpt.CheckpointError as exc:
                raise TrainingSetupError([str(exc)], "cannot resume from the checkpoint") from exc
        self._good_state = self._snapshot()
        self._good_epoch = self._epoch
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
        except _NonFinite as bad:
            status, message = "failed", self._non_finite_message(bad)
            self._restore(self._good_state)
        except torch.OutOfMemoryError as exc:
            status, error = "failed", exc
            message = (f"out of memory at step {self._step + 1} (epoch {self._epoch + 1}, batch_size "
                       f"{self.config.batch_size}); try a smaller batch size or network. "
                       f"{self._kept_message()}")
            self._restore(self._good_state)
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
        probes = cfg.probes if cfg.probes.enabled else None
        next_probe_step = next_light_step = self._step + 1
        self._probe_clock = _budget_clock(self.device)
        self._probe_spent = 0.0  # seconds all probes took so far
        self._probe_began = self._probe_clock()
        self._levels = probe_levels(cfg.probes)  # richest first
        self._level_cost: list[float | None] = [None] * len(self._levels)  # measured, per level
        self._wall = wall = _wall_clock
        self._live_due = wall() + LIVE_S
        self._probed_epoch = self._epoch
        report_every = cfg.report_every
        weights = getattr(r, "step_weights", None)
        has_extra = bool(r.step_extra_names)
        reseed = _reseeder(self.device)
        go_is_set, stop_is_set, step = self._go.is_set, self._stop.is_set, r.step
        varying_lr = not schedule.constant
        stopped = False
        patience_left = cfg.early_stopping.patience
        for epoch in range(self._epoch + 1, cfg.epochs + 1):
            started = time.perf_counter()
            wait = 0.0
            # each epoch's dropout and noise follow from seed and epoch alone, whatever ran before
            reseed(cfg.seed * 1000 + epoch)
            r.begin_epoch(epoch)
            pending: list[torch.Tensor] = []
            extra_pending: dict[str, list[torch.Tensor]] = {k: [] for k in r.step_extra_names}
            lrs: list[float] = []
            epoch_losses: list[float] = []
            epoch_extra: dict[str, list[float]] = {k: [] for k in r.step_extra_names}
            lr = schedule.lr(self._step)
            for opt in optimizers:
                set_lr(opt, lr)
            for i in range(spe):
                # the hot loop: a few flag reads and list appends around the step, nothing more
                if not go_is_set():
                    if pending:  # a paused run shows every step it took, not all but the last few
                        self._flush(epoch, pending, extra_pending, lrs, spe, epoch_losses, epoch_extra)
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
                    self._flush(epoch, pending, extra_pending, lrs, spe, epoch_losses, epoch_extra)
                if probes is not None and (self._step >= next_probe_step or wall() >= self._live_due):
                    level = self._live_level(probes, epoch, end_of_epoch=i == spe - 1)
                    if level is not None:
                        self._probe(epoch, level)
                        next_probe_step = next_light_step = self._step + probes.every
                    elif probes.gradients and self._step >= next_light_step:
                        self._light_probe(epoch)
                        next_light_step = self._step + probes.every
            if pending:
                self._flush(epoch, pending, extra_pending, lrs, spe, epoch_losses, epoch_extra)
            if stopped:
                break
            ev = r.evaluate()
            seconds = time.perf_counter() - started - wait
            if weights is not None:
                w = weights[: len(epoch_losses)]
                train_loss = sum(a * b for a, b in zip(epoch_losses, w)) / max(1, sum(w))
            else:
                train_loss = sum(epoch_losses) / max(1, len(epoch_losses))
            extra = {k: sum(v) / len(v) for k, v in epoch_extra.items() if v}
            extra.update(ev.extra)
            event = EpochEvent(epoch, train_loss, ev.val_loss, ev.train_acc, ev.val_acc, lr, seconds,
                               r.samples_per_epoch / max(seconds, 1e-9), extra)
            self._epoch = epoch
            self.history.append(event)
            self._emit(event)
            self._good_state, self._good_epoch = self._snapshot(), epoch
            improved = self._is_better(event)
            if improved:
                self.best = event
                if cfg.early_stopping.enabled and cfg.early_stopping.restore_best:
                    self._best_state = self._good_state
            if cfg.checkpoint.enabled and epoch % cfg.checkpoint.every == 0 and epoch < cfg.epochs:
                self.save_checkpoint()
            if cfg.early_stopping.enabled and event.val_loss is not None:
                patience_left = cfg.early_stopping.patience if improved else patience_left - 1
                if patience_left <= 0:
                    if self._best_state is not None:
                        self._restore(self._best_state)
                        self._restored = True
                    self._final_probe(probes, epoch)
                    kept = f"kept the weights of epoch {self.best.epoch}" if cfg.early_stopping.restore_best \
                        else "kept the last weights"
                    return "early_stopped", (f"stopped early after epoch {epoch}: validation loss has not "
                                             f"improved for {cfg.early_stopping.patience} epochs; {kept}")
        self._final_probe(probes, self._epoch)
        if stopped:
            return "stopped", f"stopped after step {self._step}, with {self._epoch} of {cfg.epochs} epochs complete"
        return "finished", f"trained {self._epoch} epochs"

    # ---- probes ------------------------------------------------------------
    def _estimate(self, level: int) -> float:
        """Seconds a probe at ``level`` should take: as measured, else from the nearest measured
        level (each level down costs about a third less: half the work, but a small network's
        probe is mostly fixed costs); 0 before any was measured."""
        cost = self._level_cost[level]
        if cost is not None:
            return cost
        known = [(abs(k - level), k, c) for k, c in enumerate(self._level_cost) if c is not None]
        if not known:
            return 0.0
        _, k, c = min(known)
        return c * LEVEL_RATIO ** (k - level)

    def _allowance(self, share: float) -> float:
        """Seconds of probing left before all probes take more than ``share`` of the run."""
        return share * (self._probe_clock() - self._probe_began) - self._probe_spent

    def _richest_within(self, share: float) -> int | None:
        """The richest level that, counted in, keeps all probes within ``share`` of the run."""
        allowance = self._allowance(share)
        for level in range(len(self._levels)):
            if self._estimate(level) <= allowance:
                return level
        return None

    def _live_level(self, probes, epoch: int, end_of_epoch: bool) -> int | None:
        """The level of the whole probe to take now, or None for none.

        Once the views have waited ``LIVE_S``, a probe is taken at the richest level the budget
        affords, else at the cheapest as long as probes stay within ``LIVE_CAP`` of the run, and
        at the end of an epoch that had none in any case. Sooner, every ``every`` steps, only a
        whole probe at full detail that the budget affords: the views are live already, so the
        budget goes to detail rather than to more frequent coarse frames."""
        if self._wall() < self._live_due:
            return 0 if self._estimate(0) <= self._allowance(probes.budget) else None
        level = self._richest_within(probes.budget)
        if level is not None:
            return level
        if self._richest_within(LIVE_CAP) is not None or (end_of_epoch and self._probed_epoch < epoch):
            return len(self._levels) - 1
        return None

    def _probe(self, epoch: int, level: int) -> None:
        self._live_due = self._wall() + LIVE_S
        t = self._probe_clock()
        self._emit(self.recipe.probe(self._levels[level], self._step, epoch))
        spent = self._probe_clock() - t
        old = self._level_cost[level]
        self._level_cost[level] = spent if old is None else (old + spent) / 2
        self._probe_spent += spent
        self._last_probe_step = self._step
        self._last_probe_level = level
        self._probed_epoch = epoch
        self._restored = False

    def _light_probe(self, epoch: int) -> None:
        """Gradient norms alone, when a whole probe does not fit the budget: a few norms of
        gradients already computed cost a fraction of a millisecond, so the gradient-flow plot
        keeps one point per ``every`` steps however costly the other views are."""
        t = self._probe_clock()
        self._emit(ProbeEvent(self._step, epoch, grad_norms=grad_norms(self.recipe.networks)))
        spent = self._probe_clock() - t
        self._probe_spent += spent

    def _final_probe(self, probes, epoch: int) -> None:
        """A last look at the trained network, so the views end on the final weights. Always
        taken (unless the latest probe already saw these weights in full), and in full: training
        is over, so its cost slows nothing, and the last picture is the one a person studies."""
        if probes is None or self._step == 0:
            return
        if self._last_probe_step == self._step and self._last_probe_level == 0 and not self._restored:
            return
        self._probe(epoch, 0)

    def _flush(self, epoch: int, pending: list[torch.Tensor], extra_pending: dict[str, list[torch.Tensor]],
               lrs: list[float], spe: int, epoch_losses: list[float], epoch_extra: dict[str, list[float]]) -> None:
        """Read the pending losses back in one transfer, report them and add them
        to the epoch's lists; raise ``_NonFinite`` naming the first bad step."""
        names = list(extra_pending)
        rows = [torch.stack(pending).float()] + [torch.stack(extra_pending[k]).float() for k in names]
        values = torch.stack(rows).tolist() if len(rows) > 1 else [rows[0].tolist()]
        first = self._step - len(pending)
        good = len(pending)
        bad_value = math.nan
        for row in values:
            for j, v in enumerate(row[:good]):
                if not math.isfinite(v):
                    good = j
                    bad_value = v
                    break
        losses = values[0][:good]
        if good:
            extra = {k: values[1 + n][:good] for n, k in enumerate(names)}
            self._emit(StepsEvent(epoch, first, losses, lrs[:good], spe, extra))
            self._losses += losses
            epoch_losses += losses
            for k, v in extra.items():
                epoch_extra[k] += v
        pending.clear()
        lrs.clear()
        for v in extra_pending.values():
            v.clear()
        if good < len(values[0]):
            raise _NonFinite(first + good + 1, bad_value)

    def _wait_while_paused(self) -> float:
        started = time.perf_counter()
        while not self._go.wait(0.1):
            pass
        return time.perf_counter() - started

    def _is_better(self, event: EpochEvent) -> bool:
        if self.best is None:
            return True
        if "modes_covered" in event.extra:
            key = lambda e: (-e.extra.get("modes_covered", 0), e.train_loss)  # noqa: E731
            return key(event) < key(self.best)
        if event.val_loss is not None and self.best.val_loss is not None:
            margin = self.config.early_stopping.min_delta if self.config.early_stopping.enabled else 0.0
            return event.val_loss < self.best.val_loss - margin
        return event.train_loss < self.best.train_loss

    # ---- weights -----------------------------------------------------------
    def _snapshot(self) -> dict[str, dict[str, torch.Tensor]]:
        return {name: {k: v.detach().clone() for k, v in net.state_dict().items()}
                for name, net in self.recipe.networks.items()}

    def _restore(self, state: dict[str, dict[str, torch.Tensor]] | None) -> None:
        if state is None or self.recipe is None:
            return
        for name, net in self.recipe.networks.items():
            net.load_state_dict(state[name])

    def _kept_message(self) -> str:
        if self._good_epoch == 0:
            return "The weights from before training were kept."
        return f"The weights of epoch {self._good_epoch} were kept."

    def _non_finite_message(self, bad: _NonFinite) -> str:
        lr = self.config.optimizer.lr
        return (f"the loss became {bad.value} at step {bad.step} (epoch {self._epoch + 1}); training stopped. "
                f"{self._kept_message()} Try a lower learning rate (optimizer.lr is {lr:g}), "
                "gradient clipping, or look for missing or infinite values in the data.")

    # ---- checkpoints -------------------------------------------------------
    def checkpoint_path(self) -> Path:
        """Where checkpoints go: as given, the config's ``checkpoint.path`` (inside the graph's
        reach, else ``OutsideFolder``), or beside the graph file as ``<graph>.safetensors``."""
        if self._checkpoint_path is not None:
            return ckpt.weights_path(self._checkpoint_path)
        if self.config.checkpoint.path:
            return ckpt.place_in(self.reach, self.config.checkpoint.path)
        if self.graph_path is not None:
            return self.graph_path.with_suffix(".safetensors")
        stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in (self.graph.name or "graph"))
        return self.base_dir / f"{stem}.safetensors"

    def save_checkpoint(self, path: str | Path | None = None) -> Path:
        """Write the weights and the state a resumed run needs; returns the weights path.
        Call it between runs or from the callback (the training thread)."""
        if self.recipe is None:
            raise RuntimeError("nothing to save: the trainer has not been prepared")
        target = ckpt.weights_path(path) if path is not None else self.checkpoint_path()
        state = ckpt.TrainingState(
            epoch=self._epoch, step=self._step,
            optimizers={str(i): u.optimizer.state_dict() for i, u in enumerate(self.recipe.updates)},
            best=self.best.to_json() if self.best is not None else None,
            scaler={str(i): u.scaler.state_dict() for i, u in enumerate(self.recipe.updates)
                    if u.scaler is not None} or None,
            rng=ckpt.rng_state(),
        )
        self._last_checkpoint = ckpt.save(target, self.recipe.networks, state)
        return self._last_checkpoint

    def _load(self, path: Path) -> None:
        if not path.is_absolute():
            path = self.base_dir / path
        state = ckpt.load(path, self.recipe.networks)
        where = ckpt.state_path(path)
        updates = self.recipe.updates
        if set(state.optimizers) != {str(i) for i in range(len(updates))}:
            raise ckpt.CheckpointError(f"{where}: optimizers: holds {len(state.optimizers)} optimizer(s) "
                                       f"({', '.join(map(repr, state.optimizers)) or 'none'}), this run has "
                                       f"{len(updates)}")
        for i, u in enumerate(updates):
            _load_optimizer(u.optimizer, state.optimizers[str(i)], f"{where}: optimizers.{i}")
            if u.scaler is not None and state.scaler and str(i) in state.scaler:
                try:
                    u.scaler.load_state_dict(state.scaler[str(i)])
                except (KeyError, ValueError, TypeError, RuntimeError) as exc:
                    raise ckpt.CheckpointError(f"{where}: scaler.{i}: does not fit this run ({exc})") from None
        if state.rng is not None:
            try:
                ckpt.set_rng_state(state.rng)  # dropout and noise go on as in the unbroken run
            except (RuntimeError, TypeError, ValueError) as exc:
                raise ckpt.CheckpointError(f"{where}: rng: not a random generator's state ({exc})") from None
        self._epoch, self._step = state.epoch, state.step


def _load_optimizer(optimizer: torch.optim.Optimizer, saved: dict[str, Any], where: str) -> None:
    """``saved`` into ``optimizer``, refused (``CheckpointError`` naming ``where``) unless it fits
    this run's parameters: torch checks the groups' sizes, but a moment of the wrong shape would
    only fail at the first step."""
    before = optimizer.state_dict()
    try:
        optimizer.load_state_dict(saved)
    except (KeyError, ValueError, TypeError, RuntimeError, IndexError) as exc:
        raise ckpt.CheckpointError(f"{where}: does not fit this run's optimizer ({exc})") from None
    params = [p for group in optimizer.param_groups for p in group["params"]]
    for index, p in enumerate(params):
        for name, value in optimizer.state.get(p, {}).items():
            if isinstance(value, torch.Tensor) and value.dim() > 0 and value.shape != p.shape:
                optimizer.load_state_dict(before)
                raise ckpt.CheckpointError(f"{where}: state.{index}.{name} has shape {list(value.shape)}, its "
                                           f"parameter {list(p.shape)}")
            if not (value is None or isinstance(value, (torch.Tensor, int, float))) or isinstance(value, bool):
                optimizer.load_state_dict(before)
                raise ckpt.CheckpointError(f"{where}: state.{index}.{name}: must be a tensor or a number")
