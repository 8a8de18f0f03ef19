"""Optimizers and learning-rate schedules.

Schedules are plain functions of the step (not torch schedulers), so a resumed
run only needs its step count to be at the same learning rate, and every
step's rate can be reported.

``scheduled_lr``, ``torch_optimizer`` and ``optimizer_step`` read plain values
(``schedule_settings`` and ``optimizer_settings`` give them from a config) and
need only ``math`` and ``torch``: the exported torchrun script carries their
source, so it schedules, regularises and steps exactly as the trainer does.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Iterable

import torch

if TYPE_CHECKING:
    from .config import OptimizerConfig, ScheduleConfig


def optimizer_settings(cfg: OptimizerConfig) -> dict[str, Any]:
    """The optimizer's settings as the keyword arguments of ``torch_optimizer``."""
    return {"name": cfg.name, "lr": cfg.lr, "momentum": cfg.momentum, "nesterov": cfg.nesterov,
            "betas": tuple(cfg.betas), "eps": cfg.eps, "alpha": cfg.alpha}


def make_optimizer(params: Iterable[torch.nn.Parameter], cfg: OptimizerConfig,
                   weight_decay: float) -> torch.optim.Optimizer:
    return torch_optimizer(params, weight_decay, **optimizer_settings(cfg))


def torch_optimizer(params: Iterable[torch.nn.Parameter], weight_decay: float, name: str, lr: float,
                    momentum: float, nesterov: bool, betas: tuple[float, float], eps: float,
                    alpha: float) -> torch.optim.Optimizer:
    """The torch optimizer ``name`` over ``params``, with the settings it takes of the rest."""
    params = list(params)
    if not params:
        raise ValueError("the network has no learnable parameters to train")
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=alpha, eps=eps, momentum=momentum,
                                   weight_decay=weight_decay)
    raise ValueError(f"training.optimizer.name: unknown optimizer {name!r}")


def optimizer_step(optimizer: torch.optim.Optimizer, params: list[torch.nn.Parameter], loss: torch.Tensor,
                   l1: float = 0.0, grad_clip: float | None = None, scaler: Any = None) -> None:
    """One step of ``optimizer`` from ``loss``: zero the gradients, add ``l1`` times the parameters'
    absolute sum, backward, clip the gradients' norm to ``grad_clip``, step; through ``scaler``
    (a ``torch.amp.GradScaler``) in float16."""
    optimizer.zero_grad(set_to_none=True)
    if l1:
        # the penalty joins the gradient, not the reported loss
        loss = loss + l1 * torch.stack([p.abs().sum() for p in params]).sum()
    if scaler is not None:
        scaler.scale(loss).backward()
        if grad_clip is not None:
            scaler.unscale_(optimizer)  # the norm is clipped on the true gradients
            torch.nn.utils.clip_grad_norm_(params, grad_clip, foreach=True)
        scaler.step(optimizer)
        scaler.update()
        return
    loss.backward()
    if grad_clip is not None:
        torch.nn.utils.clip_grad_norm_(params, grad_clip, foreach=True)
    optimizer.step()


def schedule_settings(cfg: ScheduleConfig) -> dict[str, Any]:
    """The schedule as the plain values ``scheduled_lr`` reads (``gamma`` resolved to its value)."""
    return {"name": cfg.name, "step_size": cfg.step_size, "gamma": cfg.gamma_value, "min_lr": cfg.min_lr,
            "warmup_epochs": cfg.warmup_epochs, "max_lr": cfg.max_lr, "pct_start": cfg.pct_start,
            "div_factor": cfg.div_factor, "final_div_factor": cfg.final_div_factor}


class Schedule:
    """``lr(step)`` for a run of ``epochs`` epochs of ``steps_per_epoch`` steps."""

    def __init__(self, cfg: ScheduleConfig, base_lr: float, epochs: int, steps_per_epoch: int):
        self.cfg = cfg
        self.settings = schedule_settings(cfg)
        self.base_lr = base_lr
        self.epochs = epochs
        self.steps_per_epoch = steps_per_epoch

    @property
    def constant(self) -> bool:
        return self.cfg.name == "constant"

    def lr(self, step: int) -> float:
        return scheduled_lr(self.settings, self.base_lr, self.epochs, self.steps_per_epoch, step)


def scheduled_lr(schedule: dict[str, Any], base_lr: float, epochs: int, steps_per_epoch: int, step: int) -> float:
    """The learning rate at ``step`` of a run of ``epochs`` epochs of ``steps_per_epoch`` steps under
    ``schedule``, the schedule's settings as plain values (``gamma`` resolved)."""
    s = schedule
    name = s["name"]
    if name == "constant":
        return base_lr
    steps_per_epoch = max(1, steps_per_epoch)
    total = max(1, epochs * steps_per_epoch)
    epoch = step // steps_per_epoch
    if name == "step":
        return base_lr * _power(s["gamma"], epoch // s["step_size"])
    if name == "exponential":
        return base_lr * _power(s["gamma"], epoch)
    if name == "cosine":
        return _cosine(s["min_lr"], base_lr, min(step, total) / total)
    if name == "warmup_cosine":
        warm = min(total, round(s["warmup_epochs"] * steps_per_epoch))
        if step < warm:
            return base_lr * (step + 1) / warm
        rest = max(1, total - warm)
        return _cosine(s["min_lr"], base_lr, min(step - warm, rest) / rest)
    if name == "one_cycle":
        peak = s["max_lr"] if s["max_lr"] is not None else base_lr
        start = peak / s["div_factor"]
        end = start / s["final_div_factor"]
        up = max(1, round(s["pct_start"] * total))
        if step < up:
            return _cosine(peak, start, step / up)  # rises from start to peak
        down = max(1, total - up)
        return _cosine(end, peak, min(step - up, down) / down)
    raise ValueError(f"training.schedule.name: unknown schedule {name!r}")


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
