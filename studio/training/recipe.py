"""What the recipes (supervised, node classification, GAN) share: the update
step (loss -> gradients -> optimizer, with L1, clipping and mixed precision),
placing the data on the device, and counting the validation pass's report.
"""

from __future__ import annotations

import abc
import contextlib
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np
import torch
from torch import nn

from .config import TrainingConfig
from .device import autocast_dtype
from .events import ProbeEvent
from .losses import IGNORE, Objective
from .metrics import ClassReport, RegressionReport, kept_points, r2_total
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


# Devices whose runs lay images out channels-last (cuDNN's advice for its tensor cores; on a CPU
# the usual layout is as quick or quicker).
CHANNELS_LAST_ON = ("cuda",)


def image_layout(model: nn.Module, inputs: Sequence[torch.Tensor], device: torch.device) -> torch.memory_format | None:
    """``torch.channels_last`` where images [N, C, H, W] go through 2-D convolutions on a device of
    ``CHANNELS_LAST_ON``; None (the usual layout) elsewhere."""
    if device.type not in CHANNELS_LAST_ON or not any(t.dim() == 4 for t in inputs):
        return None
    if not any(isinstance(m, nn.Conv2d) for m in model.modules()):
        return None
    return torch.channels_last


def in_layout(t: torch.Tensor, layout: torch.memory_format | None) -> torch.Tensor:
    """``t`` in ``layout`` where it is a batch of images; as it is otherwise."""
    if layout is None or t.dim() != 4:
        return t
    return t.contiguous(memory_format=layout)


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
    report: ClassReport | RegressionReport | None = None


MAX_REPORT_CLASSES = 1000  # a confusion matrix of more classes would cost more than the pass it describes


class ReportCounter:
    """A validation pass's report, counted on the device as the pass goes: the confusion
    matrix (one ``bincount`` per batch) or the summed errors and a few kept points. ``vector()``
    is read back with the epoch's other numbers, in the same transfer; ``report()`` reads it.

    ``targets``: the validation targets as the objective prepared them (any device);
    ``unscale``: (shift, scale) that take outputs and targets back to the data's own units.
    """

    def __init__(self, objective: Objective, targets: torch.Tensor, class_names: Sequence[str],
                 unscale: tuple[float, float] | None = None):
        self.objective = objective
        self.classes = 0
        self.acc: torch.Tensor | None = None
        self.errors: torch.Tensor | None = None
        self.kept: list[torch.Tensor] = []
        if objective.name == "cross_entropy":
            self.classes = int(objective.num_classes)
        elif objective.name == "bce_with_logits":
            self.classes = 2
        if self.classes:
            if self.classes > MAX_REPORT_CLASSES:
                self.classes = -1  # no report: see MAX_REPORT_CLASSES
            names = [str(n) for n in class_names]
            self.names = tuple(names) if len(names) == self.classes else tuple(str(i) for i in range(self.classes))
            return
        flat = targets.detach().reshape(-1).double().cpu().numpy()
        self.per_sample = max(flat.size // max(int(targets.shape[0]), 1), 1)
        self.keep = kept_points(flat.size)
        self.kept_target = flat[self.keep]
        self.total_sq = r2_total(flat)
        self.count = int(flat.size)
        self.unscale = unscale
        self._batch_keep: dict[tuple[int, int], torch.Tensor] = {}

    @property
    def active(self) -> bool:
        return self.classes >= 0

    @property
    def has_matrix(self) -> bool:
        """Whether the pass counts a confusion matrix (whose diagonal is the right answers)."""
        return self.classes > 0

    def begin(self) -> None:
        self.acc, self.errors, self.kept = None, None, []

    def add(self, out: torch.Tensor, targets: torch.Tensor, start: int = 0) -> None:
        """One batch of the pass: its outputs and targets, ``start`` its first sample's index."""
        if self.classes > 0:
            c = self.classes
            if self.objective.name == "cross_entropy":
                code = targets * c + out.argmax(dim=self.objective.class_dim)
                if self.objective.has_ignored:  # padding goes to one spare bin, cut off below
                    code = torch.where(targets == IGNORE, c * c, code)
            else:
                code = (targets > 0.5).long() * 2 + (out > 0).long()
            counts = torch.bincount(code.reshape(-1), minlength=c * c + 1)[: c * c]
            self.acc = counts if self.acc is None else self.acc + counts
        elif self.classes == 0:
            err = (out.float() - targets.float()).reshape(-1)
            sums = torch.stack((err.abs().sum(), (err * err).sum()))
            self.errors = sums if self.errors is None else self.errors + sums
            self.kept.append(out.reshape(-1)[self._indices(start, out.shape[0], out.device)].float())

    def _indices(self, start: int, n: int, device: torch.device) -> torch.Tensor:
        # the kept points inside this batch, found on the host once per batch position
        key = (start, n)
        if key not in self._batch_keep:
            lo, hi = start * self.per_sample, (start + n) * self.per_sample
            inside = self.keep[(self.keep >= lo) & (self.keep < hi)] - lo
            self._batch_keep[key] = torch.as_tensor(inside, dtype=torch.long, device=device)
        return self._batch_keep[key]

    def vector(self) -> torch.Tensor | None:
        """What to read back, as one float vector on the device (None: nothing counted)."""
        if self.classes > 0 and self.acc is not None:
            return self.acc.float()
        if self.classes == 0 and self.errors is not None:
            return torch.cat([self.errors, *self.kept])
        return None

    def report(self, values: list[float]) -> ClassReport | RegressionReport | None:
        """The report from ``vector()``'s values, read back."""
        if self.classes > 0:
            c = self.classes
            counts = np.rint(np.asarray(values, dtype=np.float64)).astype(np.int64).reshape(c, c)
            return ClassReport(counts, self.names)
        if self.classes < 0:
            return None
        abs_sum, sq_sum = values[0], values[1]
        predicted, target = np.asarray(values[2:], dtype=np.float64), self.kept_target
        total_sq = self.total_sq
        if self.unscale is not None:  # an affine map: R^2 stays, the errors scale
            shift, scale = self.unscale
            predicted, target = predicted * scale + shift, target * scale + shift
            abs_sum, sq_sum, total_sq = abs_sum * abs(scale), sq_sum * scale * scale, total_sq * scale * scale
        return RegressionReport.from_sums(predicted, target, abs_sum, sq_sum, total_sq, self.count)

    @property
    def size(self) -> int:
        """Values ``vector()`` holds."""
        if self.classes > 0:
            return self.classes * self.classes
        if self.classes < 0:
            return 0
        return 2 + int(self.keep.size)


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
