"""The loss and accuracy of supervised outputs against their targets.

How an output lines up with its targets (classes last as in ``[B, T, C]``,
or at dim 1 as in ``[B, C, H, W]``; a ``[B, 1]`` output against ``[B]``
targets) is decided once, from shapes, so each step runs only the loss.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

IGNORE = -100  # target class that counts for neither loss nor accuracy (padding)


class TargetMismatch(ValueError):
    pass


def _fmt(shape) -> str:
    """``[2, 3]``; a named size (the ``C`` of class scores) shows as its name."""
    return "[" + ", ".join(d if isinstance(d, str) else str(int(d)) for d in shape) + "]"


class Objective:
    """``loss_name`` applied to outputs shaped like ``out_shape`` (with batch)."""

    def __init__(self, loss_name: str, out_shape: torch.Size, targets: torch.Tensor, where: str = "output"):
        self.name = loss_name
        self.class_dim: int | None = None
        self.target_shape: tuple[int, ...] | None = None  # per-sample shape targets are viewed as
        t_sample = tuple(targets.shape[1:])
        o_sample = tuple(out_shape[1:])
        self.out_sample = o_sample
        if loss_name == "cross_entropy":
            if targets.is_floating_point():
                raise TargetMismatch(f"{where}: cross_entropy needs integer class targets, got float values; "
                                     "use mse or l1 for values")
            if o_sample[:-1] == t_sample and o_sample:
                self.class_dim = -1
            elif len(o_sample) >= 2 and o_sample[1:] == t_sample:
                self.class_dim = 1
            else:
                raise TargetMismatch(
                    f"{where}: output {_fmt(o_sample)} does not fit class targets {_fmt(t_sample)}: "
                    f"expected {_fmt((*t_sample, 'C'))} class scores")
            self.num_classes = o_sample[-1] if self.class_dim == -1 else o_sample[0]
            self.has_ignored = bool((targets == IGNORE).any())
            top = int(targets.max()) if targets.numel() else -1  # once, at set-up: torch's own error comes at step 1
            if top >= self.num_classes:
                single = " (or loss bce_with_logits for one score of a yes/no answer)" if self.num_classes == 1 else ""
                raise TargetMismatch(
                    f"{where}: gives {self.num_classes} class score(s) but the targets hold class {top}: "
                    f"it needs at least {top + 1} scores; set the last layer's out_features to {top + 1}{single}")
        else:
            n_out = _numel(o_sample)
            if n_out != _numel(t_sample):
                raise TargetMismatch(
                    f"{where}: output {_fmt(o_sample)} does not match targets {_fmt(t_sample)} for {loss_name}")
            if o_sample != t_sample:
                self.target_shape = o_sample

    def prepare(self, targets: torch.Tensor) -> torch.Tensor:
        """Targets laid out for ``loss`` (done once per split, not per step)."""
        if self.target_shape is not None:
            targets = targets.reshape(targets.shape[0], *self.target_shape)
        if self.name in ("bce_with_logits", "mse", "l1"):
            targets = targets.float()
        return targets

    def loss(self, out: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        if self.name == "cross_entropy":
            if self.class_dim == -1 and out.dim() > 2:
                return F.cross_entropy(out.reshape(-1, out.shape[-1]), targets.reshape(-1), ignore_index=IGNORE)
            return F.cross_entropy(out, targets, ignore_index=IGNORE)
        if self.name == "bce_with_logits":
            return F.binary_cross_entropy_with_logits(out, targets)
        if self.name == "mse":
            return F.mse_loss(out, targets)
        return F.l1_loss(out, targets)

    def plain_loss(self):
        """The torch loss function itself when outputs and targets need no reshaping, else None."""
        if self.name == "cross_entropy":
            return F.cross_entropy if self.class_dim == 1 or len(self.out_sample) == 1 else None
        return {"bce_with_logits": F.binary_cross_entropy_with_logits, "mse": F.mse_loss,
                "l1": F.l1_loss}[self.name]

    @property
    def has_accuracy(self) -> bool:
        return self.name in ("cross_entropy", "bce_with_logits")

    def correct(self, out: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(right predictions, counted predictions) as device tensors."""
        if self.name == "cross_entropy":
            pred = out.argmax(dim=self.class_dim)
            counted = targets != IGNORE
            return ((pred == targets) & counted).sum(), counted.sum()
        right = ((out > 0) == (targets > 0.5)).sum()
        return right, torch.tensor(targets.numel(), device=targets.device)

    def right(self, out: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Right predictions, as a device tensor (no host sync)."""
        if self.name == "cross_entropy":
            pred = out.argmax(dim=self.class_dim)
            if self.has_ignored:
                return ((pred == targets) & (targets != IGNORE)).sum()
            return (pred == targets).sum()
        return ((out > 0) == (targets > 0.5)).sum()

    def counted(self, targets: torch.Tensor) -> int:
        """How many predictions count in ``targets`` (padding left out); read once, at set-up."""
        if self.name == "cross_entropy":
            return int((targets != IGNORE).sum())
        return targets.numel()

    def predict(self, out: torch.Tensor) -> torch.Tensor:
        """Class ids (classification) or the values themselves."""
        if self.name == "cross_entropy":
            return out.argmax(dim=self.class_dim)
        if self.name == "bce_with_logits":
            return (out > 0).long()
        return out


def _numel(shape) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n
