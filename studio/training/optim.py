"""Optimizers and learning-rate schedules.

Schedules are plain functions of the step (not torch schedulers), so a resumed
run only needs its step count to be at the same learning rate, and every
step's rate can be reported.
"""

from __future__ import annotations

import math
from typing import Iterable

import torch

from .config import OptimizerConfig, ScheduleConfig


def make_optimizer(params: Iterable[torch.nn.Parameter], cfg: OptimizerConfig,
                   weight_decay: float) -> torch.optim.Optimizer:
    params = list(params)
    if not params:
        raise ValueError("the network has no learnable parameters to train")
    if cfg.name == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.nesterov,
                               weight_decay=weight_decay)
    if cfg.name == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, betas=cfg.betas, eps=cfg.eps, weight_decay=weight_decay)
    if cfg.name == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr, betas=cfg.betas, eps=cfg.eps, weight_decay=weight_decay)
    if cfg.name == "rmsprop":
        return torch.optim.RMSprop(params, lr=cfg.lr, alpha=cfg.alpha, eps=cfg.eps, momentum=cfg.momentum,
                                   weight_decay=weight_decay)
    raise ValueError(f"training.optimizer.name: unknown optimizer {cfg.name!r}")


class Schedule:
    """``lr(step)`` for a run of ``epochs`` epochs of ``steps_per_epoch`` steps."""

    def __init__(self, cfg: ScheduleConfig, base_lr: float, epochs: int, steps_per_epoch: int):
        self.cfg = cfg
        self.base_lr = base_lr
        self.steps_per_epoch = max(1, steps_per_epoch)
        self.total = max(1, epochs * self.steps_per_epoch)

    @property
    def constant(self) -> bool:
        return self.cfg.name == "constant"

    def lr(self, step: int) -> float:
        c = self.cfg
        base = self.base_lr
        epoch = step // self.steps_per_epoch
        if c.name == "constant":
            return base
        if c.name == "step":
            return base * _power(c.gamma_value, epoch // c.step_size)
        if c.name == "exponential":
            return base * _power(c.gamma_value, epoch)
        if c.name == "cosine":
            return _cosine(c.min_lr, base, min(step, self.total) / self.total)
        if c.name == "warmup_cosine":
            warm = min(self.total, round(c.warmup_epochs * self.steps_per_epoch))
            if step < warm:
                return base * (step + 1) / warm
            rest = max(1, self.total - warm)
            return _cosine(c.min_lr, base, min(step - warm, rest) / rest)
        if c.name == "one_cycle":
            peak = c.max_lr if c.max_lr is not None else base
            start = peak / c.div_factor
            end = start / c.final_div_factor
            up = max(1, round(c.pct_start * self.total))
            if step < up:
                return _cosine(peak, start, step / up)  # rises from start to peak
            down = max(1, self.total - up)
            return _cosine(end, peak, min(step - up, down) / down)
        raise ValueError(f"training.schedule.name: unknown schedule {c.name!r}")


def _power(gamma: float, n: int) -> float:
    """``gamma ** n``, infinite where a growing rate passes what a float holds (a run at that rate
    fails on its first non-finite loss, with a message, rather than on an OverflowError)."""
    try:
        return gamma ** n
    except OverflowError:
        return math.inf


def _cosine(low: float, high: float, t: float) -> float:
    """From ``high`` at t=0 to ``low`` at t=1 along half a cosine."""
    return low + (high - low) * 0.5 * (1.0 + math.cos(math.pi * t))


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr
