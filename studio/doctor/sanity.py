"""Two sanity checks that train a fresh copy of the network for a moment.

``overfit_batch``: a network and loss that work can learn one small batch by heart. It
trains on ONE fixed batch (up to ``OVERFIT_BATCH`` samples) with the graph's optimizer
settings and passes once the loss falls to "near zero": below ``NEAR_ZERO`` (5%) of what
a guess scores (ln C for C classes, ln 2 for one logit, the mean squared or absolute
target for values; see ``preview.expected_loss``), so the bar is the same for 3 classes
or 1000 and does not move with a bad initialisation. It stops as soon as it passes.

``lr_find``: the learning-rate range test (Leslie Smith; fastai's ``lr_find``): from fresh
weights, with the graph's optimizer, ``steps`` mini-batches at a learning rate rising
exponentially from ``start`` to ``end``, recording the loss. The loss is smoothed by an
exponential moving average (``SMOOTHING``, bias-corrected); the test stops once the
smoothed loss passes ``DIVERGED`` (4) times its best, or a loss is not finite. The
suggested rate is a tenth of the rate where the smoothed loss was lowest: there the loss
still falls fast, an order of magnitude below where it starts to blow up (see
``suggest``), rounded to two significant figures.

Both draw the weights a run of the graph starts from, leave the graph and any trained
weights untouched, and repeat exactly for the settings' seed. ``progress(step, loss)`` is
called with each loss measured (``overfit_batch``: step 0 is the fresh network's loss, step k
the loss after k updates; ``lr_find``: step k is the k-th mini-batch, at ``lrs[k]``);
``stop()`` returning True ends a check before its next step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch

from studio.files.reach import Reach
from studio.graph import Graph, Problem
from studio.graph.fixes import Fix, SetTraining
from studio.training.config import LR_MAX
from studio.training.errors import TrainingSetupError

from .preview import expected_loss
from .run_setup import isolated, prepare

Progress = Callable[[int, float], None]
Stop = Callable[[], bool]

OVERFIT_BATCH = 32
NEAR_ZERO = 0.05
STILL = 0.01  # a loss that moved less than 1% did not move
SMOOTHING = 0.9  # the moving average keeps about the last ten steps: a tenth of a 100-step range test
DIVERGED = 4.0
SKIP_START = 3  # the first few smoothed values rest on too few steps to be the lowest
FELL = 0.10  # a smoothed loss that never fell 10% below its start did not fall: batch noise moves it a few %


# ---- overfitting one batch -----------------------------------------------------------------
@dataclass
class OverfitResult:
    losses: list[float]  # the loss before each update: losses[0] is the fresh network's
    target: float  # the loss to get under
    passed: bool
    steps: int  # updates taken
    batch_size: int
    verdict: str
    stopped: bool = False  # ended by ``stop()``

    @property
    def first(self) -> float:
        return self.losses[0] if self.losses else math.nan

    @property
    def last(self) -> float:
        return self.losses[-1] if self.losses else math.nan

    @property
    def problems(self) -> list[Problem]:
        """A warning (code ``overfit-batch``) when the check ran to its end and failed."""
        if self.passed or self.stopped:
            return []
        return [Problem(None, None, f"cannot learn one batch by heart: {self.verdict}", "lint", "warning",
                        "overfit-batch")]

    def to_json(self) -> dict[str, Any]:
        return {"passed": self.passed, "stopped": self.stopped, "steps": self.steps, "batch_size": self.batch_size,
                "first": _num(self.first), "last": _num(self.last), "target": _num(self.target),
                "losses": [_num(v) for v in self.losses], "verdict": self.verdict}

    def render(self) -> str:
        mark = "passed" if self.passed else ("stopped" if self.stopped else "FAILED")
        return (f"Overfit one batch of {self.batch_size} samples: {mark}\n"
                f"  loss {self.first:.4g} -> {self.last:.4g} in {self.steps} steps (target below {self.target:.3g})\n"
                f"  {self.verdict}")


def _by_gradient(prepared, check: str) -> None:
    """Both checks step an optimizer on the loss's gradient; the perceptron rule takes none."""
    if prepared.config.optimizer.name == "perceptron":
        raise TrainingSetupError(
            [f"training.optimizer.name: the perceptron rule learns without gradients, so {check} says nothing "
             "about it; train it and watch the share it gets wrong fall"], "this check does not apply")


