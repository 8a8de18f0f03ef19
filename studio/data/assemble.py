"""From NumPy arrays to a ``Dataset``: split, scale, wrap; shared by every loader."""

from __future__ import annotations

from typing import Any

import numpy as np
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

from .augment import Augmentation
from .dataset import DataInput, Dataset, Split
from .errors import DataError
from .options import place
from .scaling import fit_scaler
from .splitting import chronological, split_indices


def to_tensor(a: np.ndarray, dtype: str) -> torch.Tensor:
    import torch

    if dtype == "long":
        return torch.as_tensor(np.ascontiguousarray(a), dtype=torch.int64)
    return torch.as_tensor(np.ascontiguousarray(a, dtype=np.float32))


def target_tensor(y: np.ndarray | None, task: str) -> torch.Tensor | None:
    """Targets as training reads them: int64 class labels, or float values to regress."""
    import torch

    if y is None:
        return None
    if task == "classification":
        return torch.as_tensor(np.ascontiguousarray(y), dtype=torch.int64)
    return to_tensor(y, "float")


def assemble(
    name: str,
    task: str,
    x: np.ndarray,
    y: np.ndarray | None,
    opts: dict[str, Any],
    *,
    class_names: list[str] | None = None,
    x_dtype: str = "float",
    output_shape: tuple[int, ...] | None = None,
    vocab: list[str] | None = None,
    time_ordered: bool = False,
    extra: dict[str, Any] | None = None,
) -> Dataset:
    """One-input data set. ``y``: class ids (int) or targets (float) per sample.

    ``opts`` supplies val_fraction, seed, standardize and augment_* where the
    data set declares them. ``time_ordered`` splits chronologically.
    """
    import torch

    n = len(x)
    val_fraction = opts.get("val_fraction", 0.0)
    if time_ordered:
        tr, va = chronological(n, val_fraction)
    else:
        labels = y if task == "classification" and y is not None and y.ndim == 1 else None
        tr, va = split_indices(n, val_fraction, opts.get("seed", 0), labels)
    if len(tr) == 0:
        raise DataError(f"no training samples left: {n} samples with val_fraction {val_fraction}",
                        place("val_fraction"))
    xt = to_tensor(x, x_dtype)
    yt = target_tensor(y, task)
    train = Split((_rows(xt, tr),), None if yt is None else _rows(yt, tr))
    val = Split((_rows(xt, va),), None if yt is None else _rows(yt, va)) if len(va) else None

    scaler = None
    method = opts.get("standardize", "none")
    if method != "none":
        if x_dtype != "float":
            raise DataError(f"{name!r} gives token ids; standardize applies to float inputs only",
                            place("standardize"))
        scaler = fit_scaler(method, train.inputs[0])
        # A forecast's targets are later values of the same series: same units, same scaling.
        same_units = task == "sequence" and scaler.shift.numel() == 1
        train = Split((scaler.apply(train.inputs[0]),), _scaled(scaler, train.targets, same_units))
        if val is not None:
            val = Split((scaler.apply(val.inputs[0]),), _scaled(scaler, val.targets, same_units))
        for part in (train, val):
            if part is not None and not (bool(torch.isfinite(part.x).all())
                                         and (part.targets is None or bool(torch.isfinite(part.targets).all()))):
                raise DataError(f"standardize {method!r} gives values beyond float32 (about 3.4e38): the features "
                                f"of {name!r} span too wide a range, or barely vary in training and far more in "
                                "validation; set standardize to none", place("standardize"))

    augmentation = make_augmentation(name, opts, tuple(x.shape[1:]))
    if output_shape is None:
        if task == "classification":
            output_shape = (len(class_names or []),)
        else:
            output_shape = tuple(y.shape[1:]) if y is not None else tuple(x.shape[1:])
    return Dataset(
        name=name, task=task, inputs=(DataInput("x", tuple(int(d) for d in x.shape[1:]), x_dtype),),
        train=train, val=val, output_shape=tuple(int(d) for d in output_shape),
        class_names=list(class_names or []), vocab=vocab, scaler=scaler, augmentation=augmentation,
        extra=dict(extra or {}), spec={"name": name, **opts},
    )


def _rows(t: torch.Tensor, index: np.ndarray) -> torch.Tensor:
    """``t[index]``, gathered by NumPy: a third of the time torch's indexing takes on a large table."""
    import torch

    return torch.from_numpy(np.take(t.numpy(), index, axis=0))


def _scaled(scaler, targets, apply: bool):
    if not apply or targets is None:
        return targets
    return (targets - scaler.shift.reshape(())) / scaler.scale.reshape(())


def make_augmentation(name: str, opts: dict[str, Any], sample_shape: tuple[int, ...]) -> Augmentation | None:
    aug = Augmentation(opts.get("augment_flip", False), opts.get("augment_shift", 0), opts.get("augment_noise", 0.0))
    if not aug.active:
        return None
    if (aug.flip or aug.shift) and len(sample_shape) != 3:
        option = "augment_flip" if aug.flip else "augment_shift"
        raise DataError(f"{option} needs image samples [C, H, W]; {name!r} gives {list(sample_shape)}", place(option))
    return aug
