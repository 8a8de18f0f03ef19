"""What the recipes (supervised, node classification, GAN) share: the update
step (loss -> gradients -> optimizer, with L1, clipping and mixed precision)
and placing the data on the device.
"""

from __future__ import annotations

import abc
import contextlib
from dataclasses import dataclass, field
from typing import Any, Iterable

import torch
from torch import nn

from .config import TrainingConfig
from .device import autocast_dtype
from .events import ProbeEvent
from .monitor import TRAINING_LOSS, Goal
from .optim import make_optimizer, optimizer_step


class Update:
    """One optimizer's step from a loss: zero, backward, clip, step."""

    def __init__(self, params: Iterable[nn.Parameter], cfg: TrainingConfig, device: torch.device):
        self.params = [p for p in params if p.requires_grad]
        self.optimizer = make_optimizer(self.params, cfg.optimizer, cfg.weight_decay)
        self.clip = cfg.grad_clip
        self.l1 = cfg.l1
        self.scaler = None
        if autocast_dtype(cfg.precision, device) == torch.float16:
            self.scaler = torch.amp.GradScaler("cuda")

    def __call__(self, loss: torch.Tensor) -> None:
        optimizer_step(self.optimizer, self.params, loss, self.l1, self.clip, self.scaler)


def autocast(cfg: TrainingConfig, device: torch.device):
    """The mixed-precision context for forward passes (a no-op in fp32)."""
    dtype = autocast_dtype(cfg.precision, device)
    if dtype is None:
        return contextlib.nullcontext
    return lambda: torch.autocast(device_type=device.type, dtype=dtype)


def place(t: torch.Tensor | None, device: torch.device) -> torch.Tensor | None:
    """A data tensor on the device, whole (batches are then index slices)."""
    if t is None:
        return None
    return t.to(device, non_blocking=True)


def permutation(n: int, seed: int, epoch: int, device: torch.device) -> torch.Tensor:
    """This epoch's sample order: a function of seed and epoch only, so a resumed
    run shuffles exactly as the unbroken one would have."""
    gen = torch.Generator(device=device)
    gen.manual_seed(seed * 1_000_003 + epoch)
    return torch.randperm(n, generator=gen, device=device)


def batch_bounds(n: int, batch_size: int) -> list[tuple[int, int]]:
    """Slices of one epoch; a last batch of one sample is dropped (BatchNorm
    cannot train on it) unless it is all there is."""
    bounds = [(i, min(i + batch_size, n)) for i in range(0, n, batch_size)]
    if len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] == 1:
        bounds.pop()
    return bounds


@dataclass
class Evaluation:
    """End-of-epoch numbers (Python values, read back in one transfer)."""

    val_loss: float | None = None
    train_acc: float | None = None
    val_acc: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Recipe(abc.ABC):
    """How one task trains. The trainer drives it:
    ``begin_epoch(e)`` then ``step(i)`` for each of ``steps_per_epoch`` steps
    (each returns its detached loss tensor, no host sync), then ``evaluate()``.
    """

    networks: dict[str, nn.Module]
    updates: list[Update]
    steps_per_epoch: int
    samples_per_epoch: int
    step_extra_names: tuple[str, ...] = ()  # further per-step losses, e.g. the generator's
    goal: Goal = TRAINING_LOSS  # what makes an epoch better: the best epoch, and early stopping, watch it

    @abc.abstractmethod
    def begin_epoch(self, epoch: int) -> None:
        ...

    @abc.abstractmethod
    def step(self, i: int) -> torch.Tensor:
        ...

    def step_extra(self) -> dict[str, torch.Tensor]:
        """Further losses of the last step (detached), named as ``step_extra_names``."""
        return {}

    @abc.abstractmethod
    def evaluate(self) -> Evaluation:
        ...

    @abc.abstractmethod
    def probe(self, probes, step: int, epoch: int) -> ProbeEvent:
        ...

    def train_mode(self, on: bool) -> None:
        for net in self.networks.values():
            net.train(on)
