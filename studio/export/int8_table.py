"""fp32 against int8, side by side: file size, CPU latency per sample, and the validation score.

Latency is onnxruntime on one thread at batch 1, the two models run in turn
(interleaved, so a busy machine slows both alike), the median of ``runs`` each
after a few warm-up runs. The score is the graph's own validation split,
loaded as ``studio train`` loads it (``preflight.checked``): accuracy for
classification, the mean absolute error otherwise (in the units the network
is trained on: scaled targets stay scaled).
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from studio.compile import Network
from studio.graph import Graph

from .onnx_check import check_inputs, session

RUNS = 50
WARMUP = 5
BATCH = 256  # validation samples per onnxruntime call


class Cancelled(Exception):
    """The measuring was stopped (the dialog showing it was closed)."""


@dataclass(frozen=True)
class Int8Table:
    network: str
    fp32_path: Path
    int8_path: Path
    fp32_bytes: int
    int8_bytes: int
    fp32_ms: float  # median latency per sample, batch 1, one thread
    int8_ms: float
    runs: int
    metric: str | None  # "accuracy" or "MAE"; None when there is no validation split
    fp32_score: float | None
    int8_score: float | None
    samples: int  # validation samples (or nodes) scored
    note: str = ""  # why there is no score

    def to_json(self) -> dict[str, Any]:
        return {
            "network": self.network, "fp32": str(self.fp32_path), "int8": str(self.int8_path),
            "size_bytes": {"fp32": self.fp32_bytes, "int8": self.int8_bytes},
            "latency_ms_per_sample": {"fp32": self.fp32_ms, "int8": self.int8_ms},
            "latency": {"batch": 1, "threads": 1, "runs": self.runs, "statistic": "median", "interleaved": True},
            "validation": None if self.metric is None else {
                "metric": self.metric, "samples": self.samples, "fp32": self.fp32_score, "int8": self.int8_score},
            **({"note": self.note} if self.note else {}),
        }

    def rows(self) -> list[tuple[str, str, str, str]]:
        """(what, fp32, int8, int8 against fp32), for the terminal and the app's dialog."""
        rows = [
            ("file size", _size(self.fp32_bytes), _size(self.int8_bytes), f"{self.int8_bytes / self.fp32_bytes:.2f}x"),
            ("CPU latency / sample", f"{self.fp32_ms:.3f} ms", f"{self.int8_ms:.3f} ms",
             f"{self.int8_ms / self.fp32_ms:.2f}x" if self.fp32_ms > 0 else ""),
        ]
        label = f"validation ({self.samples})"
        if self.metric == "accuracy":
            rows.append((f"accuracy, {label}", f"{100 * self.fp32_score:.2f} %", f"{100 * self.int8_score:.2f} %",
                         f"{100 * (self.int8_score - self.fp32_score):+.2f} points"))
        elif self.metric == "MAE":
            rows.append((f"MAE, {label}", f"{self.fp32_score:.4g}", f"{self.int8_score:.4g}",
                         f"{self.int8_score - self.fp32_score:+.2g}"))
        else:
            rows.append(("validation", self.note or "no validation split", "", ""))
        return rows

    def text(self) -> str:
        """The table as aligned lines, with how latency was measured under it."""
        header = ("", "fp32", "int8", "int8 / fp32")
        rows = [header, *self.rows()]
        unscored = rows.pop() if self.metric is None else None  # said on a line of its own
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        lines = [f"{r[0]:<{widths[0]}}  {r[1]:>{widths[1]}}  {r[2]:>{widths[2]}}  {r[3]:<{widths[3]}}".rstrip()
                 for r in rows]
        if unscored is not None:
            lines.append(f"validation: {unscored[1]}")
        lines.append(f"latency: onnxruntime, 1 thread, batch 1, median of {self.runs} interleaved runs each")
        return "\n".join(lines)


