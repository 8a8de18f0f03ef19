"""A graph file with its trained weights and its data set, loaded as ``studio train`` would.

The data set is rebuilt from the file's settings (a deterministic load): its
validation split, class names, vocabulary and fitted scaler are those the run
trained with. The file reaches only its own folder plus what ``allow_outside``
grants; the weights path is the person's own and may point anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

EXIT_REFUSED, EXIT_UNREADABLE = 1, 2


class EvaluationError(ValueError):
    """The graph, its weights, its data or an input cannot be used; the text names the place.
    ``code``: 1 refused, 2 a file that cannot be read."""

    def __init__(self, message: str, code: int = EXIT_REFUSED):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Loaded:
    graph: Any  # studio.graph.Graph
    path: Path
    weights: Path
    checked: Any  # studio.training.preflight.Checked: settings, data set, task, reach
    networks: dict[str, Any]  # network key -> torch module with the weights loaded

    @property
    def dataset(self):
        return self.checked.dataset

    @property
    def task(self) -> str:
        return self.checked.task


def load_graph_and_data(graph_path: str | Path, allow_outside: Iterable[str | Path] = ()):
    """(graph, Checked): the file read and checked as before a run, its data set loaded."""
    from studio.files import GraphFileError, load
    from studio.files.reach import Reach
    from studio.training.errors import TrainingSetupError
    from studio.training.preflight import checked

    path = Path(graph_path)
    try:
        graph = load(path)
    except GraphFileError as exc:
        raise EvaluationError(str(exc), EXIT_UNREADABLE) from None
    try:
        # nothing is written, so where the settings would put checkpoints does not matter
        found = checked(graph, Reach.of(path.parent, tuple(allow_outside)), checkpoint_chosen=True)
    except TrainingSetupError as exc:
        problems = [str(p) for p in exc.problems]
        text = str(exc)
        headline = text.split(":\n", 1)[0] if ":\n" in text else "cannot be used"
        if len(problems) == 1:
            raise EvaluationError(f"{path}: {problems[0]}") from None
        raise EvaluationError("\n".join([f"{path}: {headline}:", *(f"  {p}" for p in problems)])) from None
    return graph, found


def load_trained(graph_path: str | Path, weights_path: str | Path,
                 allow_outside: Iterable[str | Path] = ()) -> Loaded:
    """The graph compiled with ``weights_path`` (a checkpoint's ``.safetensors``, or its
    ``.train.pt``) loaded, and its data set; ``EvaluationError`` naming the place otherwise."""
    from studio.compile import compile_networks
    from studio.graph import InvalidGraphError
    from studio.training.checkpoint import CheckpointError, load_weights, weights_path as weights_of

    graph, found = load_graph_and_data(graph_path, allow_outside)
    weights = weights_of(weights_path)
    if not weights.is_file():
        given = Path(weights_path)
        if given.is_dir():
            raise EvaluationError(f"{given}: a folder, not a weights file (give the .safetensors a run saved)",
                                  EXIT_UNREADABLE)
        if given.exists():  # a file of another kind, taken for a checkpoint's name
            raise EvaluationError(f"{given}: not a weights file; give the .safetensors a run saved (or its "
                                  ".train.pt)", EXIT_UNREADABLE)
        raise EvaluationError(f"{weights}: no such weights file", EXIT_UNREADABLE)
    try:
        networks = compile_networks(graph)
        load_weights(weights, networks)
    except InvalidGraphError as exc:
        raise EvaluationError(f"{graph_path}: the graph cannot be compiled: "
                              + "; ".join(str(p) for p in exc.problems)) from None
    except CheckpointError as exc:
        raise EvaluationError(str(exc)) from None
    except OSError as exc:
        raise EvaluationError(f"{weights}: cannot read the weights ({exc.strerror or exc})", EXIT_UNREADABLE) from None
    for net in networks.values():
        net.eval()
    return Loaded(graph, Path(graph_path), weights, found, networks)
