"""A graph made ready to run for the doctor's checks: checked, compiled, its weights drawn.

The set-up is the training run's own (``preflight.checked``, then ``Trainer.prepare``),
so the weights the checks see are exactly those a run of this graph starts from, and
a graph that cannot train is refused with the same ``TrainingSetupError``. Nothing of
the graph or of any trained weights is touched: each check compiles a fresh network.

``Prepared`` gives the checks what they need: the network, one fixed batch of inputs
and targets, the loss applied the way training applies it, the task's number of
classes, and the recipe (its ``Update`` steps with the graph's optimizer settings).
"""

from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import torch
from torch import nn

from studio.files.reach import Reach
from studio.graph import Graph
from studio.training.errors import TrainingSetupError
from studio.training.losses import Objective
from studio.training.recipe import Recipe, permutation

RUNNABLE_TASKS = ("classification", "regression", "sequence", "node_classification")


@dataclass
class Batch:
    """One fixed batch: the network's inputs in the order ``forward`` takes them, the
    targets as the objective prepared them, and how many samples it holds."""

    inputs: tuple[torch.Tensor, ...]
    targets: torch.Tensor
    size: int


@dataclass
class Prepared:
    """A graph ready to run: see the module's doc."""

    recipe: Recipe
    task: str
    config: Any  # the run's TrainingConfig
    device: torch.device
    dataset: Any

    @property
    def model(self) -> nn.Module:
        return self.recipe.networks["model"]

    @property
    def objective(self) -> Objective:
        return self.recipe.objective

    @property
    def num_classes(self) -> int | None:
        """Classes the output scores: C for cross entropy, 2 for one logit per sample
        (``bce_with_logits``), None for values."""
        obj = self.objective
        if obj.name == "cross_entropy":
            return int(obj.num_classes)
        if obj.name == "bce_with_logits":
            return 2
        return None

    @property
    def batch_size(self) -> int:
        return self.config.batch_size

    def batch(self, size: int | None = None) -> Batch:
        """The first ``size`` samples (default: the run's batch size) of the run's first epoch
        order; a node-classification graph is one sample, whole, every time."""
        r = self.recipe
        if self.task == "node_classification":
            return Batch(tuple(r.inputs), r.y, int(r.train_idx.numel()))
        size = max(1, min(size or self.config.batch_size, r.n))
        idx = permutation(r.n, self.config.seed, 1, r.home)[:size]
        return Batch(tuple(r.fetch(t[idx]) for t in r.x), r.fetch(r.y[idx]), size)

    def loss(self, out: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """The training loss of ``out`` against ``targets`` (for node classification, over
        the training nodes only, as a run counts it)."""
        r = self.recipe
        if self.task == "node_classification":
            logits = out.reshape(-1, r.classes)
            return self.objective.loss(logits[r.train_idx], targets[r.train_idx])
        return self.objective.loss(out, targets)

    def forward_loss(self, batch: Batch) -> torch.Tensor:
        with self.recipe.amp():
            return self.loss(self.model(*batch.inputs), batch.targets)

    def update(self, loss: torch.Tensor) -> None:
        """One optimizer step from ``loss``, with the graph's optimizer, L1 and clipping."""
        self.recipe.update(loss)

    def take_threads(self) -> None:
        """On the CPU, the threads a run would take (every core but one, unless the settings say)."""
        if self.device.type == "cpu":
            from studio.training.device import cpu_threads

            torch.set_num_threads(cpu_threads(self.config.threads))

    def set_lr(self, lr: float) -> None:
        from studio.training.optim import set_lr

        for u in self.recipe.updates:
            set_lr(u.optimizer, lr)


def prepare(graph: Graph, base_dir: str | Path | Reach | None = None, dataset: Any = None, *,
            device: str | torch.device = "cpu", config: Any = None) -> Prepared:
    """``graph`` checked and its network built with freshly drawn weights, seeded with the
    settings' seed as a run is. ``device``: "cpu", "cuda", "mps" or "auto" (a torch device
    of one of those kinds is taken too). ``config``: a ``TrainingConfig`` to use instead of the
    graph's settings. Raises ``TrainingSetupError`` listing what keeps the graph from running:
    the run's own checks, and a task the doctor does not run (a GAN)."""
    from studio.training.preflight import checked
    from studio.training.trainer import Trainer

    found = checked(graph, base_dir, dataset, config=config, checkpoint_chosen=True)
    if found.task not in RUNNABLE_TASKS:
        raise TrainingSetupError(
            [f"training.task: the doctor runs supervised and node-classification networks; a {found.task} "
             "trains two networks against each other, and one batch says little about either (train it and "
             "watch both losses)"], "the doctor cannot run this graph")
    kind = device.type if isinstance(device, torch.device) else str(device)
    cfg = dataclasses.replace(found.config, device=kind, checkpoint=dataclasses.replace(found.config.checkpoint,
                                                                                      enabled=False))
    trainer = Trainer(graph, checked=dataclasses.replace(found, config=cfg))
    try:
        trainer.prepare()  # picks the device, seeds, compiles and draws the weights, as a run does
    except (ValueError, RuntimeError) as exc:  # a device that is missing
        if isinstance(exc, TrainingSetupError):
            raise
        raise TrainingSetupError([str(exc)], "the network cannot be set up") from exc
    return Prepared(trainer.recipe, found.task, cfg, trainer.device, found.dataset)


@contextlib.contextmanager
def isolated() -> Iterator[None]:
    """Around a check: the caller's random state and CPU threads come back afterwards (a check
    seeds from the graph's settings, so it repeats exactly, and must not shift the caller's draws)."""
    old_threads = torch.get_num_threads()
    cuda = torch.cuda.is_available() and torch.cuda.is_initialized()
    with torch.random.fork_rng(devices=list(range(torch.cuda.device_count())) if cuda else []):
        try:
            yield
        finally:
            torch.set_num_threads(old_threads)
