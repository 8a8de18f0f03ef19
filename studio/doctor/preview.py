"""The look at a network before its first step: one forward and one backward pass on one batch.

``preview(graph, base_dir)`` draws the weights a run of the graph starts from, runs one
batch (the settings' batch size, at most ``MAX_BATCH`` samples) forward and back, and
reports what it saw, without an optimizer step and without touching the graph or any
trained weights:

- the loss at initialisation against what it should be, with the reason and a verdict.
  Cross entropy over C classes: ln C, what guessing evenly scores. One logit per sample
  (``bce_with_logits``): ln 2. ``mse``: the mean of the squared targets, what predicting 0
  scores (a fresh network's outputs sit near 0; for centred targets this is their
  variance). ``l1``: the mean of the absolute targets. Within ``LOSS_TOLERANCE`` (10%) of
  it is "as expected"; above, the outputs are too large at initialisation (overconfident);
  below, the network scores better than a guess before it has learnt anything. A class
  loss outside 10% is a warning; a value loss only beyond ``FAR`` (50%), since a fresh
  network's own output spread and the batch move it by more than 10%.
- per node (the graph's ids): the mean and std of its output; for saturating activations
  (Sigmoid, Tanh, Hardsigmoid) the share of outputs within ``SATURATION_BAND`` (2%) of the
  output range from a bound, where the slope is under 8% of its peak (Sigmoid: below 0.02
  or above 0.98; Tanh: beyond +-0.96); for the ReLU family (ReLU, ReLU6) the share of dead
  units: values of a sample (each feature at each position) that are 0 for every sample of
  the batch, which pass no gradient back; and the L2 norm of the gradients of the node's
  parameters, the quantity the live "Gradient flow" view plots, so its colours agree.
- flags: "vanishing" where a node's gradient norm is below ``VANISHING`` (1e-5, where the
  live view turns a wire blue) or below ``VANISHING_RATIO`` (1e-3) of the largest in the
  network (that layer learns a thousand times slower than the fastest); "exploding" above
  ``EXPLODING`` (1e2, where the live view turns a wire red) or not finite; "dead" above
  ``MOSTLY`` (50%) dead units; "saturated" above 50% saturated outputs.

``Preview.problems`` lists each finding as a warning (``kind="lint"``) with its code
(``loss-at-init``, ``vanishing-gradient``, ``exploding-gradient``, ``dead-units``,
``saturated-units``), the node, the numbers, and what to do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import fx

from studio.files.reach import Reach
from studio.graph import Graph, Problem
from studio.graph.fixes import Fix, Replace, SetTraining

from .run_setup import Prepared, isolated, prepare

MAX_BATCH = 256
LOSS_TOLERANCE = 0.10
FAR = 0.5  # a loss more than 50% off its expected value is "far" from it
VANISHING = 1e-5  # the live gradient view's thresholds (studio.ui.training.colors), so flags and colours agree
EXPLODING = 1e2
VANISHING_RATIO = 1e-3
MOSTLY = 0.5
SATURATION_BAND = 0.02
SATURATING = {"Sigmoid": (0.0, 1.0), "Tanh": (-1.0, 1.0), "Hardsigmoid": (0.0, 1.0)}  # block -> output bounds
DEAD_FAMILY = ("ReLU", "ReLU6")


@dataclass(frozen=True)
class LossCheck:
    """The loss at initialisation and what it should be."""

    name: str  # the loss function: cross_entropy, bce_with_logits, mse, l1
    value: float
    expected: float
    reason: str  # why ``expected``: "ln 3 = 1.10 for 3 classes, what guessing evenly scores"
    verdict: str  # "as expected", or what is wrong

    @property
    def ratio(self) -> float:
        return self.value / self.expected if self.expected > 0 else math.inf

    @property
    def as_expected(self) -> bool:
        return self.verdict == "as expected"

    @property
    def worrying(self) -> bool:
        """Worth a warning: a class loss off by more than the tolerance (the guess is exact there),
        or a value loss off by more than half (its outputs' own spread at initialisation and the
        batch move it further)."""
        if self.as_expected:
            return False
        if self.name in ("cross_entropy", "bce_with_logits") or not math.isfinite(self.value):
            return True
        return abs(self.ratio - 1) > FAR


@dataclass(frozen=True)
class NodeStats:
    """One node's numbers; None where they do not apply (no output values, no parameters,
    not a saturating or ReLU-like activation)."""

    node: str
    block: str
    mean: float | None = None
    std: float | None = None
    saturated: float | None = None  # share of outputs near a bound, 0..1
    dead: float | None = None  # share of units 0 for every sample, 0..1
    grad_norm: float | None = None
    flags: tuple[str, ...] = ()


@dataclass
class Preview:
    loss: LossCheck
    nodes: list[NodeStats]
    batch_size: int
    task: str
    problems: list[Problem] = field(default_factory=list)

    def node(self, node_id: str) -> NodeStats:
        for n in self.nodes:
            if n.node == node_id:
                return n
        raise KeyError(node_id)

    def flagged(self, flag: str) -> list[str]:
        """Ids of the nodes carrying ``flag``, in the network's order."""
        return [n.node for n in self.nodes if flag in n.flags]

    def to_json(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "batch_size": self.batch_size,
            "loss": {"name": self.loss.name, "value": _num(self.loss.value), "expected": _num(self.loss.expected),
                     "reason": self.loss.reason, "verdict": self.loss.verdict},
            "nodes": [{"node": n.node, "block": n.block, "mean": _num(n.mean), "std": _num(n.std),
                       "saturated": _num(n.saturated), "dead": _num(n.dead), "grad_norm": _num(n.grad_norm),
                       "flags": list(n.flags)} for n in self.nodes],
            "problems": [p.to_json() for p in self.problems],
        }

    def render(self) -> str:
        """A table for the terminal, then the loss line and the problems."""
        from studio.graph.text import terminal_text

        header = ("Node", "Block", "Act mean", "Act std", "Saturated", "Dead", "Grad norm", "Flag")
        rows = [(terminal_text(n.node), n.block, _fmt(n.mean, "{:.3g}"), _fmt(n.std, "{:.3g}"),
                 _fmt(n.saturated, "{:.0%}"), _fmt(n.dead, "{:.0%}"), _fmt(n.grad_norm, "{:.1e}"),
                 ", ".join(n.flags)) for n in self.nodes]
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

        def line(row) -> str:
            cells = [c.ljust(w) if i < 2 or i == 7 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))]
            return "  ".join(cells).rstrip()

        rule = "  ".join("-" * w for w in widths)
        what = (f"the whole graph ({self.batch_size} labelled nodes)" if self.task == "node_classification"
                else f"one batch of {self.batch_size} samples")
        out = [f"Before the first step, on {what}:", line(header), rule,
               *(line(r) for r in rows), rule]
        loss = self.loss
        out.append(f"Loss at initialisation: {loss.value:.4g} ({loss.name}); expected about {loss.reason}: "
                   f"{loss.verdict}.")
        for p in self.problems:
            out.append(f"  warning: {terminal_text(str(p))}")
        if not self.problems:
            out.append("Nothing looks wrong before training.")
        return "\n".join(out)


