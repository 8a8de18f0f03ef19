"""Which epoch is best, and when a run has stopped improving.

A recipe says what "better" means for its epochs with a ``Goal``: the metric it
watches and whether lower or higher is better (a classifier: the validation
loss, down; a GAN on a data set of known modes: the modes its samples cover,
up, then its loss). The ``Monitor`` keeps the best epoch by that goal and,
given a patience, counts the epochs since it last improved: early stopping.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MODES = ("min", "max")


@dataclass(frozen=True)
class Goal:
    """``metric`` (an ``EpochEvent`` field such as ``val_loss``, or a key of its ``extra``), better
    lower (``mode`` "min") or higher ("max"); ``tie`` decides between epochs equal in it. ``label``
    names the metric in messages."""

    metric: str
    mode: str = "min"
    label: str = ""
    tie: Goal | None = None

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"a goal's mode is one of {MODES}, got {self.mode!r}")

    def value(self, event: Any) -> float | None:
        """The metric's value in ``event``, or None where the epoch has none."""
        if hasattr(event, self.metric):
            return getattr(event, self.metric)
        return event.extra.get(self.metric)

    def better(self, event: Any, than: Any, min_delta: float = 0.0) -> bool:
        """Whether ``event`` beats ``than``: by more than ``min_delta`` in the metric, or equal in
        it and better by ``tie``. An epoch without the metric beats nothing and is beaten by nothing
        but through ``tie``."""
        new, old = self.value(event), self.value(than)
        if new is not None and old is not None:
            if self.mode == "min" and new < old - min_delta or self.mode == "max" and new > old + min_delta:
                return True
            if new != old:
                return False
        return self.tie is not None and self.tie.better(event, than)


TRAINING_LOSS = Goal("train_loss", "min", "training loss")
VALIDATION_LOSS = Goal("val_loss", "min", "validation loss")


class Monitor:
    """The best epoch by ``goal`` (the first one counts as an improvement). ``min_delta``: the least
    change in the goal's metric that counts as one. ``patience``: stop once that many epochs with
    the metric have passed without one (None: never)."""

    def __init__(self, goal: Goal, min_delta: float = 0.0, patience: int | None = None):
        self.goal = goal
        self.min_delta = min_delta
        self.patience = patience
        self.best: Any = None
        self.waited = 0  # epochs with the metric since the last improvement

    def update(self, event: Any) -> bool:
        """Count in an epoch; True where it is the new best."""
        improved = self.best is None or self.goal.better(event, self.best, self.min_delta)
        if improved:
            self.best = event
        if self.patience is not None and self.goal.value(event) is not None:
            self.waited = 0 if improved else self.waited + 1
        return improved

    @property
    def should_stop(self) -> bool:
        return self.patience is not None and self.waited >= self.patience
