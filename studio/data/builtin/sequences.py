"""Sequence sets: forecasting a noisy sine, and token tasks (reverse, sort, copy)."""

from __future__ import annotations

from typing import Any

import numpy as np
from blocks import Param

from ..assemble import assemble
from ..catalog import DatasetInfo, register
from ..limits import check_memory
from ..options import SPLIT, STANDARDIZE, place


def windows(series: np.ndarray, length: int, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Every window of ``length`` values and the ``horizon`` values after it."""
    n = len(series) - length - horizon + 1
    idx = np.arange(length)[None, :] + np.arange(n)[:, None]
    x = series[idx]
    y = series[np.arange(horizon)[None, :] + np.arange(n)[:, None] + length]
    return x, y


def _sine(o: dict[str, Any], base) -> Any:
    check_memory(12 * o["samples"] * (o["length"] + o["horizon"]),
                 f"{o['samples']:,} windows x ({o['length']:,} + {o['horizon']:,}) values x 12 bytes "
                 "(float64 as generated, float32 for training)", place("samples"), "use fewer or shorter windows")
    rng = np.random.default_rng(o["seed"])
    steps = o["samples"] + o["length"] + o["horizon"] - 1
    t = np.arange(steps) * o["step"]
    series = np.sin(t)
    # Extra waves: seeded frequencies and phases, smaller amplitudes.
    for _ in range(o["waves"] - 1):
        series = series + rng.uniform(0.2, 0.6) * np.sin(rng.uniform(0.3, 3.0) * t + rng.uniform(0, 2 * np.pi))
    series = series + rng.normal(0.0, o["noise"], steps)
    x, y = windows(series, o["length"], o["horizon"])
    return assemble("sine", "sequence", x[:, :, None], y, o, time_ordered=True,
                    extra={"series": series.astype(np.float32)})


register(DatasetInfo(
    "sine", "sequence",
    "Forecasting: windows of a noisy sine (or sum of sines) [length, 1] -> the next horizon values. "
    "The last windows in time validate.",
    (
        Param("samples", "int", 500, "number of windows", min=1, max=1000000),
        Param("length", "int", 20, "time steps in each input window", min=1, max=10000),
        Param("horizon", "int", 1, "values to predict after each window", min=1, max=1000),
        Param("step", "float", 0.1, "time between two values, in radians of the base wave", min=0.001, max=10.0),
        Param("waves", "int", 1, "number of sines summed (the first is sin t, the others seeded)", min=1, max=10),
        Param("noise", "float", 0.05, "standard deviation of the noise on each value", min=0.0, max=10.0),
        *SPLIT, STANDARDIZE,
    ),
    _sine,
    suggested={'optimizer': {'name': 'adam', 'lr': 0.01}, 'batch_size': 32, 'epochs': 15},
))


TOKEN_OPTIONS = (
    Param("samples", "int", 2000, "number of sequences", min=1, max=1000000),
    Param("length", "int", 8, "tokens in each sequence", min=1, max=4096),
    Param("vocab", "int", 10, "number of distinct tokens (ids 0..vocab-1)", min=2, max=100000),
    *SPLIT,
)


def _tokens(task: str):
    def load(o: dict[str, Any], base) -> Any:
        check_memory(3 * 8 * o["samples"] * o["length"], f"{o['samples']:,} sequences x {o['length']:,} tokens "
                     "x 8 bytes, three times (inputs, targets and their split)", place("samples"),
                     "use fewer or shorter sequences")
        rng = np.random.default_rng(o["seed"])
        x = rng.integers(0, o["vocab"], (o["samples"], o["length"]))
        y = {"reverse": x[:, ::-1], "sort": np.sort(x, axis=1), "copy": x}[task]
        vocab = [str(i) for i in range(o["vocab"])]
        return assemble(task, "classification", x, y, o, x_dtype="long", class_names=vocab,
                        output_shape=(o["length"], o["vocab"]), vocab=vocab)
    return load


for _task, _doc in (
    ("reverse", "Token task: output the input sequence backwards."),
    ("sort", "Token task: output the input tokens in ascending order."),
    ("copy", "Token task: output the input sequence unchanged."),
):
    register(DatasetInfo(
        _task, "classification",
        _doc + " Input [length] token ids, target [length] token ids: a class per position.",
        TOKEN_OPTIONS, _tokens(_task),
        suggested={'optimizer': {'name': 'adam', 'lr': 0.002}, 'batch_size': 64, 'epochs': 8},
    ))