def preview(graph: Graph, base_dir: str | Path | Reach | None = None, dataset: Any = None, *,
            batch_size: int | None = None, device: str | torch.device = "cpu") -> Preview:
    """One forward and one backward pass of ``graph``'s freshly drawn network on one batch; see
    the module's doc. ``batch_size``: samples in the batch (default the settings', at most
    ``MAX_BATCH``). Raises ``TrainingSetupError`` where the graph cannot run."""
    with isolated():
        prepared = prepare(graph, base_dir, dataset, device=device)
        prepared.take_threads()
        return _look(graph, prepared, min(batch_size or prepared.batch_size, MAX_BATCH))


def _look(graph: Graph, prepared: Prepared, size: int) -> Preview:
    batch = prepared.batch(size)
    model = prepared.model
    recorder = _Keeper(model)
    with prepared.recipe.amp():
        out = recorder.run(*batch.inputs)
        loss = prepared.loss(out, batch.targets)
    model.zero_grad(set_to_none=True)
    loss.float().backward()
    from studio.training.probes import grad_norms

    norms = grad_norms(prepared.recipe.networks)
    check = loss_check(prepared, float(loss.detach()), batch.targets)
    nodes = node_stats(graph, recorder.values, norms)
    model.zero_grad(set_to_none=True)
    outputs = [n for n, _ in _output_nodes(model)]
    problems = _problems(nodes, check, outputs[0] if len(outputs) == 1 else None, prepared)
    return Preview(check, nodes, batch.size, prepared.task, problems)


