"""A trained network measured on its validation split, by the same pass (and the same
counting) that reports each epoch of a run: a ``ClassReport`` or a ``RegressionReport``."""

from __future__ import annotations

from dataclasses import dataclass

from studio.training.metrics import ClassReport, RegressionReport

from .loading import EvaluationError, Loaded


@dataclass(frozen=True)
class Evaluated:
    report: ClassReport | RegressionReport
    loss: float | None  # the validation loss, as training reports it
    samples: int  # validation samples (nodes, for node classification)
    dataset: str  # the data set's name
    task: str


def no_validation_message(loaded: Loaded) -> str:
    name = loaded.dataset.name
    return (f"{loaded.path}: the data set {name!r} holds no validation split to evaluate on; "
            "set training.dataset.val_fraction above 0 (the run must be trained with it too, so that "
            "its validation samples stay unseen)")


def evaluate(loaded: Loaded, device: str = "cpu") -> Evaluated:
    """The validation split of ``loaded``'s data set through its network."""
    import torch

    from studio.training.losses import TargetMismatch
    from studio.training.supervised import Supervised, TrainingDataError

    dataset, task = loaded.dataset, loaded.task
    if task == "gan":
        raise EvaluationError(f"{loaded.path}: a gan has no validation split to evaluate on: its data set "
                              "holds real samples only, with no targets to compare with")
    val = dataset.val
    if val is None or val.count() == 0 or val.targets is None:
        raise EvaluationError(no_validation_message(loaded))
    if len(loaded.networks) != 1:
        raise EvaluationError(f"{loaded.path}: the graph holds {len(loaded.networks)} separate networks "
                              f"({', '.join(loaded.networks)}); evaluate takes one")
    model = next(iter(loaded.networks.values()))
    where = torch.device(device)
    try:
        if task == "node_classification":
            from studio.training.node_task import NodeClassification

            recipe = NodeClassification(model, dataset, loaded.graph, loaded.checked.config, where)
        else:
            recipe = Supervised(model, dataset, loaded.graph, loaded.checked.config, where, task)
        measured = recipe.evaluate()
    except (TargetMismatch, TrainingDataError) as exc:
        raise EvaluationError(f"{loaded.path}: {exc}") from None
    finally:
        model.eval()
    if measured.report is None:
        classes = getattr(recipe.objective, "num_classes", 0)
        raise EvaluationError(f"{loaded.path}: {classes:,} classes are too many for a confusion matrix")
    return Evaluated(measured.report, measured.val_loss, val.count(), dataset.name, task)
