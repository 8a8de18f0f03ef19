"""The loaded data set: tensors plus what the graph and the trainer need to know."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

from .augment import Augmentation
from .scaling import Scaler

TASKS = ("classification", "regression", "sequence", "node_classification", "gan")


@dataclass(frozen=True)
class DataInput:
    """One tensor the network takes: its name, one sample's shape, float or long."""

    name: str
    shape: tuple[int, ...]
    dtype: str = "float"  # "float" (float32) or "long" (int64 token ids), as the Input block says


@dataclass
class Split:
    """The samples of one part (training or validation).

    ``inputs`` holds one tensor per data input, each ``[n, *shape]``.
    ``targets``: int64 class labels ``[n]`` (or ``[n, *positions]`` for
    per-position classes), float32 ``[n, *target_shape]`` for regression and
    sequence, None for a GAN. ``mask`` (node classification only) is a bool
    ``[N]`` telling which nodes of the graph count in this part.
    """

    inputs: tuple[torch.Tensor, ...]
    targets: torch.Tensor | None
    mask: torch.Tensor | None = None

    @property
    def x(self) -> torch.Tensor:
        return self.inputs[0]

    @property
    def y(self) -> torch.Tensor | None:
        return self.targets

    def __len__(self) -> int:
        return int(self.inputs[0].shape[0])

    def count(self) -> int:
        """Samples that count for loss and accuracy (masked nodes for node classification)."""
        if self.mask is not None:
            return int(self.mask.sum())
        return len(self)

    def take(self, index: torch.Tensor | np.ndarray) -> "Split":
        import torch

        index = torch.as_tensor(index, dtype=torch.long)
        targets = None if self.targets is None else self.targets[index]
        return Split(tuple(t[index] for t in self.inputs), targets, self.mask)


@dataclass
class Preview:
    """Arrays for a quick look in the UI.

    ``kind``: "scatter" (``points`` [n, 2], ``labels`` [n]), "images" (``images``
    [n, H, W] or [n, H, W, 3] in [0, 1], ``labels``), "series" (``points``
    [n, 2]: time and value), "table" (``columns``, ``rows`` [n, k]), "tokens"
    (``rows``: one line of text per sample), "graph" (``adjacency`` [N, N],
    ``labels`` [N], ``mask`` [N]).
    """

    kind: str
    points: np.ndarray | None = None
    labels: np.ndarray | None = None
    images: np.ndarray | None = None
    columns: list[str] = field(default_factory=list)
    rows: Any = None
    adjacency: np.ndarray | None = None
    mask: np.ndarray | None = None
    class_names: list[str] = field(default_factory=list)


@dataclass
class Dataset:
    """A loaded data set; see the package docstring for the contract."""

    name: str
    task: str
    inputs: tuple[DataInput, ...]
    train: Split
    val: Split | None
    output_shape: tuple[int, ...]
    class_names: list[str] = field(default_factory=list)
    vocab: list[str] | None = None  # token tasks and text: token id -> text
    scaler: Scaler | None = None  # fitted on the training part only
    augmentation: Augmentation | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. ring: {"centres", "std"}
    spec: dict[str, Any] = field(default_factory=dict)  # the options, defaults filled in

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"unknown task {self.task!r}")

    # ---- what the graph must match --------------------------------------
    @property
    def input_shape(self) -> tuple[int, ...]:
        return self.inputs[0].shape

    @property
    def num_classes(self) -> int | None:
        return len(self.class_names) if self.class_names else None

    @property
    def is_classification(self) -> bool:
        return self.task in ("classification", "node_classification")

    # ---- training helpers ------------------------------------------------
    def augment(self, batch_x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """A training batch with this data set's augmentation applied, on the batch's device."""
        if self.augmentation is None:
            return batch_x
        return self.augmentation(batch_x, generator)

    def class_counts(self, split: str = "train") -> dict[str, int]:
        part = self.train if split == "train" else self.val
        if part is None or part.targets is None or not self.class_names:
            return {}
        labels = part.targets
        if part.mask is not None:
            labels = labels[:, part.mask] if labels.dim() > 1 else labels[part.mask]
        import torch

        counts = torch.bincount(labels.reshape(-1), minlength=len(self.class_names)).tolist()
        return dict(zip(self.class_names, counts))

    # ---- for people ------------------------------------------------------
    def describe(self) -> str:
        """One short paragraph: task, sizes, input and output shapes, classes."""
        parts = [f"{self.name}: {self.task}"]
        train_n = self.train.count()
        val_n = self.val.count() if self.val is not None else 0
        unit = "nodes" if self.task == "node_classification" else "samples"
        parts.append(f"{train_n:,} training / {val_n:,} validation {unit}")
        ins = ", ".join(f"{i.name} {list(i.shape)} {i.dtype}" for i in self.inputs)
        parts.append(f"input {ins}")
        if self.class_names:
            shown = ", ".join(self.class_names[:10]) + (", ..." if len(self.class_names) > 10 else "")
            parts.append(f"{len(self.class_names)} classes ({shown})")
        parts.append(f"output {list(self.output_shape)}")
        if self.extra.get("streamed"):
            parts.append(self.extra["streamed"])  # larger than memory, or mapped: batches come from disk
        return "; ".join(parts)

    def preview(self, limit: int = 64, split: str = "train") -> Preview:
        from .preview import make_preview

        return make_preview(self, limit, split)
