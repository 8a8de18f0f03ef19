"""Which device a run uses, and how many CPU threads it may take."""

from __future__ import annotations

import os

import torch


class DeviceError(RuntimeError):
    pass


def pick_device(name: str) -> torch.device:
    """``auto``: CUDA, then MPS, then the CPU. A named device that is missing is an error."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise DeviceError("training.device: cuda was asked for, but this machine has no usable CUDA device")
    if name == "mps" and not _mps_available():
        raise DeviceError("training.device: mps was asked for, but this machine has no usable MPS device")
    return torch.device(name)


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def cpu_threads(requested: int | None) -> int:
    """Threads for torch on the CPU: as asked, at most one per core this process may use (more
    only slow a run down, and a million exhaust the thread library), else every core but one
    (left for the UI)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    cores = max(1, cores)
    if requested is not None:
        return max(1, min(int(requested), cores))
    return max(1, cores - 1)


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast type for mixed precision; None means plain fp32 (always so off CUDA)."""
    if device.type != "cuda" or precision == "fp32":
        return None
    return torch.bfloat16 if precision == "bf16" else torch.float16
