"""When the live views get a probe, and how rich it is.

The live views redraw from whole probes: one at least every ``LIVE_S`` seconds of wall time,
whatever the budget (which picks how rich each is, not whether it comes). Only when even the
cheapest probe would take more than ``LIVE_CAP`` of the run (a large network on a CPU) do they
thin out, to as often as ``LIVE_CAP`` allows and never fewer than one an epoch. Between whole
probes that do not fit, the gradient norms alone come every ``every`` steps. Costs are measured
as the probes run, per level.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import torch

from .events import Event, ProbeEvent
from .probes import grad_norms, probe_levels, two_values

LIVE_S = 0.4  # under 0.5 s: frames stay above two a second when the window delays one
LIVE_CAP = 0.1
RECHECKS = 10  # looks at the budget between two full-detail probes, when the first does not afford one
LEVEL_RATIO = 1.5  # a probe one level richer is guessed to cost this much more, until measured

wall_clock = time.perf_counter  # what LIVE_S is measured with


def budget_clock(device: torch.device | None) -> Callable[[], float]:
    """The clock probe costs are weighed with: on the CPU, this thread's CPU time
    (a busy machine slows probes and steps alike, so their ratio holds); on a
    GPU, where probes wait for the device, the wall clock."""
    if device is not None and device.type == "cpu":
        return time.thread_time
    return time.perf_counter


class ProbeBudget:
    """Probes for one run of ``recipe`` from ``step`` (steps done) in ``epoch`` (epochs done), set by
    ``probes`` (a ``ProbesConfig``), each handed to ``emit``. The loop asks ``due(step)`` after each
    step and then calls ``after_step``; ``final`` takes the last look at the trained weights."""

    def __init__(self, probes: Any, recipe: Any, emit: Callable[[Event], None], device: torch.device | None,
                 step: int, epoch: int):
        self.probes = probes
        self.recipe = recipe
        self.emit = emit
        self.clock = budget_clock(device)
        self.wall = wall_clock
        self.spent = 0.0  # seconds all probes took so far
        self.began = self.clock()
        self.levels = probe_levels(probes)  # richest first
        self.level_cost: list[float | None] = [None] * len(self.levels)  # measured, per level
        self.live_due = self.wall() + LIVE_S
        self.probed_epoch = epoch  # the latest epoch a whole probe was taken in
        self.next_step = self.next_light_step = step + 1
        self.last_step = -(10**9)
        self.last_level = 0
        self.restored = False  # weights restored since the latest whole probe

    def due(self, step: int) -> bool:
        """Whether ``after_step`` has anything to decide after ``step`` steps."""
        return step >= self.next_step or self.wall() >= self.live_due

    def after_step(self, step: int, epoch: int, end_of_epoch: bool) -> None:
        level = self.live_level(epoch, end_of_epoch)
        if level is not None:
            self.probe(step, epoch, level)
            self.next_step = self.next_light_step = step + self.probes.every
        else:
            if self.probes.gradients and step >= self.next_light_step:
                self.light_probe(step, epoch)
                self.next_light_step = step + self.probes.every
            # the budget grows with the run: look again a few steps on, not after every step
            recheck = step + max(1, self.probes.every // RECHECKS)
            self.next_step = min(recheck, self.next_light_step) if self.probes.gradients else recheck

    def weights_restored(self) -> None:
        """The networks were set back to other weights: the final probe must look again."""
        self.restored = True

    # ---- what it costs ---------------------------------------------------------------
    def estimate(self, level: int) -> float:
        """Seconds a probe at ``level`` should take: as measured, else from the nearest measured
        level (each level down costs about a third less: half the work, but a small network's
        probe is mostly fixed costs); 0 before any was measured."""
        cost = self.level_cost[level]
        if cost is not None:
            return cost
        known = [(abs(k - level), k, c) for k, c in enumerate(self.level_cost) if c is not None]
        if not known:
            return 0.0
        _, k, c = min(known)
        return c * LEVEL_RATIO ** (k - level)

    def allowance(self, share: float) -> float:
        """Seconds of probing left before all probes take more than ``share`` of the run."""
        return share * (self.clock() - self.began) - self.spent

    def richest_within(self, share: float) -> int | None:
        """The richest level that, counted in, keeps all probes within ``share`` of the run."""
        allowance = self.allowance(share)
        for level in range(len(self.levels)):
            if self.estimate(level) <= allowance:
                return level
        return None

    def live_level(self, epoch: int, end_of_epoch: bool) -> int | None:
        """The level of the whole probe to take now, or None for none.

        Once the views have waited ``LIVE_S``, a probe is taken at the richest level the budget
        affords, else at the cheapest as long as probes stay within ``LIVE_CAP`` of the run, and
        at the end of an epoch that had none in any case. Sooner, every ``every`` steps, only a
        whole probe at full detail that the budget affords: the views are live already, so the
        budget goes to detail rather than to more frequent coarse frames."""
        if self.wall() < self.live_due:
            return 0 if self.estimate(0) <= self.allowance(self.probes.budget) else None
        level = self.richest_within(self.probes.budget)
        if level is not None:
            return level
        if self.richest_within(LIVE_CAP) is not None or (end_of_epoch and self.probed_epoch < epoch):
            return len(self.levels) - 1
        return None

    # ---- taking them -----------------------------------------------------------------
    def probe(self, step: int, epoch: int, level: int) -> None:
        self.live_due = self.wall() + LIVE_S
        t = self.clock()
        self.emit(self.recipe.probe(self.levels[level], step, epoch))
        spent = self.clock() - t
        old = self.level_cost[level]
        self.level_cost[level] = spent if old is None else (old + spent) / 2
        self.spent += spent
        self.last_step = step
        self.last_level = level
        self.probed_epoch = epoch
        self.restored = False

    def light_probe(self, step: int, epoch: int) -> None:
        """Gradient norms alone, when a whole probe does not fit the budget: a few norms of
        gradients already computed cost a fraction of a millisecond, so the gradient-flow plot
        keeps one point per ``every`` steps however costly the other views are."""
        t = self.clock()
        model = self.recipe.networks.get("model")  # a two-parameter network's path keeps every point too
        self.emit(ProbeEvent(step, epoch, grad_norms=grad_norms(self.recipe.networks),
                             point=two_values(model) if model is not None else None))
        self.spent += self.clock() - t

    def final(self, step: int, epoch: int) -> None:
        """A last look at the trained network, so the views end on the final weights. Always
        taken (unless the latest probe already saw these weights in full), and in full: training
        is over, so its cost slows nothing, and the last picture is the one a person studies."""
        if step == 0:
            return
        if self.last_step == step and self.last_level == 0 and not self.restored:
            return
        self.probe(step, epoch, 0)