def overfit_batch(graph: Graph, base_dir: str | Path | Reach | None = None, dataset: Any = None, *,
                  steps: int = 200, batch_size: int | None = None, target: float | None = None,
                  progress: Progress | None = None, stop: Stop | None = None,
                  device: str | torch.device = "cpu") -> OverfitResult:
    """Train a fresh copy of ``graph``'s network on one fixed batch for at most ``steps`` updates;
    see the module's doc. ``batch_size``: samples in the batch (default the settings' batch size,
    at most ``OVERFIT_BATCH``); ``target``: the loss to get under (default ``NEAR_ZERO`` of a
    guess's). Raises ``TrainingSetupError`` where the graph cannot run."""
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    with isolated():
        prepared = prepare(graph, base_dir, dataset, device=device)
        _by_gradient(prepared, "overfitting one batch")
        prepared.take_threads()
        torch.manual_seed(prepared.config.seed)  # dropout draws repeat
        batch = prepared.batch(batch_size or min(prepared.batch_size, OVERFIT_BATCH))
        guess, _ = expected_loss(prepared.objective.name, prepared.num_classes, batch.targets)
        bar = float(target) if target is not None else NEAR_ZERO * guess
        losses: list[float] = []
        passed = stopped = False
        for step in range(steps + 1):  # the loss after the last update is measured too
            if stop is not None and stop():
                stopped = True
                break
            loss = prepared.forward_loss(batch)
            value = float(loss.detach())
            losses.append(value)
            if progress is not None:
                progress(step, value)
            if value <= bar:
                passed = True
                break
            if not math.isfinite(value) or step == steps:
                break
            prepared.update(loss)
        taken = max(len(losses) - 1, 0)
    verdict = _overfit_verdict(losses, bar, passed, stopped, taken, guess, prepared.config.optimizer.lr)
    return OverfitResult(losses, bar, passed, taken, batch.size, verdict, stopped)


def _overfit_verdict(losses: list[float], bar: float, passed: bool, stopped: bool, steps: int, guess: float,
                     lr: float) -> str:
    if not losses:
        return "stopped before the first step"
    first, last = losses[0], losses[-1]
    fell = f"the loss fell from {first:.4g} to {last:.4g}"
    if passed:
        return (f"{fell} (below {bar:.3g}, {bar / guess:.0%} of what a guess scores) in {steps} steps: "
                "the network and the loss can learn")
    if stopped:
        return f"stopped after {steps} steps, the loss at {last:.4g} (the target is below {bar:.3g})"
    if not math.isfinite(last):
        return (f"the loss became {last} after {steps} steps: the learning rate (optimizer.lr {lr:g}) is too "
                "large, or the network produces infinities; lower it or clip the gradients (training.grad_clip)")
    wrong = ("the network or the loss is wrong: an output squashed before the loss (a Sigmoid or Softmax "
             "in front of cross entropy, which applies its own), too few units to tell the samples apart, a loss "
             "that does not suit the targets")
    if abs(last - first) <= STILL * max(abs(first), 1e-12):
        return (f"the loss did not move ({first:.4g} -> {last:.4g} in {steps} steps): the gradients do not reach "
                f"the weights (a frozen or cut path, saturated or dead units) or the learning rate (optimizer.lr "
                f"{lr:g}) is far too small")
    if last > first:
        return (f"the loss rose from {first:.4g} to {last:.4g} in {steps} steps: the learning rate (optimizer.lr "
                f"{lr:g}) is too large, or {wrong}")
    return (f"{fell} in {steps} steps but not below {bar:.3g}: a network that cannot learn "
            f"one small batch by heart cannot learn the data. Either {wrong}; or the learning rate (optimizer.lr "
            f"{lr:g}) is too small, or the check needs more steps")


# ---- the learning-rate range test ----------------------------------------------------------
@dataclass
class LRFindResult:
    lrs: list[float]
    losses: list[float]
    smoothed: list[float]
    suggested: float | None  # rounded to two significant figures; None where the loss never fell
    why: str
    diverged: bool = False  # ended because the smoothed loss blew up
    stopped: bool = False  # ended by ``stop()``
    optimizer: str = ""
    current_lr: float | None = None  # the graph's learning rate now

    def fix(self) -> Fix:
        """Set ``training.optimizer.lr`` to the suggestion (one undoable edit)."""
        if self.suggested is None:
            raise ValueError(f"no learning rate to suggest: {self.why}")
        return Fix(f"Set the learning rate to {self.suggested:g}", (SetTraining(("optimizer", "lr"), self.suggested),))

    def to_json(self) -> dict[str, Any]:
        return {"suggested": self.suggested, "why": self.why, "diverged": self.diverged, "stopped": self.stopped,
                "optimizer": self.optimizer, "current_lr": self.current_lr,
                "lrs": self.lrs, "losses": [_num(v) for v in self.losses],
                "smoothed": [_num(v) for v in self.smoothed]}

    def render(self, rows: int = 15) -> str:
        """About ``rows`` points of the curve (the lowest loss and the suggestion among them), then
        the suggestion and why."""
        n = len(self.lrs)
        out = [f"Learning-rate range test ({self.optimizer}, {n} steps):"]
        if n:
            keep = set(range(0, n, max(1, math.ceil(n / rows)))) | {n - 1}
            low = _lowest(self.smoothed)
            if low is not None:
                keep.add(low)
            near = None
            if self.suggested is not None:
                near = min(range(n), key=lambda i: abs(math.log(self.lrs[i] / self.suggested)))
                keep.add(near)
            out.append(f"  {'lr':>9}  {'loss':>9}  {'smoothed':>9}")
            for i in sorted(keep):
                note = "  <- lowest" if i == low else ""
                if i == near:
                    note += "  <- suggested"
                out.append(f"  {self.lrs[i]:9.2e}  {_cell(self.losses[i])}  {_cell(self.smoothed[i])}{note}")
        if self.suggested is None:
            out.append(f"No suggestion: {self.why}")
        else:
            now = f" (now {self.current_lr:g})" if self.current_lr is not None else ""
            out.append(f"Suggested learning rate: {self.suggested:g}{now}")
            out.append(f"  {self.why}")
        return "\n".join(out)


