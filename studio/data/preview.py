"""NumPy views of a data set for the UI: a scatter, an image grid, a series, a table, tokens, a graph."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .dataset import Preview

MAX_SERIES = 5000  # points of a series preview

if TYPE_CHECKING:
    from .dataset import Dataset


def _tokens_text(row: np.ndarray, vocab: list[str] | None, sep: str) -> str:
    row = np.ravel(row)  # token samples may have more than one axis: shown in reading order
    if vocab is None:
        return sep.join(str(int(t)) for t in row)
    return sep.join(vocab[int(t)] for t in row)


def make_preview(ds: "Dataset", limit: int, split: str) -> Preview:
    part = ds.train if split == "train" or ds.val is None else ds.val
    names = list(ds.class_names)
    if ds.task == "node_classification":
        adj = part.inputs[1][0].numpy()
        return Preview("graph", adjacency=(adj != 0).astype(np.float32), labels=part.targets[0].numpy(),
                       mask=part.mask.numpy(), class_names=names)
    x = part.x[:limit]
    if ds.scaler is not None:
        x = ds.scaler.invert(x)  # people look at the data as it was
    x = x.numpy()
    y = None if part.targets is None else part.targets[:limit].numpy()
    given = ds.inputs[0]
    if given.dtype == "long":
        sep = "" if ds.name == "text" else " "  # text reads as text; token ids need spaces
        rows = [_tokens_text(r, ds.vocab, sep) for r in x]
        if y is not None:
            targets = y if y.ndim > 1 else y[:, None]
            rows = [f"{r} -> {_tokens_text(t, ds.vocab, sep)}" for r, t in zip(rows, targets)]
        return Preview("tokens", rows=rows, class_names=names)
    if len(given.shape) == 3:
        images = x.transpose(0, 2, 3, 1)
        images = images[..., 0] if images.shape[-1] == 1 else images[..., :3]
        return Preview("images", images=np.clip(images, 0.0, 1.0), labels=y, class_names=names)
    if ds.task == "sequence":
        series = ds.extra.get("series")
        if series is not None:
            t = np.arange(len(series), dtype=np.float32)
            return Preview("series", points=np.c_[t, series][:MAX_SERIES])
        return Preview("series", points=np.c_[np.arange(x.shape[1]), x[0, :, 0]])
    if given.shape == (2,):
        return Preview("scatter", points=x, labels=y, class_names=names)
    columns = list(ds.extra.get("feature_names") or [f"x{i}" for i in range(x.reshape(len(x), -1).shape[1])])
    table = x.reshape(len(x), -1)
    if y is not None:
        columns.append("target")
        target = np.array([names[int(v)] for v in y], dtype=object) if names and y.ndim == 1 else y.reshape(len(y), -1)[:, 0]
        table = np.concatenate([table.astype(object), np.asarray(target, dtype=object)[:, None]], axis=1)
    return Preview("table", columns=columns, rows=table, class_names=names)
