"""Per-batch image augmentation that runs on the batch's own device, no host round trip."""

from __future__ import annotations

from dataclasses import dataclass

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class Augmentation:
    flip: bool = False  # left-right, each sample with probability 1/2
    shift: int = 0  # up to this many pixels in each direction, zero fill
    noise: float = 0.0  # std of added Gaussian noise

    @property
    def active(self) -> bool:
        return self.flip or self.shift > 0 or self.noise > 0

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        import torch

        if self.flip:
            x = _flip(x, generator)
        if self.shift > 0:
            x = _shift(x, self.shift, generator)
        if self.noise > 0:
            x = x + self.noise * torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        return x


def _flip(x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    import torch

    pick = torch.rand(x.shape[0], generator=generator, device=x.device) < 0.5
    pick = pick.view(-1, *([1] * (x.dim() - 1)))
    return torch.where(pick, x.flip(-1), x)


def _shift(x: torch.Tensor, s: int, generator: torch.Generator | None) -> torch.Tensor:
    import torch

    n, c, h, w = x.shape
    dy = torch.randint(-s, s + 1, (n,), generator=generator, device=x.device)
    dx = torch.randint(-s, s + 1, (n,), generator=generator, device=x.device)
    padded = torch.nn.functional.pad(x, (s, s, s, s))
    # One gather for the whole batch: row/column indices offset per sample.
    rows = torch.arange(h, device=x.device)[None, :] + s - dy[:, None]  # [n, H]
    cols = torch.arange(w, device=x.device)[None, :] + s - dx[:, None]  # [n, W]
    batch = torch.arange(n, device=x.device)[:, None, None, None]
    chan = torch.arange(c, device=x.device)[None, :, None, None]
    return padded[batch, chan, rows[:, None, :, None], cols[:, None, None, :]]