class _Keeper(fx.Interpreter):
    """Runs the compiled network node by node with gradients on, keeping each graph node's output."""

    def __init__(self, module: fx.GraphModule):
        super().__init__(module)
        from studio.training.model import meta

        self.wanted = {value: node_id for node_id, value in meta(module, "node_to_value", {}).items()}
        self.values: dict[str, torch.Tensor] = {}

    def run_node(self, n: fx.Node):
        out = super().run_node(n)
        node_id = self.wanted.get(n.name)
        if node_id is not None and isinstance(out, torch.Tensor):
            self.values[node_id] = out.detach()
        return out


def _output_nodes(model) -> list[tuple[str, str]]:
    from studio.training.model import output_nodes

    return output_nodes(model)


# ---- the loss ----------------------------------------------------------------------------
def loss_check(prepared: Prepared, value: float, targets: torch.Tensor) -> LossCheck:
    """``value`` (the loss at initialisation) against what it should be for this objective."""
    name = prepared.objective.name
    expected, reason = expected_loss(name, prepared.num_classes, targets)
    return LossCheck(name, value, expected, reason, _verdict(name, value, expected))


def expected_loss(name: str, classes: int | None, targets: torch.Tensor) -> tuple[float, str]:
    """(the loss a fresh network should score, why)."""
    if name == "cross_entropy":
        c = int(classes or 2)
        return math.log(c), f"ln {c} = {math.log(c):.2f} for {c} classes, what guessing evenly scores"
    if name == "bce_with_logits":
        return math.log(2), f"ln 2 = {math.log(2):.2f} for one logit per sample, what guessing evenly scores"
    y = targets.detach().float()
    y = y[torch.isfinite(y)]
    if name == "mse":
        value = float((y * y).mean()) if y.numel() else 0.0
        spread = float(y.var()) if y.numel() > 1 else 0.0
        return value, (f"{value:.3g}, the mean of the squared targets, what predicting 0 scores "
                       f"(their variance is {spread:.3g})")
    value = float(y.abs().mean()) if y.numel() else 0.0
    return value, f"{value:.3g}, the mean of the absolute targets, what predicting 0 scores"


def _verdict(name: str, value: float, expected: float) -> str:
    if not math.isfinite(value):
        return "the loss is not finite at initialisation: the outputs or the data hold infinities or NaN"
    if expected <= 0:
        return "as expected" if value <= 1e-6 else "above 0, and the targets are all 0"
    ratio = value / expected
    if abs(ratio - 1) <= LOSS_TOLERANCE:
        return "as expected"
    far = abs(ratio - 1) > FAR
    if ratio > 1:
        size = "far above" if far else "above"
        if name in ("cross_entropy", "bce_with_logits"):
            return f"{size} it: the outputs are too large at initialisation (overconfident)"
        return f"{size} it: the outputs are too large at initialisation, their spread adds to the error"
    size = "far below" if far else "below"
    if name in ("cross_entropy", "bce_with_logits"):
        return f"{size} it: the network scores better than a guess before it has learnt anything"
    return f"{size} it: the outputs already follow the targets before the network has learnt anything"


# ---- the nodes ---------------------------------------------------------------------------
def node_stats(graph: Graph, values: dict[str, torch.Tensor], norms: dict[str, float]) -> list[NodeStats]:
    """Each node's numbers and flags, in the graph's order, from its output on the batch
    (``values``, node id -> tensor, batch first) and its parameters' gradient norm (``norms``)."""
    finite = [v for v in norms.values() if math.isfinite(v)]
    largest = max(finite) if finite else 0.0
    rows = []
    for node_id in graph.topological_order():
        out = values.get(node_id)
        block = graph.node(node_id).block
        norm = norms.get(node_id)
        if (out is None or not out.is_floating_point() or out.numel() == 0) and norm is None:
            continue
        mean = std = saturated = dead = None
        if out is not None and out.is_floating_point() and out.numel() > 0:
            a = out.float()
            mean = float(a.mean())
            std = float(a.std()) if a.numel() > 1 else 0.0
            if block in SATURATING:
                lo, hi = SATURATING[block]
                band = SATURATION_BAND * (hi - lo)
                saturated = float(((a <= lo + band) | (a >= hi - band)).float().mean())
            if block in DEAD_FAMILY and a.dim() >= 1 and a.shape[0] > 0:
                dead = float((a == 0).all(dim=0).float().mean())
        flags = []
        if norm is not None:
            if not math.isfinite(norm) or norm > EXPLODING:
                flags.append("exploding")
            elif norm < VANISHING or (largest > 0 and norm < VANISHING_RATIO * largest):
                flags.append("vanishing")
        if dead is not None and dead > MOSTLY:
            flags.append("dead")
        if saturated is not None and saturated > MOSTLY:
            flags.append("saturated")
        rows.append(NodeStats(node_id, block, mean, std, saturated, dead, norm, tuple(flags)))
    return rows


