"""Everything that keeps a graph file from training, found without training it.

One set of checks for ``studio validate``, ``studio train``, the app's Train button and
the ``Trainer``: the training settings (kind "config", messages name the key), the
graph (shapes, wiring), the network's memory, the checkpoint's place, the data set
(kind "data": it loads, its file and line where a cell is bad) and whether it fits the
graph (Inputs, dtypes, classes, the task, a validation part for early stopping).

- ``check`` lists every problem at once (a report: ``studio validate``, the app);
- ``check_run`` does the same before a run, and when nothing stands in the way
  returns what it found as a ``Checked`` for the ``Trainer``;
- ``checked`` is the run's own check: cheapest first, it raises
  ``TrainingSetupError`` at the first part that fails, before the data set is read
  if the graph is wrong. A ``Trainer`` runs it unless it is handed a ``Checked``.

``outside_paths`` lists, without loading or writing anything, the paths a
graph file names that lie outside its reach (its folder plus what the person
granted): the app asks about them once, on open.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from studio.files.reach import OutsideFolder, Reach
from studio.graph import Graph, Problem, validate

from .config import ConfigError, TrainingConfig
from .errors import TrainingSetupError

NO_DATA = "no data set is chosen (training.dataset)"


@dataclass(frozen=True)
class Checked:
    """What the checks found a graph can train with: its settings, its data set (loaded), the
    task settled between them, and the reach its paths were checked against. A ``Trainer``
    handed one (``Trainer(graph, checked=...)``) checks none of it again."""

    config: TrainingConfig
    dataset: Any
    task: str
    reach: Reach


def check(graph: Graph, base_dir: str | Path | Reach | None = None, dataset: Any = None,
          need_data: bool = True, dataset_error: str | None = None) -> tuple[TrainingConfig | None, Any, list[Problem]]:
    """(settings, data set, problems). ``dataset``: one already loaded (the app keeps one);
    ``dataset_error``: why it could not be (not tried again); otherwise the graph's data set is
    loaded from ``base_dir``: the graph file's folder, or its ``Reach`` (the folder plus what the
    person granted); a data set or checkpoint path outside it is a problem.
    ``need_data=False``: a graph with no data set chosen is not a problem (a file that only
    describes a network)."""
    config, dataset, _task, problems = _check_all(graph, Reach.of(base_dir), dataset, need_data, dataset_error)
    return config, dataset, problems


def check_run(graph: Graph, base_dir: str | Path | Reach | None = None, dataset: Any = None,
              dataset_error: str | None = None) -> tuple[Checked | None, list[Problem]]:
    """``check`` before a run: every problem, or none and what it found, to hand to the
    ``Trainer`` so that nothing is checked twice."""
    reach = Reach.of(base_dir)
    config, dataset, task, problems = _check_all(graph, reach, dataset, True, dataset_error)
    if problems or config is None or dataset is None or task is None:
        return None, problems
    return Checked(config, dataset, task, reach), []


def _check_all(graph: Graph, reach: Reach, dataset: Any, need_data: bool,
               dataset_error: str | None) -> tuple[TrainingConfig | None, Any, str | None, list[Problem]]:
    config, problems = _settings(graph)
    if config is not None:
        problems.extend(_checkpoint_problems(config, reach))
    problems.extend(validate(graph))
    problems.extend(model_memory_problems(graph))
    if dataset is None and dataset_error:
        problems.append(Problem(None, None, dataset_error, "data"))
    elif dataset is None and config is not None and config.dataset:
        dataset, error = _load(config, reach)
        if error is not None:
            problems.append(Problem(None, None, error, "data"))
    if dataset is None:
        if need_data and not any(p.kind == "data" for p in problems):
            problems.append(Problem(None, None, NO_DATA, "data"))
        return config, None, None, problems
    task = None
    if not [p for p in problems if p.kind != "config"]:
        from studio.data import check_fits

        problems.extend(check_fits(dataset, graph))
        if config is not None:
            try:
                task = resolve_task(config, dataset)
            except TrainingSetupError as exc:
                problems.extend(Problem(None, None, str(p), "config") for p in exc.problems)
            else:
                problems.extend(Problem(None, None, p, "config") for p in _early_stopping_problems(config, dataset, task))
    return config, dataset, task, problems


def checked(graph: Graph, base_dir: str | Path | Reach | None = None, dataset: Any = None, *,
            config: TrainingConfig | None = None, checkpoint_chosen: bool = False) -> Checked:
    """The checks before a run, cheapest first: the settings (``config``, else the graph's), the
    graph, the network's memory, the checkpoint's place, then the data set (``dataset``, else loaded
    from ``base_dir``), its task and its fit. The first part that fails raises ``TrainingSetupError``
    under its headline, listing its problems. ``checkpoint_chosen``: the person named where
    checkpoints go, so the settings' ``checkpoint.path`` is neither used nor checked."""
    reach = Reach.of(base_dir)
    if config is None:
        config, problems = _settings(graph)
    else:
        problems = [Problem(None, None, p, "config") for p in config.validate()]
    _refuse([p.message for p in problems], "the training settings have problems")
    _refuse(validate(graph), "the graph has problems")
    _refuse(model_memory_problems(graph), "the network does not fit in memory")  # before a weight exists
    if not checkpoint_chosen:  # refused before any data is read or anything written
        _refuse([p.message for p in _checkpoint_problems(config, reach)], "the training settings have problems")
    if dataset is None:
        if not config.dataset:
            raise TrainingSetupError(['training.dataset: no data set is chosen (pick one, e.g. {"name": "spiral"})'],
                                     "nothing to train on")
        dataset, error = _load(config, reach)
        _refuse([error] if error is not None else [], "the data set cannot be loaded")
    task = resolve_task(config, dataset)
    from studio.data import check_fits

    _refuse(list(check_fits(dataset, graph)) + _early_stopping_problems(config, dataset, task),
            f"the data set {dataset.name!r} does not fit the graph")
    return Checked(config, dataset, task, reach)


def _refuse(problems: list[Problem | str], headline: str) -> None:
    if problems:
        raise TrainingSetupError(problems, headline)


def _settings(graph: Graph) -> tuple[TrainingConfig | None, list[Problem]]:
    try:
        return TrainingConfig.from_dict(graph.training), []
    except ConfigError as exc:
        return None, [Problem(None, None, p, "config") for p in exc.problems]


def _checkpoint_problems(config: TrainingConfig, reach: Reach) -> list[Problem]:
    """A ``checkpoint.path`` outside the reach, where checkpoints are on."""
    if not (config.checkpoint.enabled and config.checkpoint.path):
        return []
    from .checkpoint import place_in

    try:
        place_in(reach, config.checkpoint.path)
    except OutsideFolder as exc:
        return [Problem(None, None, f"{exc.place}: {exc}", "config")]
    return []


def _load(config: TrainingConfig, reach: Reach) -> tuple[Any, str | None]:
    """The settings' data set, or why it cannot be loaded."""
    from studio.data import DataError, load_dataset

    try:
        return load_dataset(config.dataset, reach), None
    except DataError as exc:
        return None, str(exc)


def resolve_task(config: TrainingConfig, dataset: Any) -> str:
    """The task to train: the settings', or the data set's for ``auto``; a contradiction raises
    ``TrainingSetupError``."""
    data_task = getattr(dataset, "task", None)
    if config.task == "auto":
        if data_task is None:
            raise TrainingSetupError(["training.task: auto needs a data set that names its task"])
        if data_task == "gan" and config.early_stopping.enabled:  # as the settings' check says of task gan
            raise TrainingSetupError(["training.early_stopping: a gan has no validation loss to watch"])
        return data_task
    if data_task is not None and data_task != config.task:
        raise TrainingSetupError([f"training.task: {config.task} does not match the data set "
                                  f"{dataset.name!r}, which is a {data_task} set"])
    return config.task


def _early_stopping_problems(config: TrainingConfig, dataset: Any, task: str) -> list[str]:
    """Early stopping watches the validation loss: a data set without a validation part has none."""
    if config.early_stopping.enabled and task != "gan" and dataset.val is None:
        return [f"training.early_stopping: needs a validation part, and {dataset.name!r} holds none "
                "(set its val_fraction above 0)"]
    return []


def settings_problems(graph: Graph) -> list[Problem]:
    """The training settings' problems, each naming its key."""
    return _settings(graph)[1]


def standing_problems(graph: Graph, total_params: int | None = None) -> list[Problem]:
    """What ``check`` finds without loading data or touching a file: the settings, the graph,
    and a network too large for memory (``total_params``: a count already made, else counted).
    Cheap enough to run after every edit (the window's status bar)."""
    problems = _settings(graph)[1] + validate(graph)
    total = graph.total_params() if total_params is None else total_params
    return problems + memory_problems(total)


def outside_paths(graph: Graph, base: str | Path | Reach | None) -> list[OutsideFolder]:
    """Every path the graph file names that lies outside ``base`` (its folder, or its ``Reach``),
    in file order: the data set's files, then ``training.checkpoint.path`` (whether or not
    checkpoints are on: turning them on must not write outside unasked). Nothing is loaded or
    written. Each ``OutsideFolder`` carries ``place`` (its key), ``written`` and ``resolved``
    (what to grant; for a checkpoint, the folder its two files go in)."""
    from studio.data import paths_in

    reach = Reach.of(base)
    training = graph.training if isinstance(graph.training, Mapping) else {}
    found: list[OutsideFolder] = []
    named = [(place, written, reach.resolve) for place, written in paths_in(training.get("dataset"))]
    checkpoint = training.get("checkpoint")
    if isinstance(checkpoint, Mapping) and isinstance(checkpoint.get("path"), str) and checkpoint["path"]:
        from .checkpoint import place_in  # imports torch: only for a file that names a checkpoint

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
    need = total * bytes_per_param
    if need == 0:
        return []
    from studio.data.limits import available_memory, size_text

    free = available_memory()
    if need <= free:
        return []
    return [Problem(None, None, f"the network's {total:,} parameters need at least {size_text(need)} {what}, "
                    f"and this machine has {size_text(free)} free", "structure")]
