"""A trained network applied to inputs a person brings, as raw as they come.

``Predictor`` takes raw (unscaled) samples, applies the data set's fitted scaler
as training did, and gives class probabilities (``kind`` "classes") or values in
the targets' own units (``kind`` "values"). ``saliency`` says which input values
drove a prediction (gradient x input).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import torch
from torch import nn

from .loading import EvaluationError

_FLOAT32_MAX = float(np.finfo(np.float32).max)
CHUNK = 1024  # samples per forward pass: a long list of inputs never needs one huge batch


class PredictError(EvaluationError):
    """The network or an input cannot be predicted on; the text names the place."""


def _fmt(shape) -> str:
    return "[" + ", ".join(str(int(d)) for d in shape) + "]"


@dataclass(frozen=True)
class Prediction:
    kind: str  # "classes" or "values"
    probabilities: np.ndarray | None  # [n, C] (classes); [n, L, C] where each position has its class
    values: np.ndarray | None  # [n, *output_shape] (values, in the targets' own units)
    class_names: tuple[str, ...]

    def __len__(self) -> int:
        data = self.probabilities if self.kind == "classes" else self.values
        return 0 if data is None else int(data.shape[0])

    @property
    def per_position(self) -> bool:
        return self.kind == "classes" and self.probabilities is not None and self.probabilities.ndim > 2

    def classes(self) -> np.ndarray:
        """The predicted class ids: [n] (or [n, L] per position)."""
        return self.probabilities.argmax(axis=-1)

    def top(self, k: int = 3) -> list[list[tuple[str, float]]]:
        """Per sample, best first: the ``k`` likeliest classes with their probabilities. Per-position
        outputs give, per sample, each position's likeliest class in order; values give
        (``"value"`` or ``"value[i]"``, value) pairs."""
        if self.kind == "values":
            out = []
            for v in self.values.reshape(len(self), -1):
                names = ["value"] if v.size == 1 else [f"value[{i}]" for i in range(v.size)]
                out.append([(n, float(x)) for n, x in zip(names, v)])
            return out
        if self.per_position:
            best = self.probabilities.argmax(axis=-1)
            p = np.take_along_axis(self.probabilities, best[..., None], -1)[..., 0]
            return [[(self.class_names[c], float(q)) for c, q in zip(row_c, row_p)] for row_c, row_p in zip(best, p)]
        k = max(1, min(int(k), self.probabilities.shape[1]))
        order = np.argsort(-self.probabilities, axis=1, kind="stable")[:, :k]
        return [[(self.class_names[c], float(row[c])) for c in idx] for row, idx in zip(self.probabilities, order)]

    def to_json(self, k: int = 3) -> list[dict[str, Any]]:
        """One object per sample: the predicted class and the top ``k`` (classes), each position's
        class (per position), or the values."""
        out: list[dict[str, Any]] = []
        if self.kind == "values":
            for v in self.values:
                out.append({"values": np.asarray(v).tolist()})
            return out
        if self.per_position:
            for row in self.top():
                out.append({"predicted": [c for c, _ in row], "probabilities": [p for _, p in row]})
            return out
        for row in self.top(k):
            out.append({"predicted": row[0][0], "probability": row[0][1],
                        "top": [{"class": c, "probability": p} for c, p in row]})
        return out


class Predictor:
    """A trained single-input network and the data set it learned from.

    ``input_shape`` and ``input_dtype`` ("float" or "long") are one raw sample's; ``task`` the data
    set's; ``class_names`` its classes (empty for values)."""

    input_shape: tuple[int, ...]
    input_dtype: str
    task: str
    class_names: tuple[str, ...]

    def __init__(self, network: nn.Module, dataset) -> None:
        _check_task(dataset)
        spec = dataset.inputs[0]
        self.network = network.eval()
        self.dataset = dataset
        self.input_shape = tuple(int(d) for d in spec.shape)
        self.input_dtype = spec.dtype
        self.task = dataset.task
        self.vocab = list(dataset.vocab) if dataset.vocab else None
        self.scaler = dataset.scaler if spec.dtype == "float" else None
        self.units = _target_units(dataset)
        self._range: tuple[float, float] | None = None
        self._device = next((p.device for p in network.parameters()), torch.device("cpu"))
        names = tuple(str(n) for n in dataset.class_names)
        self.class_names = names if self.task == "classification" else ()

    # ---- making one ---------------------------------------------------------
    @classmethod
    def from_state(cls, graph, weights: dict[str, dict[str, torch.Tensor]], dataset) -> "Predictor":
        """The graph compiled with ``weights`` ({network key: state_dict}) loaded."""
        from studio.compile import compile_networks
        from studio.training.checkpoint import CheckpointError, flatten, load_flat_state

        networks = compile_networks(graph)
        if len(networks) != 1:
            raise PredictError(f"the graph holds {len(networks)} separate networks ({', '.join(networks)}); "
                               "predict takes one")
        try:
            load_flat_state(networks, flatten(weights), "the weights")
        except CheckpointError as exc:
            raise PredictError(str(exc)) from None
        return cls(next(iter(networks.values())), dataset)

    @classmethod
    def from_files(cls, graph_path, weights_path, allow_outside: Iterable = ()) -> "Predictor":
        """A graph file and a checkpoint's weights file; the data set rebuilt from the file's
        settings (for its scaler and classes). Raises ``EvaluationError`` naming the place."""
        from .loading import load_trained

        loaded = load_trained(graph_path, weights_path, allow_outside)
        try:
            _check_task(loaded.dataset)
        except PredictError as exc:
            raise PredictError(f"{Path(graph_path)}: {exc}") from None
        if len(loaded.networks) != 1:
            raise PredictError(f"{graph_path}: the graph holds {len(loaded.networks)} separate networks "
                               f"({', '.join(loaded.networks)}); predict takes one")
        try:
            return cls(next(iter(loaded.networks.values())), loaded.dataset)
        except PredictError as exc:
            raise PredictError(f"{Path(graph_path)}: {exc}") from None

    # ---- what the inputs are --------------------------------------------------
    def raw_range(self) -> tuple[float, float]:
        """The least and greatest value of the training inputs before scaling (digits: 0, 16;
        token ids: 0 and the last id)."""
        if self._range is None:
            x = self.dataset.train.x
            if self.input_dtype == "long":
                top = len(self.vocab) - 1 if self.vocab else int(x.max())
                self._range = (0.0, float(top))
            else:
                raw = self.dataset.scaler.invert(x) if self.dataset.scaler is not None else x
                self._range = (float(raw.min()), float(raw.max()))
        return self._range

    def check(self, x, where: str = "input") -> torch.Tensor:
        """``x`` as a batch of raw samples ``[n, *input_shape]`` (one sample ``[*input_shape]`` is
        taken as a batch of one), refused naming ``where`` when it does not fit."""
        a = np.asarray(x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else x)
        if a.shape == self.input_shape:
            a = a[None]
        if a.ndim == 0 or tuple(a.shape[1:]) != self.input_shape:
            rank, wanted = len(self.input_shape), _fmt(self.input_shape)
            if a.ndim in (rank, rank + 1):  # one sample, or a batch, of the wrong shape
                shown = _fmt(a.shape[1:]) if a.ndim == rank + 1 else _fmt(a.shape)
                raise PredictError(f"{where}: samples are {shown}, the network takes {wanted}")
            raise PredictError(f"{where}: holds an array {_fmt(a.shape)}; the network takes samples {wanted} "
                               f"(give [n, {wanted[1:-1]}], or one sample {wanted})")
        if a.dtype.kind not in "biuf":
            raise PredictError(f"{where}: holds {a.dtype} values, not numbers")
        if self.input_dtype == "long":
            if a.dtype.kind == "f" and not np.all(np.isfinite(a) & (a == np.round(a))):
                raise PredictError(f"{where}: the network takes token ids (whole numbers), got fractions")
            a = a.astype(np.int64)
            top = len(self.vocab) if self.vocab else None
            if a.size and (a.min() < 0 or (top is not None and a.max() >= top)):
                bad = int(a.min()) if a.min() < 0 else int(a.max())
                raise PredictError(f"{where}: token id {bad} is outside the vocabulary (ids 0 to {top - 1})"
                                   if top is not None else f"{where}: token id {bad} is negative")
            return torch.as_tensor(a, dtype=torch.int64)
        if not np.all(np.isfinite(a)):
            raise PredictError(f"{where}: holds values that are not finite (NaN or infinity)")
        if a.size and a.dtype.kind == "f" and np.abs(a).max() > _FLOAT32_MAX:
            raise PredictError(f"{where}: holds {float(np.abs(a).max()):.3g}, beyond what the network's float32 "
                               f"holds (about ±3.4e38)")
        return torch.as_tensor(a.astype(np.float32))

    def _scaled(self, x: torch.Tensor) -> torch.Tensor:
        x = x.to(self._device)
        return self.scaler.apply(x) if self.scaler is not None else x

    # ---- predicting -------------------------------------------------------------
    def predict(self, x, where: str = "input") -> Prediction:
        """Raw (unscaled) samples ``[n, *input_shape]`` through the network."""
        batch = self.check(x, where)
        outs = []
        with torch.no_grad():
            for start in range(0, max(batch.shape[0], 1), CHUNK):
                part = batch[start:start + CHUNK]
                if part.shape[0]:
                    outs.append(self.network(self._scaled(part)).float().cpu())
        out = torch.cat(outs) if outs else torch.zeros((0,))
        if self.task == "classification":
            if out.shape[-1] == 1 and len(self.class_names) == 2:  # one logit for two classes
                p = torch.sigmoid(out)
                probs = torch.cat((1 - p, p), dim=-1)
            else:
                probs = torch.softmax(out, dim=-1)
            names = self.class_names
            if len(names) != probs.shape[-1]:
                names = tuple(str(i) for i in range(probs.shape[-1]))
            return Prediction("classes", probs.numpy().astype(np.float64), None, names)
        values = out
        if self.units is not None:
            shift, scale = self.units
            values = values * scale + shift
        return Prediction("values", None, values.numpy().astype(np.float64), ())

    def saliency(self, x, target: int | None = None, where: str = "input") -> np.ndarray:
        """How much each raw input value drove the prediction: |gradient x input| ``[n, *input_shape]``,
        for the class ``target`` (default: each sample's predicted class; values: their sum)."""
        if self.input_dtype != "float":
            raise PredictError(f"{where}: saliency needs float inputs; this network takes token ids")
        batch = self.check(x, where).to(self._device).requires_grad_(True)
        out = self.network(self._scaled(batch)).float()
        if self.task == "classification":
            if out.shape[-1] == 1:  # one logit: its sign says which class
                chosen = out[..., 0] if target is None else out[..., 0] * (1.0 if target == 1 else -1.0)
                if target is None:
                    chosen = chosen.abs()
            else:
                if target is not None and not 0 <= target < out.shape[-1]:
                    raise PredictError(f"saliency: class {target} is not one of the {out.shape[-1]} classes")
                index = out.argmax(dim=-1, keepdim=True) if target is None else torch.full_like(
                    out[..., :1], target, dtype=torch.long)
                chosen = out.gather(-1, index)
        else:
            flat = out.reshape(out.shape[0], -1)
            chosen = flat.sum(dim=1) if target is None else flat[:, target]
        (grad,) = torch.autograd.grad(chosen.sum(), batch)
        return (grad * batch).detach().abs().cpu().numpy().astype(np.float64)


def _check_task(dataset) -> None:
    """Refuse the data sets whose networks do not take one sample at a time."""
    if dataset.task in ("gan", "node_classification"):
        what = {"gan": "a gan generates from noise", "node_classification": "a node classifier takes a whole graph"}
        raise PredictError(f"the data set {dataset.name!r} is a {dataset.task} set: {what[dataset.task]}, "
                           "not one sample at a time")
    if len(dataset.inputs) != 1:
        names = ", ".join(i.name for i in dataset.inputs)
        raise PredictError(f"the network takes {len(dataset.inputs)} inputs ({names}); predict takes one")


def _target_units(dataset) -> tuple[float, float] | None:
    from studio.training.supervised import target_units

    return target_units(dataset, dataset.task)