def lr_find(graph: Graph, base_dir: str | Path | Reach | None = None, dataset: Any = None, *,
            start: float = 1e-6, end: float = 10.0, steps: int = 100, progress: Progress | None = None,
            stop: Stop | None = None, device: str | torch.device = "cpu") -> LRFindResult:
    """The learning-rate range test on ``graph``; see the module's doc. ``progress(step, loss)``
    after each step. Raises ``ValueError`` for a range that is not 0 < start < end <= 10 or fewer
    than 2 steps, ``TrainingSetupError`` where the graph cannot run."""
    if not (0 < start < end <= LR_MAX) or not all(map(math.isfinite, (start, end))):
        raise ValueError(f"the learning rates must rise within 0 < start < end <= {LR_MAX:g}, got {start:g} to {end:g}")
    if steps < 2:
        raise ValueError(f"steps must be at least 2, got {steps}")
    lrs: list[float] = []
    losses: list[float] = []
    smoothed: list[float] = []
    diverged = stopped = False
    with isolated():
        prepared = prepare(graph, base_dir, dataset, device=device)
        _by_gradient(prepared, "the learning-rate test")
        prepared.take_threads()
        recipe, cfg = prepared.recipe, prepared.config
        torch.manual_seed(cfg.seed)
        recipe.train_mode(True)
        average, best, epoch, i = 0.0, math.inf, 0, recipe.steps_per_epoch
        for k in range(steps):
            if stop is not None and stop():
                stopped = True
                break
            if i >= recipe.steps_per_epoch:  # batches in the run's own order, epoch after epoch
                epoch, i = epoch + 1, 0
                recipe.begin_epoch(epoch)
            lr = start * (end / start) ** (k / (steps - 1))
            prepared.set_lr(lr)
            value = float(recipe.step(i))
            i += 1
            average = SMOOTHING * average + (1 - SMOOTHING) * value
            smooth = average / (1 - SMOOTHING ** (k + 1))
            lrs.append(lr)
            losses.append(value)
            smoothed.append(smooth)
            if progress is not None:
                progress(k, value)
            if not math.isfinite(smooth) or (k >= SKIP_START and smooth > DIVERGED * best):
                diverged = True
                break
            best = min(best, smooth)
    suggested, why = suggest(lrs, smoothed)
    if diverged:
        why += f"; the loss blew up past {lrs[-1]:.2g}"
    return LRFindResult(lrs, losses, smoothed, suggested, why, diverged, stopped, cfg.optimizer.name,
                        cfg.optimizer.lr)


def suggest(lrs: list[float], smoothed: list[float]) -> tuple[float | None, str]:
    """A tenth of the rate where the smoothed loss was lowest, to two significant figures, and
    why. At the lowest point the rate is already about as large as the loss tolerates (a little
    higher and it turns up); a tenth of it still falls fast and stays clear of blowing up.
    None where the loss never fell below its start."""
    low = _lowest(smoothed)
    start = smoothed[min(SKIP_START, len(smoothed) - 1)] if smoothed else math.nan
    if low is None or not smoothed[low] < start * (1 - FELL):
        return None, ("the loss never fell as the learning rate rose: the network or the loss is wrong "
                      "(try the overfit-one-batch check), or the range starts too high")
    value = _two_figures(min(lrs[low] / 10, LR_MAX))
    return value, (f"a tenth of {lrs[low]:.2g}, where the smoothed loss was lowest ({smoothed[low]:.3g}, "
                   f"from {start:.3g} at the start)")


def _lowest(smoothed: list[float]) -> int | None:
    first = SKIP_START if len(smoothed) > SKIP_START else 0
    candidates = [i for i in range(first, len(smoothed)) if math.isfinite(smoothed[i])]
    return min(candidates, key=lambda i: smoothed[i]) if candidates else None


def _two_figures(x: float) -> float:
    return float(f"{x:.2g}")


def _cell(v: float) -> str:
    return f"{v:9.4g}" if math.isfinite(v) else f"{str(v):>9}"


def _num(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None
