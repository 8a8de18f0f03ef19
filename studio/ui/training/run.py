"""What a run needs, checked before it starts, and how its trainer is built.

``preflight`` gathers every reason a run cannot start (bad settings, a graph
that fails validation, no data set, a data set that does not fit the graph),
each naming its node and port where it has one. No Qt here beyond what the
panel passes in.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from studio.graph import Graph, Problem, validate
from studio.training.config import ConfigError, TrainingConfig


@dataclass
class RunSetup:
    graph: Graph  # a copy: the person may keep editing while the run trains
    dataset: Any  # studio.data.Dataset
    config: TrainingConfig
    base_dir: Path | None = None

    def trainer_factory(self, callback: Callable[[Any], None], weights: dict[str, Any] | None = None):
        """The trainer for this run (called on the worker thread, where compiling is no burden)."""
        from studio.training import Trainer

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
    for name, net in trainer.networks.items():
        kept = weights.get(name)
        if not kept:
            continue
        own = net.state_dict()
        usable = {k: v for k, v in kept.items() if k in own and own[k].shape == v.shape}
        net.load_state_dict(usable, strict=False)
        loaded += len(usable)
    return loaded


def preflight(graph: Graph, dataset: Any, dataset_error: str | None,
              base_dir: Path | None = None) -> tuple[RunSetup | None, list[Problem]]:
    problems: list[Problem] = []
    config = None
    try:
        config = TrainingConfig.from_dict(graph.training)
    except ConfigError as exc:
        problems.extend(Problem(None, None, p, "config") for p in exc.problems)
    problems.extend(validate(graph))
    if dataset is None:
        why = dataset_error or "no data set is chosen (training.dataset)"
        problems.append(Problem(None, None, why, "data"))
    elif not [p for p in problems if p.kind != "config"]:
        from studio.data import check_fits

        problems.extend(check_fits(dataset, graph))
    if problems:
        return None, problems
    return RunSetup(graph.copy(), dataset, config, base_dir), []


def config_snapshot(config: TrainingConfig) -> dict[str, Any]:
    return copy.deepcopy(config.to_dict())