def _problems(nodes: list[NodeStats], check: LossCheck, output: str | None, prepared: Prepared) -> list[Problem]:
    problems = []
    if check.worrying:
        problems.append(_warning(output, "loss-at-init", _loss_message(check)))
    norms = [(n.grad_norm, n.node) for n in nodes if n.grad_norm is not None and math.isfinite(n.grad_norm)]
    top_norm, top = max(norms) if norms else (0.0, "")
    for n in nodes:
        if "vanishing" in n.flags:
            problems.append(_warning(n.node, "vanishing-gradient", (
                f"the gradient reaching its weights is {n.grad_norm:.1e}, {_times(n.grad_norm, top_norm)} smaller "
                f"than the largest in the network ({top}, {top_norm:.1e}): it will barely learn. Saturating "
                "activations (Sigmoid, Tanh) shrink the gradient at every layer they sit between; use ReLU, or put "
                "a BatchNorm1d/LayerNorm between layers, or add shortcuts around them")))
        if "exploding" in n.flags:
            size = f"{n.grad_norm:.1e}" if math.isfinite(n.grad_norm) else "not finite"
            problems.append(_warning(n.node, "exploding-gradient", (
                f"the gradient reaching its weights is {size} (above {EXPLODING:g}) before any step: the first "
                "updates will throw the weights far off. Clip the gradients (training.grad_clip), lower the "
                "learning rate, scale the inputs to mean 0 and std 1, or put a BatchNorm/LayerNorm between layers"),
                (Fix("Clip gradients at norm 1", (SetTraining(("grad_clip",), 1.0),)),)
                if prepared.config.grad_clip is None else ()))
        if "dead" in n.flags:
            fixes = (Fix(f"Make {n.node} a LeakyReLU", (Replace(n.node, "LeakyReLU"),)),) if n.block == "ReLU" else ()
            problems.append(_warning(n.node, "dead-units", (
                f"{n.dead:.0%} of its units are 0 for every sample of the batch: they pass no gradient back and "
                "will not learn. Use LeakyReLU, scale the inputs to mean 0 and std 1, or put a "
                "BatchNorm1d/LayerNorm before it"), fixes))
        if "saturated" in n.flags:
            lo, hi = SATURATING[n.block]
            problems.append(_warning(n.node, "saturated-units", (
                f"{n.saturated:.0%} of its outputs lie within {SATURATION_BAND:.0%} of its bounds ({lo:g} and "
                f"{hi:g}), where its slope is nearly 0 and gradients fade. Scale the inputs to mean 0 and std 1, "
                "put a BatchNorm1d/LayerNorm before it, or use ReLU")))
    return problems


def _loss_message(check: LossCheck) -> str:
    text = (f"the loss at initialisation is {check.value:.4g} ({check.name}), expected about {check.reason}: "
            f"{check.verdict}")
    if check.value > check.expected:
        return text + (". Scale the inputs to mean 0 and std 1, and look for a layer that multiplies its input "
                       "up (large weights, a missing normalisation) before the output")
    if check.name in ("cross_entropy", "bce_with_logits"):
        return text + ". Check that the targets do not leak into the inputs, and that the batch is not one class"
    return text + ". Check that the targets do not leak into the inputs"


def _times(small: float, large: float) -> str:
    if small <= 0:
        return "infinitely"
    return f"{large / small:.0e}".replace("e+0", "e").replace("e+", "e") + " times"


def _warning(node: str | None, code: str, message: str, fixes: tuple = ()) -> Problem:
    return Problem(node, None, message, "lint", "warning", code, tuple(fixes))


def _num(value: float | None) -> float | None:
    """JSON has no NaN or infinity: they read as null."""
    return value if value is not None and math.isfinite(value) else None


def _fmt(value: float | None, pattern: str) -> str:
    return "-" if value is None else pattern.format(value)
