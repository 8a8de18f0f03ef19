"""A network's loss over a plane of its weights, and the paths optimizers take across it.

The plane: a network with exactly two scalar parameters (``Linear(1 -> 1)``: a weight and a
bias) is its own plane, the axes named after the parameters. Any other network is cut by a 2-D
slice through its current weights along two random filter-normalised directions (Li et al.,
"Visualizing the Loss Landscape of Neural Nets", 2018): each direction's filter (a row of a
weight) has the norm of the weight's own filter, so a step of 1 along an axis moves every layer
as far as its weights are large; biases and other 1-D parameters stay put, as in the paper.

Every point ``(a, b)`` of the plane stands for the weights ``origin + a * d1 + b * d2``; the
loss there is the network's loss on a fixed sample of the data (at most ``max_samples``),
computed with ``torch.func.functional_call``, batched over points with ``vmap``. The network is
evaluated in eval mode: dropout off, so each point has one loss.

``paths`` runs the real ``torch.optim`` optimizers (SGD, SGD with momentum, Nesterov, RMSprop,
Adam) on the two coordinates as one 2-element parameter, from the same start, on the same loss.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, vmap

OPTIMIZERS = ("SGD", "Momentum", "Nesterov", "RMSprop", "Adam")
DIVERGE_FACTOR = 1e3  # a path whose loss grows beyond this many times its start has diverged
MAX_SAMPLES = 512
GRID = 56
MAX_POINTS_AT_ONCE = 4096
FLOATS_AT_ONCE = 16_000_000  # values a vmapped batch of points may hold at once (weights and outputs)


def make_optimizer(name: str, params: Sequence[torch.Tensor], lr: float) -> torch.optim.Optimizer:
    """The torch optimizer the view calls ``name``, with the textbook settings."""
    if name == "SGD":
        return torch.optim.SGD(params, lr=lr)
    if name == "Momentum":
        return torch.optim.SGD(params, lr=lr, momentum=0.9)
    if name == "Nesterov":
        return torch.optim.SGD(params, lr=lr, momentum=0.9, nesterov=True)
    if name == "RMSprop":
        return torch.optim.RMSprop(params, lr=lr)
    if name == "Adam":
        return torch.optim.Adam(params, lr=lr)
    raise ValueError(f"optimizer {name!r}: one of {', '.join(OPTIMIZERS)}")


@dataclass(frozen=True)
class Path:
    """One optimizer's way over the plane: ``points[k]`` after ``k`` steps, ``losses[k]`` there.
    ``diverged_at``: the step whose loss was no longer finite or grew past ``DIVERGE_FACTOR`` times
    the start (the path stops there), None when it kept going."""

    name: str
    lr: float
    points: np.ndarray  # [k + 1, 2]
    losses: np.ndarray  # [k + 1]
    diverged_at: int | None

    @property
    def steps(self) -> int:
        return len(self.points) - 1

    @property
    def final_loss(self) -> float:
        return float(self.losses[-1])

    def describe(self) -> str:
        if self.diverged_at is not None:
            return f"diverged at step {self.diverged_at}"
        return f"loss {self.final_loss:.3g} after {self.steps} steps"


@dataclass(frozen=True)
class Surface:
    """The loss on a grid: ``losses[i, j]`` at ``(xs[j], ys[i])`` (rows are the second axis)."""

    xs: np.ndarray  # [W]
    ys: np.ndarray  # [H]
    losses: np.ndarray  # [H, W]
    seconds: float

    @property
    def box(self) -> tuple[float, float, float, float]:
        return float(self.xs[0]), float(self.xs[-1]), float(self.ys[0]), float(self.ys[-1])


Box = tuple[float, float, float, float]  # x0, x1, y0, y1


class Landscape:
    """The loss of ``model`` over a plane of its weights (see the module's doc).

    ``inputs``: the network's inputs in the order ``forward`` takes them (one sample of the data
    set, e.g. ``Prepared.batch(n).inputs``); ``targets``; ``loss(out, targets)`` the training
    loss (``Prepared.loss``). ``seed`` draws the slice's directions.
    """

    def __init__(self, model: nn.Module, inputs: Sequence[torch.Tensor], targets: torch.Tensor,
                 loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], *, seed: int = 0,
                 max_samples: int = MAX_SAMPLES) -> None:
        named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        if not named:
            raise ValueError("the network has no trainable parameters: it has no loss surface to draw")
        count = sum(p.numel() for _, p in named)
        device = named[0][1].device
        # two parameters: in float64, so a path is the optimizer's own to rounding (and costs nothing)
        dtype = torch.float64 if count == 2 else named[0][1].dtype
        self.model = copy.deepcopy(model).to(dtype).eval()
        n = max(1, min(int(targets.shape[0]), max_samples))
        self.inputs = tuple(t[:n].to(dtype) if t.is_floating_point() else t[:n] for t in inputs)
        self.targets = targets[:n].to(dtype) if targets.is_floating_point() else targets[:n]
        self.samples = n
        self.loss_fn = loss
        self.names = [name for name, _ in named]
        self.shapes = [p.shape for _, p in named]
        self.sizes = [p.numel() for _, p in named]
        flat = torch.cat([p.detach().reshape(-1) for _, p in named]).to(dtype)
        self.two_scalars = count == 2
        if self.two_scalars:
            # the plane is the parameters themselves: origin 0, the axes the two values
            self.axes = tuple(_scalar_names(self.names, self.sizes))
            self.origin = torch.zeros_like(flat)
            self.directions = torch.eye(2, dtype=dtype, device=device)
            self.start = flat.detach().cpu().numpy().astype(float)
        else:
            self.axes = ("direction 1", "direction 2")
            self.origin = flat
            gen = torch.Generator().manual_seed(int(seed))
            self.directions = torch.stack([self._direction(named, gen) for _ in range(2)]).to(device, dtype)
            self.start = np.zeros(2)
        self._vmapped = True

    # ---- the plane -----------------------------------------------------------
    @staticmethod
    def _direction(named, gen: torch.Generator) -> torch.Tensor:
        """A random direction, each filter scaled to the norm of the weight's own filter."""
        many = any(p.dim() > 1 for _, p in named)
        parts = []
        for _, p in named:
            w = p.detach().float().cpu()
            if many and w.dim() <= 1:
                parts.append(torch.zeros(w.numel()))
                continue
            d = torch.randn(w.shape, generator=gen)
            rows_w = w.reshape(w.shape[0], -1) if w.dim() > 1 else w.reshape(1, -1)
            rows_d = d.reshape(rows_w.shape)
            rows_d = rows_d * (rows_w.norm(dim=1, keepdim=True) / (rows_d.norm(dim=1, keepdim=True) + 1e-10))
            parts.append(rows_d.reshape(-1))
        return torch.cat(parts)

    def weights(self, point: torch.Tensor) -> dict[str, torch.Tensor]:
        """The network's parameters at ``point`` of the plane, by name."""
        flat = self.origin + point.to(self.origin.dtype) @ self.directions
        return {name: part.reshape(shape)
                for name, part, shape in zip(self.names, torch.split(flat, self.sizes), self.shapes)}

    def loss_at(self, point: torch.Tensor) -> torch.Tensor:
        """The loss at ``point`` (a tensor of 2), differentiable with respect to it."""
        out = functional_call(self.model, self.weights(point), self.inputs)
        return self.loss_fn(out, self.targets)

    def losses_at(self, points: torch.Tensor) -> torch.Tensor:
        """The loss at each of ``points`` [N, 2], batched over points where the network allows."""
        points = points.to(self.origin.device, self.origin.dtype)
        out = torch.empty(len(points), dtype=self.origin.dtype, device=self.origin.device)
        chunk = self._chunk()
        with torch.no_grad():
            for start in range(0, len(points), chunk):
                part = points[start:start + chunk]
                if self._vmapped:
                    try:
                        out[start:start + chunk] = vmap(self.loss_at)(part)
                        continue
                    except Exception:  # noqa: BLE001 - a module vmap cannot batch: one point at a time
                        self._vmapped = False
                out[start:start + chunk] = torch.stack([self.loss_at(p) for p in part])
        return out

    def _chunk(self) -> int:
        per_point = self.origin.numel() + self.samples * 64
        return max(1, min(MAX_POINTS_AT_ONCE, FLOATS_AT_ONCE // per_point))

    def seconds_per_point(self, points: int = 4) -> float:
        """What the loss at one point of the plane costs when ``points`` are computed together, measured
        (after one warm-up pass): a big network then gets a coarser grid and fewer steps, never none."""
        probe = torch.zeros(points, 2)
        self.losses_at(probe[:1])
        started = time.perf_counter()
        self.losses_at(probe)
        return max(1e-7, (time.perf_counter() - started) / points)

    def surface(self, box: Box, size: int = GRID) -> Surface:
        """The loss on a ``size`` x ``size`` grid over ``box`` (x0, x1, y0, y1)."""
        started = time.perf_counter()
        x0, x1, y0, y1 = box
        xs = torch.linspace(x0, x1, size, dtype=torch.float64)
        ys = torch.linspace(y0, y1, size, dtype=torch.float64)
        gy, gx = torch.meshgrid(ys, xs, indexing="ij")
        losses = self.losses_at(torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1))
        grid = losses.reshape(size, size).detach().cpu().double().numpy()
        return Surface(xs.numpy(), ys.numpy(), grid, time.perf_counter() - started)

    # ---- the optimizers' paths ------------------------------------------------
    def paths(self, lr: float, steps: int = 100, names: Sequence[str] = OPTIMIZERS,
              start: Sequence[float] | None = None) -> dict[str, Path]:
        """``steps`` steps of each named optimizer at ``lr`` from the same ``start`` (default: the
        network's own point); a path stops where its loss diverges. The optimizers step together:
        one batched forward and backward gives every path its gradient, and each optimizer then
        takes its own step on its own 2-element parameter."""
        origin = torch.tensor(self.start if start is None else start, dtype=self.origin.dtype)
        points = {n: origin.clone().to(self.origin.device).requires_grad_(True) for n in names}
        opts = {n: make_optimizer(n, [points[n]], lr) for n in names}
        trail: dict[str, list[np.ndarray]] = {n: [] for n in names}
        losses: dict[str, list[float]] = {n: [] for n in names}
        diverged: dict[str, int | None] = {n: None for n in names}
        limit: float | None = None
        going = list(names)
        for k in range(steps + 1):
            if not going:
                break
            for n in going:
                opts[n].zero_grad()
            values = self._losses_with_grad([points[n] for n in going])
            read = values.detach().cpu().tolist()
            if limit is None:
                limit = DIVERGE_FACTOR * max(abs(read[0]), 1e-12)
            stepping = []
            for n, value in zip(going, read):
                here = points[n].detach().cpu().numpy().copy()
                trail[n].append(here)
                losses[n].append(value)
                if not math.isfinite(value) or value > limit or not np.isfinite(here).all():
                    diverged[n] = k
                elif k < steps:
                    stepping.append(n)
            if not stepping:
                break
            for n in stepping:
                opts[n].step()
            going = stepping
        return {n: Path(n, float(lr), np.array(trail[n], dtype=float), np.array(losses[n], dtype=float),
                        diverged[n]) for n in names}

    def _losses_with_grad(self, points: list[torch.Tensor]) -> torch.Tensor:
        """The loss at each point, each point's ``.grad`` filled (one batched pass where it can)."""
        if self._vmapped:
            try:
                values = vmap(self.loss_at)(torch.stack(points))
                values.sum().backward()  # the points are independent: each gets its own gradient
                return values
            except Exception:  # noqa: BLE001 - a module vmap cannot batch: one point at a time
                self._vmapped = False
                for p in points:
                    p.grad = None
        values = []
        for p in points:
            loss = self.loss_at(p)
            loss.backward()
            values.append(loss.detach())
        return torch.stack(values)

    def frame(self, paths: Sequence[Path]) -> Box:
        """The box to draw the surface over for these paths: at least one unit (a weight's own size
        on a slice) each side of the start, two parameters' values at least half their size."""
        if self.two_scalars:
            half = max(0.5, 0.5 * float(np.abs(self.start).max()))
        else:
            half = 1.0
        return frame(paths, self.start, half)


def frame(paths: Sequence[Path], start: Sequence[float], min_half: float, pad: float = 0.2) -> Box:
    """A box holding ``start`` and the paths as far as they stay below their start's loss (a diverging
    path's far points would shrink the valley to a dot), padded, at least ``min_half`` each side."""
    xs, ys = [float(start[0])], [float(start[1])]
    for p in paths:
        keep = np.isfinite(p.losses) & (p.losses <= 1.2 * max(p.losses[0], 1e-12))
        keep &= np.isfinite(p.points).all(axis=1)
        xs.extend(p.points[keep, 0].tolist())
        ys.extend(p.points[keep, 1].tolist())
    box = []
    for values, centre in ((xs, start[0]), (ys, start[1])):
        lo, hi = min(values), max(values)
        span = hi - lo
        lo, hi = lo - pad * span, hi + pad * span
        lo, hi = min(lo, centre - min_half), max(hi, centre + min_half)
        box.extend([lo, hi])
    return tuple(box)


def union(a: Box | None, b: Box) -> Box:
    if a is None:
        return b
    return min(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), max(a[3], b[3])


def _scalar_names(names: list[str], sizes: list[int]) -> list[str]:
    out = []
    for name, size in zip(names, sizes):
        out.extend([name] if size == 1 else [f"{name}[{i}]" for i in range(size)])
    return out
