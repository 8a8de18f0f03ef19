"""What a training run reports, through one callback, as plain data.

The UI turns these into plots; ``studio train`` into lines. Events carry only
Python floats, lists and NumPy arrays (never tensors), so a receiver on
another thread can keep them without touching the device.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .metrics import ClassReport, RegressionReport


@dataclass(frozen=True)
class StepsEvent:
    """Per-step losses of the steps since the last report (read back every few
    steps in one transfer, never one sync per step). ``first_step`` counts from
    0 over the whole run. A GAN's ``losses`` are the discriminator's."""

    epoch: int
    first_step: int
    losses: list[float]
    lrs: list[float]
    steps_per_epoch: int
    extra: dict[str, list[float]] = field(default_factory=dict)  # GAN: {"generator_loss": [...]}, one per step


@dataclass(frozen=True)
class EpochEvent:
    epoch: int  # 1-based
    train_loss: float
    val_loss: float | None
    train_acc: float | None
    val_acc: float | None
    lr: float
    seconds: float
    samples_per_s: float
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. {"modes_covered": 7}
    # the validation part measured: a confusion matrix (classes) or errors (values); None without
    # a validation part, and for a GAN. Left out of to_json(): it is an epoch's picture, not a figure
    report: ClassReport | RegressionReport | None = field(default=None, compare=False)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"epoch": self.epoch, "train_loss": self.train_loss}
        if self.val_loss is not None:
            out["val_loss"] = self.val_loss
        if self.train_acc is not None:
            out["train_acc"] = self.train_acc
        if self.val_acc is not None:
            out["val_acc"] = self.val_acc
        out.update({"lr": self.lr, "seconds": self.seconds, "samples_per_s": self.samples_per_s})
        out.update(self.extra)
        return out


@dataclass(frozen=True)
class ActivationStats:
    mean: float
    std: float
    zero_fraction: float  # share of exact zeros: dead ReLUs show here
    hist_counts: np.ndarray  # histogram of the sampled outputs
    hist_edges: np.ndarray
    feature_maps: np.ndarray | None = None  # [C, H, W] of one sample, for convolution outputs


@dataclass(frozen=True)
class BoundaryGrid:
    """Class prediction on a grid over a 2-D input's range: the decision boundary."""

    xs: np.ndarray  # [W]
    ys: np.ndarray  # [H]
    classes: np.ndarray  # [H, W] int predicted class
    confidence: np.ndarray  # [H, W] probability of the predicted class


@dataclass(frozen=True)
class FunctionCurve:
    """A regression network's output over a 1-D input's range: the function it computes."""

    xs: np.ndarray  # [N] inputs, evenly spaced
    ys: np.ndarray  # [N] the network's output at each
    # (w, b) where the whole network is one Linear(1 -> 1): y = w x + b
    line: tuple[float, float] | None = None


@dataclass(frozen=True)
class AttentionMaps:
    """Attention weights of one attention node for the first few probe samples."""

    weights: np.ndarray  # [samples, heads, queries, keys]; each query row sums to 1
    # per sample, each position's token text: where the input is tokens as many as the queries
    tokens: list[list[str]] | None = None


@dataclass(frozen=True)
class EmbeddingPoints:
    """An Embedding's vectors (the first few hundred tokens) projected onto their two principal axes."""

    points: np.ndarray  # [tokens, 2]
    labels: list[str]  # each token's text (the data set's vocabulary, else its id)
    explained: tuple[float, float]  # share of the vectors' variance along each axis


@dataclass(frozen=True)
class ProbeEvent:
    """Sampled views of the network; any field may be empty when its probe is off."""

    step: int
    epoch: int
    activations: dict[str, ActivationStats] = field(default_factory=dict)  # node id ->
    grad_norms: dict[str, float] = field(default_factory=dict)  # node id -> L2 norm of its parameters' gradients
    boundary: BoundaryGrid | None = None
    samples: dict[str, np.ndarray] = field(default_factory=dict)  # GAN: {"generated", "real"}; sequence: {"predicted", "true"}
    attention: dict[str, AttentionMaps] = field(default_factory=dict)  # node id -> (attention nodes)
    embeddings: dict[str, EmbeddingPoints] = field(default_factory=dict)  # node id -> (Embedding nodes)
    function: FunctionCurve | None = None  # regression of one number on one number
    # the parameters' values of a network that has exactly two (a Linear(1 -> 1)'s weight and bias): the
    # run's point on the loss surface; None for any other network
    point: tuple[float, float] | None = None


@dataclass(frozen=True)
class EndEvent:
    """``status``: finished, stopped, early_stopped or failed (``message`` says why and where)."""

    status: str
    message: str
    epochs: int
    best: EpochEvent | None


Event = StepsEvent | EpochEvent | ProbeEvent | EndEvent
