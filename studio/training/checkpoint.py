"""Checkpoints beside the graph file: weights in safetensors, and the training
state (optimizer, epoch, step) in a ``weights_only`` torch file. Neither holds
code or pickled objects, so loading one never runs anything.

``model.safetensors`` holds the weights; ``model.train.pt`` beside it holds
what a resumed run needs. Keys of several networks are ``<network>.<name>``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import torch
from torch import nn

FORMAT = "studio-training-state"
VERSION = 1


class CheckpointError(RuntimeError):
    pass


def weights_path(path: str | os.PathLike) -> Path:
    """The weights file of a checkpoint named by either of its two files."""
    p = Path(path)
    if p.name.endswith(".train.pt"):
        return p.with_name(p.name[: -len(".train.pt")] + ".safetensors")
    return p if p.suffix == ".safetensors" else p.with_name(p.name + ".safetensors")


def state_path(path: str | os.PathLike) -> Path:
    w = weights_path(path)
    return w.with_name(w.name[: -len(".safetensors")] + ".train.pt")


def flat_state(networks: Mapping[str, nn.Module]) -> dict[str, torch.Tensor]:
    """Every network's state in one flat dict (prefixed when there are several)."""
    return flatten({name: net.state_dict() for name, net in networks.items()})


def flatten(states: Mapping[str, Mapping[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """State dicts by network in one flat dict (keys prefixed by network when there are several)."""
    single = len(states) == 1
    return {key if single else f"{name}.{key}": value
            for name, state in states.items() for key, value in state.items()}


def save_weights(path: str | os.PathLike, states: Mapping[str, Mapping[str, torch.Tensor]]) -> Path:
    """The weights file of a checkpoint alone (what ``studio export --weights`` reads), written to a
    temporary name and renamed; returns its path."""
    from safetensors.torch import save_file

    w = weights_path(path)
    w.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in flatten(states).items()}
    _atomic(w, lambda tmp: save_file(tensors, str(tmp), metadata={"format": "studio-weights"}))
    return w


def load_flat_state(networks: Mapping[str, nn.Module], flat: Mapping[str, torch.Tensor], where: str) -> None:
    single = len(networks) == 1
    for name, net in networks.items():
        prefix = "" if single else f"{name}."
        own = {k[len(prefix):]: v for k, v in flat.items() if k.startswith(prefix)}
        expected = net.state_dict()
        missing = sorted(set(expected) - set(own))
        if missing:
            raise CheckpointError(f"{where}: no weights for {', '.join(prefix + m for m in missing[:5])}"
                                  " (was it saved from another graph?)")
        wrong = [f"{prefix}{key} has shape {list(own[key].shape)}, the graph needs {list(value.shape)}"
                 for key, value in expected.items() if tuple(own[key].shape) != tuple(value.shape)]
        if wrong:
            raise CheckpointError(f"{where}: " + "; ".join(wrong))
        net.load_state_dict({k: v for k, v in own.items() if k in expected})


@dataclass
class TrainingState:
    epoch: int  # epochs completed
    step: int  # steps completed
    optimizers: dict[str, Any]
    best: dict[str, Any] | None = None
    scaler: dict[str, Any] | None = None
    rng: dict[str, Any] | None = None  # random number generators' states


def rng_state() -> dict[str, Any]:
    state: dict[str, Any] = {"cpu": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["cpu"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save(path: str | os.PathLike, networks: Mapping[str, nn.Module], state: TrainingState) -> Path:
    """Write both files (each to a temporary name, then renamed); returns the weights path."""
    w = save_weights(path, {name: net.state_dict() for name, net in networks.items()})
    s = state_path(path)
    payload = {
        "format": FORMAT, "version": VERSION, "epoch": state.epoch, "step": state.step,
        "optimizers": _to_cpu(state.optimizers), "best": state.best, "scaler": state.scaler,
        "rng": _to_cpu(state.rng),
    }
    _atomic(s, lambda tmp: torch.save(payload, tmp))
    return w


def load_weights(path: str | os.PathLike, networks: Mapping[str, nn.Module]) -> None:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    w = weights_path(path)
    if not w.exists():
        raise CheckpointError(f"{w}: no such weights file")
    try:
        flat = load_file(str(w))
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{w}: not a readable safetensors file ({exc})") from None
    load_flat_state(networks, flat, str(w))


def load_state(path: str | os.PathLike) -> TrainingState:
    s = state_path(path)
    if not s.exists():
        raise CheckpointError(f"{s}: no training state beside the weights (saved without the optimizer?)")
    try:
        payload = torch.load(s, map_location="cpu", weights_only=True)
    except Exception as exc:  # any unreadable or unsafe content is refused the same way
        raise CheckpointError(f"{s}: not a readable training state ({exc})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{s}: not a studio training state")
    if payload.get("version", 0) > VERSION:
        raise CheckpointError(f"{s}: written by a newer version (format {payload['version']}, this reads "
                              f"up to {VERSION})")
    return TrainingState(int(payload["epoch"]), int(payload["step"]), payload["optimizers"],
                         payload.get("best"), payload.get("scaler"), payload.get("rng"))


def _to_cpu(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu")
    if isinstance(value, dict):
        return {k: _to_cpu(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_to_cpu(v) for v in value)
    return value


def _atomic(target: Path, write) -> None:
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        write(tmp)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
