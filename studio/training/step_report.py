"""The steps' losses: kept on the device, read back in one transfer every few steps,
reported as ``StepsEvent``s, summed into the epoch's figures, and checked: the first
loss that is not finite ends the run, naming its step.
"""

from __future__ import annotations

import math
from typing import Callable

import torch

from .events import Event, StepsEvent


class NonFinite(Exception):
    """A step's loss (or a further loss of it) became ``value``; ``step`` counts from 1."""

    def __init__(self, step: int, value: float):
        super().__init__(f"the loss became {value} at step {step}")
        self.step = step
        self.value = value


class StepReport:
    """The training loop appends each step's detached loss to ``pending`` (its further losses to
    ``extra_pending``, its learning rate to ``lrs``) and calls ``flush`` every few steps: appends
    only, so a step costs no host sync. ``losses`` gathers every finite loss of the run."""

    def __init__(self, emit: Callable[[Event], None], extra_names: tuple[str, ...], steps_per_epoch: int,
                 losses: list[float]):
        self.emit = emit
        self.steps_per_epoch = steps_per_epoch
        self.losses = losses
        self.pending: list[torch.Tensor] = []
        self.extra_pending: dict[str, list[torch.Tensor]] = {k: [] for k in extra_names}
        self.lrs: list[float] = []
        self.epoch = 0
        self.epoch_losses: list[float] = []
        self.epoch_extra: dict[str, list[float]] = {k: [] for k in extra_names}

    def begin_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        self.epoch_losses = []
        self.epoch_extra = {k: [] for k in self.extra_pending}

    def flush(self, step: int) -> None:
        """Read the pending losses of the steps up to ``step`` (steps completed) back in one
        transfer, report them and add them to the epoch's; raise ``NonFinite`` naming the first bad
        step, after reporting those before it."""
        pending, extra_pending = self.pending, self.extra_pending
        if not pending:
            return
        names = list(extra_pending)
        rows = [torch.stack(pending).float()] + [torch.stack(extra_pending[k]).float() for k in names]
        values = torch.stack(rows).tolist() if len(rows) > 1 else [rows[0].tolist()]
        first = step - len(pending)
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
            self.emit(StepsEvent(self.epoch, first, losses, self.lrs[:good], self.steps_per_epoch, extra))
            self.losses += losses
            self.epoch_losses += losses
            for k, v in extra.items():
                self.epoch_extra[k] += v
        pending.clear()
        self.lrs.clear()
        for v in extra_pending.values():
            v.clear()
        if good < len(values[0]):
            raise NonFinite(first + good + 1, bad_value)

    def epoch_loss(self, weights: list[float] | None = None) -> float:
        """The epoch's training loss: the mean of its steps' losses, weighted by ``weights`` (one per
        step, e.g. the samples each held) where given."""
        losses = self.epoch_losses
        if weights is not None:
            w = weights[: len(losses)]
            return sum(a * b for a, b in zip(losses, w)) / max(1, sum(w))
        return sum(losses) / max(1, len(losses))

    def epoch_extra_means(self) -> dict[str, float]:
        """The epoch's mean of each further loss that had a step."""
        return {k: sum(v) / len(v) for k, v in self.epoch_extra.items() if v}
