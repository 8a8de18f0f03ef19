"""An activation block's curve f(x) and slope f'(x), and where its inputs fall on them.

The curve comes from the block's real module (built from its spec with the node's
parameters), its slope from autograd, so what is drawn is what trains. Where the
inputs fall is read from a histogram of them (the probes' histogram of the node
feeding the activation): the share in the saturated region (a slope below
``FLAT_SHARE`` of the steepest) and the share where the slope is exactly 0 (dead).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from blocks import BlockSpec

ACTIVATION = "Activation"
# Activations that mix a whole dimension (one output from many inputs) have no curve of one value.
NOT_ELEMENTWISE = frozenset({"Softmax", "LogSoftmax"})
FLAT_SHARE = 0.05  # a slope under this share of the steepest slope counts as saturated
PEAK_RANGE = (-20.0, 20.0)  # where the steepest slope is looked for (every library activation peaks inside)
PEAK_POINTS = 4001
SUB_POINTS = 8  # points per histogram bin the slope is read at: a bin straddling a kink is split fairly
TABLE_POINTS = 4001  # slopes tabled over the inputs' span and as much again: a kink blurs over 1/2000 of it
DEFAULT_RANGE = (-6.0, 6.0)


def is_elementwise_activation(spec: BlockSpec) -> bool:
    """Whether ``spec`` is an activation applied to each value on its own (it has a curve)."""
    return spec.category == ACTIVATION and spec.name not in NOT_ELEMENTWISE


@dataclass(frozen=True)
class Curve:
    xs: np.ndarray
    ys: np.ndarray  # f(xs)
    slopes: np.ndarray  # f'(xs)


@dataclass(frozen=True)
class InputShares:
    """Shares (0..1) of the histogram's inputs by where they fall on the curve."""

    saturated: float  # 0 < |f'| < FLAT_SHARE * peak
    dead: float  # f' == 0
    mean_slope: float  # the average |f'| over the inputs: how much a gradient keeps passing back
    total: float  # how many inputs the histogram counted
    flat_per_bin: np.ndarray  # each bin's share of inputs that are saturated or dead


class ActivationFunction:
    """One activation block's function: its real module, with the node's parameters."""

    def __init__(self, spec: BlockSpec, params: Mapping[str, Any]) -> None:
        if not is_elementwise_activation(spec):
            raise ValueError(f"{spec.name} is not an elementwise activation: it has no curve of one value")
        self.spec = spec
        # in double precision: the slope of a sigmoid's far tail is still told from an exact 0
        self.module = spec.make({"in": (1,)}, spec.coerce_params(params)).double()
        self._peak: float | None = None
        self._table: tuple[np.ndarray, np.ndarray] | None = None  # (xs, f'(xs)), see ``_slopes_at``

    def _eval(self, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        import torch  # here, not above: the inspector asks ``is_elementwise_activation`` of every block it shows

        x = torch.tensor(np.asarray(xs, dtype=np.float64), requires_grad=True)
        # [N, C]: one sample per point, the point in each of the C channels a PReLU with C slopes
        # wants (all start at the same slope, so the first channel's curve is every channel's)
        channels = getattr(self.module, "num_parameters", 1)
        with torch.enable_grad():
            y = self.module(x.reshape(-1, 1).expand(-1, channels))[:, 0]
            (slope,) = torch.autograd.grad(y.sum(), x)
        return y.detach().numpy(), slope.numpy()

    def curve(self, lo: float, hi: float, points: int = 241) -> Curve:
        """f and f' on ``points`` equally spaced inputs over [lo, hi]."""
        xs = np.linspace(lo, hi, points)
        ys, slopes = self._eval(xs)
        return Curve(xs, ys, slopes)

    @property
    def peak(self) -> float:
        """The steepest slope |f'| anywhere (looked for over ``PEAK_RANGE``)."""
        if self._peak is None:
            _ys, slopes = self._eval(np.linspace(*PEAK_RANGE, PEAK_POINTS))
            self._peak = float(np.max(np.abs(slopes)))
        return self._peak

    def _slopes_at(self, points: np.ndarray) -> np.ndarray:
        """f' at ``points``, read off a table of ``TABLE_POINTS`` slopes by linear interpolation: a
        histogram is read twice a second while a run trains, and autograd on every read cost more
        than drawing it. The table is made again, over twice the span, when the points leave it."""
        lo, hi = float(points.min()), float(points.max())
        if self._table is None or lo < self._table[0][0] or hi > self._table[0][-1]:
            pad = max(hi - lo, 1.0) / 2
            xs = np.linspace(lo - pad, hi + pad, TABLE_POINTS)
            self._table = (xs, self._eval(xs)[1])
        return np.interp(points, *self._table)

    def input_shares(self, counts: np.ndarray, edges: np.ndarray) -> InputShares:
        """Where the inputs counted by a histogram (``counts`` per bin between ``edges``) fall:
        each bin's count is spread evenly over ``SUB_POINTS`` points inside it."""
        counts = np.asarray(counts, dtype=np.float64)
        edges = np.asarray(edges, dtype=np.float64)
        if counts.ndim != 1 or edges.shape != (len(counts) + 1,):
            raise ValueError(f"a histogram needs one more edge than counts, got {len(edges)} edges "
                             f"for {len(counts)} counts")
        total = float(counts.sum())
        if total <= 0:
            return InputShares(0.0, 0.0, 0.0, 0.0, np.zeros(len(counts)))
        fractions = (np.arange(SUB_POINTS) + 0.5) / SUB_POINTS
        points = edges[:-1, None] + (edges[1:] - edges[:-1])[:, None] * fractions[None, :]
        slopes = np.abs(self._slopes_at(points))
        weight = counts[:, None] / SUB_POINTS
        dead = slopes == 0
        flat = (slopes > 0) & (slopes < FLAT_SHARE * self.peak)
        return InputShares(float((weight * flat).sum()) / total, float((weight * dead).sum()) / total,
                           float((weight * slopes).sum()) / total, total, (flat | dead).mean(axis=1))


def input_band(counts: np.ndarray, edges: np.ndarray, margin: float = 0.1) -> tuple[float, float]:
    """The x range a curve is drawn over to show a histogram's inputs: the occupied bins' span,
    widened by ``margin`` of it on each side (and to at least one unit wide)."""
    counts = np.asarray(counts)
    edges = np.asarray(edges, dtype=np.float64)
    filled = np.flatnonzero(counts > 0)
    if len(filled) == 0:
        return DEFAULT_RANGE
    lo, hi = float(edges[filled[0]]), float(edges[filled[-1] + 1])
    pad = max(margin * (hi - lo), 0.5 * max(0.0, 1.0 - (hi - lo)))
    return lo - pad, hi + pad
