"""A run's checkpoint as the trainer writes and reads it: where it goes, and the
networks' weights with what a resumed run needs to go on as the unbroken one would
(epoch and step, each optimizer's and grad scaler's state, the best epoch, the
random generators). The file format itself is ``checkpoint.py``'s.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import torch
from torch import nn

from . import checkpoint as ckpt
from .events import EpochEvent


def checkpoint_place(chosen: Path | None, setting: str | None, reach: Any, graph_path: Path | None,
                     graph_name: str | None) -> Path:
    """Where a run's checkpoints go: ``chosen`` by the person (a flag, a dialog), the settings'
    ``checkpoint.path`` (inside the graph's ``reach``, else ``OutsideFolder``), or beside the graph
    file as ``<graph>.safetensors`` (beside its folder, named after the graph, when it has none)."""
    if chosen is not None:
        return ckpt.weights_path(chosen)
    if setting:
        return ckpt.place_in(reach, setting)
    if graph_path is not None:
        return graph_path.with_suffix(".safetensors")
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in (graph_name or "graph"))
    return reach.folder / f"{stem}.safetensors"


def save_run(target: Path, networks: Mapping[str, nn.Module], updates: Sequence[Any], epoch: int, step: int,
             best: EpochEvent | None) -> Path:
    """Write the weights and the run's state (``updates``: the recipe's, each with its optimizer and
    scaler); returns the weights path."""
    state = ckpt.TrainingState(
        epoch=epoch, step=step,
        optimizers={str(i): u.optimizer.state_dict() for i, u in enumerate(updates)},
        best=best.to_json() if best is not None else None,
        scaler={str(i): u.scaler.state_dict() for i, u in enumerate(updates) if u.scaler is not None} or None,
        rng=ckpt.rng_state(),
    )
    return ckpt.save(target, networks, state)


def load_run(path: Path, networks: Mapping[str, nn.Module], updates: Sequence[Any]) -> tuple[int, int]:
    """Put a checkpoint's weights, optimizer and scaler states and random generators into this run;
    returns the epoch and step it had reached. ``CheckpointError`` names the part that does not fit."""
    state = ckpt.load(path, networks)
    where = ckpt.state_path(path)
    if set(state.optimizers) != {str(i) for i in range(len(updates))}:
        raise ckpt.CheckpointError(f"{where}: optimizers: holds {len(state.optimizers)} optimizer(s) "
                                   f"({', '.join(map(repr, state.optimizers)) or 'none'}), this run has "
                                   f"{len(updates)}")
    for i, u in enumerate(updates):
        load_optimizer(u.optimizer, state.optimizers[str(i)], f"{where}: optimizers.{i}")
        if u.scaler is not None and state.scaler and str(i) in state.scaler:
            try:
                u.scaler.load_state_dict(state.scaler[str(i)])
            except (KeyError, ValueError, TypeError, RuntimeError) as exc:
                raise ckpt.CheckpointError(f"{where}: scaler.{i}: does not fit this run ({exc})") from None
    if state.rng is not None:
        try:
            ckpt.set_rng_state(state.rng)  # dropout and noise go on as in the unbroken run
        except (RuntimeError, TypeError, ValueError) as exc:
            raise ckpt.CheckpointError(f"{where}: rng: not a random generator's state ({exc})") from None
    return state.epoch, state.step


def load_optimizer(optimizer: torch.optim.Optimizer, saved: dict[str, Any], where: str) -> None:
    """``saved`` into ``optimizer``, refused (``CheckpointError`` naming ``where``) unless it fits
    this run's parameters: torch checks the groups' sizes, but a moment of the wrong shape would
    only fail at the first step."""
    before = optimizer.state_dict()
    try:
        optimizer.load_state_dict(saved)
    except (KeyError, ValueError, TypeError, RuntimeError, IndexError) as exc:
        raise ckpt.CheckpointError(f"{where}: does not fit this run's optimizer ({exc})") from None
    params = [p for group in optimizer.param_groups for p in group["params"]]
    for index, p in enumerate(params):
        for name, value in optimizer.state.get(p, {}).items():
            if isinstance(value, torch.Tensor) and value.dim() > 0 and value.shape != p.shape:
                optimizer.load_state_dict(before)
                raise ckpt.CheckpointError(f"{where}: state.{index}.{name} has shape {list(value.shape)}, its "
                                           f"parameter {list(p.shape)}")
            if not (value is None or isinstance(value, (torch.Tensor, int, float))) or isinstance(value, bool):
                optimizer.load_state_dict(before)
                raise ckpt.CheckpointError(f"{where}: state.{index}.{name}: must be a tensor or a number")
