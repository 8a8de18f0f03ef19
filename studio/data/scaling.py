"""Standardisation fitted on the training part only, so validation stays unseen."""

from __future__ import annotations

from dataclasses import dataclass

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


@dataclass
class Scaler:
    """``x' = (x - shift) / scale``, with ``shift``/``scale`` broadcastable to one sample.

    Statistics are per feature for ``[F]`` samples, per channel for images
    ``[C, H, W]`` and per last axis for sequences ``[L, F]``.
    """

    method: str  # "zscore" or "minmax"
    shift: torch.Tensor
    scale: torch.Tensor

    def apply(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.shift.to(x.device)) / self.scale.to(x.device)

    def invert(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale.to(x.device) + self.shift.to(x.device)


def _reduce_dims(x: torch.Tensor) -> tuple[int, ...]:
    # Dimensions the statistics run over (the sample axis always).
    if x.dim() == 4:  # [n, C, H, W]: per channel
        return (0, 2, 3)
    return tuple(range(x.dim() - 1)) if x.dim() > 2 else (0,)


def fit_scaler(method: str, x: torch.Tensor) -> Scaler:
    import torch

    dims = _reduce_dims(x)
    wide = x.double()  # sums of float32 values near their limit would overflow
    if method == "zscore":
        shift = wide.mean(dim=dims, keepdim=True)
        scale = wide.std(dim=dims, keepdim=True, unbiased=False)
    elif method == "minmax":
        shift = wide.amin(dim=dims, keepdim=True)
        scale = wide.amax(dim=dims, keepdim=True) - shift
    else:
        raise ValueError(method)
    dtype = x.dtype if x.dtype.is_floating_point else torch.float32
    shift, scale = finish_scale(shift[0], scale[0], dtype)
    return Scaler(method, shift, scale)


def finish_scale(shift: torch.Tensor, scale: torch.Tensor, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """Float64 statistics as the ``dtype`` shift and scale a Scaler applies."""
    import torch

    limits = torch.finfo(dtype)
    # A constant feature keeps its values instead of dividing by zero; so does one whose spread is
    # below the smallest normal float (dividing by it gives infinity); a spread beyond float32 is capped.
    scale = torch.where(scale >= limits.tiny, scale.clamp(max=limits.max), torch.ones_like(scale))
    return shift.to(dtype), scale.to(dtype)
