"""Before a run, once ``preflight`` has passed: the recipe for its task built (which
compiles the graph). Every refusal lists its problems."""

from __future__ import annotations

import torch

from studio.graph import Graph, InvalidGraphError

from .config import TrainingConfig
from .errors import TrainingSetupError
from .recipe import Recipe


def build_recipe(graph: Graph, dataset, cfg: TrainingConfig, task: str, device: torch.device) -> Recipe:
    from .losses import TargetMismatch
    from .model import compile_many, compile_single
    from .supervised import TrainingDataError

    try:
        if task == "gan":
            from .gan import Gan

            return Gan(compile_many(graph), dataset, graph, cfg, device)
        model = compile_single(graph)
        if cfg.optimizer.name == "perceptron":
            from .perceptron import PerceptronRule

            return PerceptronRule(model, dataset, graph, cfg, device, task)
        if task == "node_classification":
            from .node_task import NodeClassification

            return NodeClassification(model, dataset, graph, cfg, device)
        from .supervised import Supervised

        return Supervised(model, dataset, graph, cfg, device, task)
    except InvalidGraphError as exc:
        raise TrainingSetupError(exc.problems, "the graph cannot be compiled") from exc
    except (TargetMismatch, TrainingDataError) as exc:
        raise TrainingSetupError([str(exc)], f"the data set {dataset.name!r} does not fit the graph") from exc
