"""What a run needs, checked before it starts, and how its trainer is built.

``preflight`` gathers every reason a run cannot start (bad settings, a graph
that fails validation, no data set, a data set that does not fit the graph),
each naming its node and port where it has one. No Qt here beyond what the
panel passes in.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from studio.graph import Graph, Problem
from studio.training.config import TrainingConfig


@dataclass
class RunSetup:
    graph: Graph  # a copy: the person may keep editing while the run trains
    dataset: Any  # studio.data.Dataset
    config: TrainingConfig
    base_dir: Any = None  # the graph's folder, or its Reach (the folder plus what the person allowed)
    checked: Any = None  # studio.training.preflight.Checked: what the checks found, not checked again

    def trainer_factory(self, callback: Callable[[Any], None], weights: dict[str, Any] | None = None):
        """The trainer for this run (called on the worker thread, where compiling is no burden)."""
        from studio.training import Trainer

        if self.checked is not None:
            trainer = Trainer(self.graph, checked=self.checked, callback=callback)
        else:
            trainer = Trainer(self.graph, dataset=self.dataset, config=self.config, callback=callback,
                              base_dir=self.base_dir)
        if weights:
            trainer.prepare()  # builds the networks, so the kept weights have somewhere to go
            load_weights(trainer, weights)
        return trainer

    def keep_weights(self, trainer: Any) -> dict[str, Any] | None:
        """The trained weights to carry into the next run (None: start afresh)."""
        return save_weights(trainer) if trainer is not None else None


def save_weights(trainer: Any) -> dict[str, dict[str, Any]] | None:
    networks = getattr(trainer, "networks", None) or {}
    if not networks:
        return None
    return {name: {k: v.detach().to("cpu").clone() for k, v in net.state_dict().items()}
            for name, net in networks.items()}


def load_weights(trainer: Any, weights: dict[str, dict[str, Any]]) -> int:
    """Copy kept weights into the trainer's networks; returns how many tensors fitted.

    The graph may have changed since the last run: tensors whose name and
    shape still match keep their values, the rest start fresh.
    """
    loaded = 0
    networks = trainer.networks
    if len(networks) == 1 and len(weights) == 1:
        # One network either way: the trainer keys it by its role ("model"), a weights file or an
        # import by the Input's node id; the key names the same network.
        weights = {next(iter(networks)): next(iter(weights.values()))}
    for name, net in networks.items():
        kept = weights.get(name)
        if not kept:
            continue
        own = net.state_dict()
        usable = {k: v for k, v in kept.items() if k in own and own[k].shape == v.shape}
        net.load_state_dict(usable, strict=False)
        loaded += len(usable)
    return loaded


def write_weights(weights: dict[str, dict[str, Any]], path: str | Path) -> Path:
    """Trained weights as the weights file of a checkpoint (``studio export --weights`` reads it)."""
    from studio.training.checkpoint import save_weights

    return save_weights(path, weights)


def preflight(graph: Graph, dataset: Any, dataset_error: str | None,
              base_dir: Any = None) -> tuple[RunSetup | None, list[Problem]]:
    """The shared check (``studio.training.preflight``) on the data set the panel has loaded;
    one that failed to load is its own message (file, line and column), not loaded again. What it
    found goes to the run's trainer, which checks none of it again."""
    from studio.training.preflight import check_run

    found, problems = check_run(graph, base_dir, dataset, dataset_error=dataset_error)
    if problems or found is None:
        return None, problems
    return RunSetup(graph.copy(), found.dataset, found.config, found.reach, found), []


def problem_headline(problems: list[Problem]) -> str:
    """"N problem(s) to fix first: G in the graph, D with the data set, S in the settings": the
    count of the list below it; the status bar counts all but the data set's (it loads no data)."""
    graph = sum(1 for p in problems if p.kind not in ("data", "config"))
    data = sum(1 for p in problems if p.kind == "data")
    config = sum(1 for p in problems if p.kind == "config")
    parts = [f"{n} {where}" for n, where in ((graph, "in the graph"), (data, "with the data set"),
                                              (config, "in the training settings")) if n]
    return f"{len(problems)} problem(s) to fix first: {', '.join(parts)}."
