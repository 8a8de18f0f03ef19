"""Before a run: the data set loaded and checked against the graph, the task
settled, and the recipe for it built. Every refusal lists its problems."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import torch

from studio.graph import Graph, InvalidGraphError

from .config import TrainingConfig
from .recipe import Recipe

if TYPE_CHECKING:
    from studio.files.reach import Reach


def load_data(cfg: TrainingConfig, base_dir: "Path | Reach"):
    from studio.data import DataError, load_dataset

    from .trainer import TrainingSetupError

    if not cfg.dataset:
        raise TrainingSetupError(["training.dataset: no data set is chosen (pick one, e.g. {\"name\": \"spiral\"})"],
                                 "nothing to train on")
    try:
        return load_dataset(cfg.dataset, base_dir)
    except DataError as exc:
        raise TrainingSetupError([str(exc)], "the data set cannot be loaded") from exc


def resolve_task(cfg: TrainingConfig, dataset) -> str:
    from .trainer import TrainingSetupError

    data_task = getattr(dataset, "task", None)
    if cfg.task == "auto":
        if data_task is None:
            raise TrainingSetupError(["training.task: auto needs a data set that names its task"])
        if data_task == "gan" and cfg.early_stopping.enabled:  # as the settings' check says of task gan
            raise TrainingSetupError(["training.early_stopping: a gan has no validation loss to watch"])
        return data_task
    if data_task is not None and data_task != cfg.task:
        raise TrainingSetupError([f"training.task: {cfg.task} does not match the data set "
                                  f"{dataset.name!r}, which is a {data_task} set"])
    return cfg.task


def build_recipe(graph: Graph, dataset, cfg: TrainingConfig, task: str, device: torch.device) -> Recipe:
    from studio.data import check_fits

    from .losses import TargetMismatch
    from .model import compile_many, compile_single
    from .supervised import TrainingDataError
    from .trainer import TrainingSetupError

    problems = list(check_fits(dataset, graph))
    if cfg.early_stopping.enabled and task != "gan" and dataset.val is None:
        problems.append(f"training.early_stopping: needs a validation part, and {dataset.name!r} holds none "
                        "(set its val_fraction above 0)")
    if problems:
        raise TrainingSetupError(problems, f"the data set {dataset.name!r} does not fit the graph")
    try:
        if task == "gan":
            from .gan import Gan

            return Gan(compile_many(graph), dataset, graph, cfg, device)
        model = compile_single(graph)
        if task == "node_classification":
            from .node_task import NodeClassification

            return NodeClassification(model, dataset, graph, cfg, device)
        from .supervised import Supervised

        return Supervised(model, dataset, graph, cfg, device, task)
    except InvalidGraphError as exc:
        raise TrainingSetupError(exc.problems, "the graph cannot be compiled") from exc
    except (TargetMismatch, TrainingDataError) as exc:
        raise TrainingSetupError([str(exc)], f"the data set {dataset.name!r} does not fit the graph") from exc
