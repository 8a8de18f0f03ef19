"""The few modules torch.nn lacks, written here in plain torch.

Compiled graphs refer to these by import path, so they are public and stable.
"""

from __future__ import annotations

import torch
from torch import nn


class _HeavisideSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return (x > 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad


class Heaviside(nn.Module):
    """The perceptron's step, y = 1 if x > 0 else 0.

    Its true derivative is zero everywhere, so backpropagation passes the
    gradient straight through, which trains a single perceptron much like the
    classic perceptron rule.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _HeavisideSTE.apply(x)
