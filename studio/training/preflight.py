"""Everything that keeps a graph file from training, found without training it.

One check for ``studio validate``, ``studio train`` and the app's Train button:
the training settings (kind "config", messages name the key), the graph
(shapes, wiring), the data set (kind "data": it loads, its file and line where
a cell is bad) and whether it fits the graph (Inputs, dtypes, classes).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from studio.graph import Graph, Problem, validate

from .config import ConfigError, TrainingConfig


def check(graph: Graph, base_dir: str | Path | None = None, dataset: Any = None,
          need_data: bool = True, dataset_error: str | None = None) -> tuple[TrainingConfig | None, Any, list[Problem]]:
    """(settings, data set, problems). ``dataset``: one already loaded (the app keeps one);
    ``dataset_error``: why it could not be (not tried again); otherwise the graph's data set is
    loaded from ``base_dir``. ``need_data=False``: a graph with no data set chosen is not a
    problem (a file that only describes a network)."""
    problems: list[Problem] = []
    config = None
    try:
        config = TrainingConfig.from_dict(graph.training)
    except ConfigError as exc:
        problems.extend(Problem(None, None, p, "config") for p in exc.problems)
    problems.extend(validate(graph))
    if dataset is None and dataset_error:
        problems.append(Problem(None, None, dataset_error, "data"))
    elif dataset is None and config is not None and config.dataset:
        from studio.data import DataError, load_dataset

        try:
            dataset = load_dataset(config.dataset, Path(base_dir) if base_dir is not None else None)
        except DataError as exc:
            problems.append(Problem(None, None, str(exc), "data"))
    if dataset is None:
        if need_data and not any(p.kind == "data" for p in problems):
            problems.append(Problem(None, None, "no data set is chosen (training.dataset)", "data"))
        return config, None, problems
    if not [p for p in problems if p.kind != "config"]:
        from studio.data import check_fits

        problems.extend(check_fits(dataset, graph))
        if config is not None:
            problems.extend(_task_problems(config, dataset))
    return config, dataset, problems


def _task_problems(config: TrainingConfig, dataset: Any) -> list[Problem]:
    from .setup import resolve_task
    from .trainer import TrainingSetupError

    try:
        resolve_task(config, dataset)
    except TrainingSetupError as exc:
        return [Problem(None, None, str(p), "config") for p in exc.problems]
    return []
