"""Everything that keeps a graph file from training, found without training it.

One check for ``studio validate``, ``studio train`` and the app's Train button:
the training settings (kind "config", messages name the key), the graph
(shapes, wiring), the data set (kind "data": it loads, its file and line where
a cell is bad) and whether it fits the graph (Inputs, dtypes, classes).

``outside_paths`` lists, without loading or writing anything, the paths a
graph file names that lie outside its reach (its folder plus what the person
granted): the app asks about them once, on open.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from studio.files.reach import OutsideFolder, Reach
from studio.graph import Graph, Problem, validate

from .config import ConfigError, TrainingConfig


def check(graph: Graph, base_dir: str | Path | Reach | None = None, dataset: Any = None,
          need_data: bool = True, dataset_error: str | None = None) -> tuple[TrainingConfig | None, Any, list[Problem]]:
    """(settings, data set, problems). ``dataset``: one already loaded (the app keeps one);
    ``dataset_error``: why it could not be (not tried again); otherwise the graph's data set is
    loaded from ``base_dir``: the graph file's folder, or its ``Reach`` (the folder plus what the
    person granted); a data set or checkpoint path outside it is a problem.
    ``need_data=False``: a graph with no data set chosen is not a problem (a file that only
    describes a network)."""
    reach = Reach.of(base_dir)
    config, problems = _settings(graph)
    if config is not None and config.checkpoint.enabled and config.checkpoint.path:
        from .checkpoint import place_in

        try:
            place_in(reach, config.checkpoint.path)
        except OutsideFolder as exc:
            problems.append(Problem(None, None, f"{exc.place}: {exc}", "config"))
    problems.extend(validate(graph))
    problems.extend(model_memory_problems(graph))
    if dataset is None and dataset_error:
        problems.append(Problem(None, None, dataset_error, "data"))
    elif dataset is None and config is not None and config.dataset:
        from studio.data import DataError, load_dataset

        try:
            dataset = load_dataset(config.dataset, reach)
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


def _settings(graph: Graph) -> tuple[TrainingConfig | None, list[Problem]]:
    try:
        return TrainingConfig.from_dict(graph.training), []
    except ConfigError as exc:
        return None, [Problem(None, None, p, "config") for p in exc.problems]


def standing_problems(graph: Graph, total_params: int | None = None) -> list[Problem]:
    """What ``check`` finds without loading data or touching a file: the settings, the graph,
    and a network too large for memory (``total_params``: a count already made, else counted).
    Cheap enough to run after every edit (the window's status bar)."""
    problems = _settings(graph)[1] + validate(graph)
    total = graph.total_params() if total_params is None else total_params
    return problems + memory_problems(total)


def _task_problems(config: TrainingConfig, dataset: Any) -> list[Problem]:
    from .setup import resolve_task
    from .trainer import TrainingSetupError

    try:
        resolve_task(config, dataset)
    except TrainingSetupError as exc:
        return [Problem(None, None, str(p), "config") for p in exc.problems]
    return []


def outside_paths(graph: Graph, base: str | Path | Reach | None) -> list[OutsideFolder]:
    """Every path the graph file names that lies outside ``base`` (its folder, or its ``Reach``),
    in file order: the data set's files, then ``training.checkpoint.path`` (whether or not
    checkpoints are on: turning them on must not write outside unasked). Nothing is loaded or
    written. Each ``OutsideFolder`` carries ``place`` (its key), ``written`` and ``resolved``
    (what to grant; for a checkpoint, the folder its two files go in)."""
    from studio.data import paths_in

    from .checkpoint import place_in

    reach = Reach.of(base)
    training = graph.training if isinstance(graph.training, Mapping) else {}
    found: list[OutsideFolder] = []
    named = [(place, written, reach.resolve) for place, written in paths_in(training.get("dataset"))]
    checkpoint = training.get("checkpoint")
    if isinstance(checkpoint, Mapping) and isinstance(checkpoint.get("path"), str) and checkpoint["path"]:
        named.append(("training.checkpoint.path", checkpoint["path"], lambda w, place: place_in(reach, w, place)))
    for place, written, resolve in named:
        try:
            resolve(written, place)
        except OutsideFolder as exc:
            found.append(exc)
        except (ValueError, OSError):  # text no file system takes (a NUL): the settings' check says so
            continue
    return found


# Bytes a parameter takes while training: float32 weights, their gradients and up to two
# optimizer moments (Adam). Activations come on top, so this is the least a run needs.
TRAINING_BYTES_PER_PARAM = 16


def model_memory_problems(graph: Graph, bytes_per_param: int = TRAINING_BYTES_PER_PARAM,
                          what: str = "to train (weights, gradients and optimizer state)") -> list[Problem]:
    """A network too large for this machine's free memory, said before any weight is allocated
    (parameters are counted on the meta device)."""
    return memory_problems(graph.total_params(), bytes_per_param, what)


def memory_problems(total: int, bytes_per_param: int = TRAINING_BYTES_PER_PARAM,
                    what: str = "to train (weights, gradients and optimizer state)") -> list[Problem]:
    """``model_memory_problems`` for a parameter count already made."""
    from studio.data.limits import available_memory, size_text

    need = total * bytes_per_param
    if need == 0:
        return []
    free = available_memory()
    if need <= free:
        return []
    return [Problem(None, None, f"the network's {total:,} parameters need at least {size_text(need)} {what}, "
                    f"and this machine has {size_text(free)} free", "structure")]
