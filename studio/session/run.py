"""One training run as data: its settings, its curves, its progress and how it ended."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from studio.training.events import EndEvent, EpochEvent, ProbeEvent, StepsEvent

from .curves import LossCurves
from .progress import RunProgress


@dataclass
class Arrived:
    """What one batch of events brought, sorted once, for the views to redraw."""
    steps: bool = False  # the step curves grew
    epochs: list[EpochEvent] = field(default_factory=list)
    probes: list[ProbeEvent] = field(default_factory=list)


class Run:
    """The session's record of one run: the views draw it while it trains, the run history keeps it."""

    def __init__(self, number: int, config: dict[str, Any], dataset: str, epochs: int | None = None,
                 clock: Callable[[], float] = time.monotonic, started_from: str | None = None) -> None:
        self.number = number
        self.config = config
        self.dataset = dataset
        self.started_from = started_from  # whose weights it continued ("run 1", a file), None: fresh ones
        self.curves = LossCurves()
        self.progress = RunProgress(epochs if epochs is not None else int(config.get("epochs", 1)), clock)
        self.status = "running"
        self.message = ""
        self.end: EndEvent | None = None

    def add(self, batch: Iterable[object]) -> Arrived:
        """A batch of the trainer's events, in order: the curves and the progress take theirs now
        (a few array operations however many steps it holds); what the views need is returned."""
        arrived = Arrived()
        curves, last_steps = [], None
        for ev in batch:
            if isinstance(ev, StepsEvent):
                curves.append(ev)
                last_steps = ev
            elif isinstance(ev, ProbeEvent):
                arrived.probes.append(ev)
            elif isinstance(ev, EpochEvent):
                curves.append(ev)
                arrived.epochs.append(ev)
            elif isinstance(ev, EndEvent):
                self.end = ev
        for ev in batch:  # in order; of the step reports only the newest tells where the run is
            if ev is last_steps or not isinstance(ev, (StepsEvent, ProbeEvent)):
                self.progress.feed(ev)
        if curves:
            arrived.steps, _ = self.curves.add(curves)
        return arrived

    def finish(self, status: str, message: str = "") -> None:
        self.status, self.message = status, message

    def title(self) -> str:
        best = self.best_val_loss()
        tail = f", best val loss {best:.4f}" if best is not None else ""
        return f"Run {self.number}: {self.dataset}, {len(self.curves.train_loss)} epochs, {self.status}{tail}"

    def best_val_loss(self) -> float | None:
        ys = self.curves.val_loss.y
        return float(ys.min()) if len(ys) else None