def measure(graph: Graph, net: Network, fp32_path: Path, int8_path: Path, dataset: Any = None,
            note: str = "", runs: int = RUNS, stop: Callable[[], bool] | None = None) -> Int8Table:
    """Measure the two ONNX files of ``net``. ``dataset``: the graph's loaded data set (None: no
    score, ``note`` says why). ``stop`` is asked between runs; True raises ``Cancelled``."""
    fp32_data, int8_data = Path(fp32_path).read_bytes(), Path(int8_path).read_bytes()
    fp32, int8 = session(fp32_data, threads=1), session(int8_data, threads=1)
    names = [i.name for i in fp32.get_inputs()]
    split, order = _validation(graph, net, dataset)
    if split is not None:
        sample = tuple(split.inputs[i][:1] for i in order)
    else:
        sample = check_inputs(graph, net, 1, torch.Generator().manual_seed(0))
    feed = {name: x.numpy() for name, x in zip(names, sample)}
    fp32_ms, int8_ms = _latency(fp32, int8, feed, runs, stop)
    metric = fp32_score = int8_score = None
    samples = 0
    if split is None:
        note = note or "no validation split"
    else:
        metric, fp32_score, samples = _score(fp32, names, split, order, dataset, graph, net, stop)
        _, int8_score, _ = _score(int8, names, split, order, dataset, graph, net, stop)
    return Int8Table(net.input_nodes[0] if net.input_nodes else "", Path(fp32_path), Path(int8_path),
                     len(fp32_data), len(int8_data), fp32_ms, int8_ms, runs, metric, fp32_score, int8_score,
                     samples, note if metric is None else "")


def load_validation(graph: Graph, base_dir, dataset: Any = None) -> tuple[Any, str]:
    """The graph's data set, loaded as ``studio train`` loads it (``dataset``: one already loaded,
    as the app keeps), or None and why not."""
    from studio.training.errors import TrainingSetupError
    from studio.training.preflight import checked

    try:
        found = checked(graph, base_dir, dataset)
    except TrainingSetupError as exc:
        headline = str(exc).splitlines()[0].rstrip(":")
        if not exc.problems or not (getattr(graph, "training", None) or {}).get("dataset"):
            return None, f"no validation split ({headline})"  # no data set chosen: nothing more to say
        more = f" (and {len(exc.problems) - 1} more)" if len(exc.problems) > 1 else ""
        return None, f"no validation split ({headline}: {exc.problems[0]}{more})"  # the key or file at fault
    if found.dataset.val is None or found.dataset.val.targets is None:
        return None, "no validation split"
    return found.dataset, ""


def _validation(graph: Graph, net: Network, dataset):
    if dataset is None or dataset.val is None or dataset.val.targets is None:
        return None, []
    from studio.training.supervised import TrainingDataError, ordered_inputs

    try:
        order = ordered_inputs(net, dataset, graph)
    except TrainingDataError:
        return None, []
    return dataset.val, order


def _latency(fp32, int8, feed, runs: int, stop) -> tuple[float, float]:
    times: dict[int, list[float]] = {0: [], 1: []}
    sessions = (fp32, int8)
    for i in range(WARMUP + runs):
        if stop is not None and stop():
            raise Cancelled()
        # alternate which goes first, so neither always runs on a warmer cache
        for which in ((0, 1) if i % 2 == 0 else (1, 0)):
            start = time.perf_counter()
            sessions[which].run(None, feed)
            if i >= WARMUP:
                times[which].append(time.perf_counter() - start)
    return 1000 * statistics.median(times[0]), 1000 * statistics.median(times[1])


def _score(runner, names, split, order, dataset, graph, net, stop) -> tuple[str, float, int]:
    """(metric, value, samples counted) of one model on the validation split."""
    inputs = [split.inputs[i] for i in order]
    n = len(split)
    outs = []
    for start in range(0, n, BATCH):
        if stop is not None and stop():
            raise Cancelled()
        feed = {name: x[start:start + BATCH].numpy() for name, x in zip(names, inputs)}
        outs.append(runner.run(None, feed)[0])
    out = torch.from_numpy(np.concatenate(outs))
    targets = split.targets
    if split.mask is not None:  # node classification: the masked nodes of the one graph
        mask = split.mask.reshape(-1)
        logits = out.reshape(-1, out.shape[-1])[mask]
        labels = targets.reshape(-1)[mask]
        return "accuracy", float((logits.argmax(-1) == labels).float().mean()), int(mask.sum())
    if dataset.is_classification and targets.is_floating_point() and out.numel() == targets.numel():
        right = (out.reshape(targets.shape) > 0) == (targets > 0.5)  # one logit per class, as bce trains it
        return "accuracy", float(right.float().mean()), int(targets.numel())
    if not targets.is_floating_point():
        from studio.training.losses import Objective

        objective = Objective("cross_entropy", out.shape, targets)
        right, counted = objective.correct(out, objective.prepare(targets))
        return "accuracy", float(right) / max(int(counted), 1), int(counted)
    out = out.reshape(targets.shape) if out.numel() == targets.numel() else out
    return "MAE", float((out - targets).abs().mean()), n


def _size(n: int) -> str:
    for unit, scale in (("MB", 1e6), ("KB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"
