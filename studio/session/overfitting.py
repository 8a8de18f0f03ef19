"""When does validation start to go the wrong way? Plain numbers, no Qt."""

from __future__ import annotations

from typing import Sequence


NOISE_FLOOR = 0.02


def overfit_epoch(train: Sequence[float], val: Sequence[float], patience: int = 3,
                  tolerance: float = 0.05) -> int | None:
    """The 1-based epoch after which the network overfits, or None.

    Overfitting here means: validation loss has stayed clearly above its best
    for ``patience`` epochs while the training loss kept falling.
    """
    n = min(len(train), len(val))
    if n < patience + 1:
        return None
    best = min(range(n), key=lambda i: val[i])
    if n - 1 - best < patience:
        return None
    # Above the best by ``tolerance`` of it, and by 2% of the first epoch's loss, so jitter in a
    # loss that is already tiny is not called overfitting.
    threshold = val[best] + max(tolerance * abs(val[best]), NOISE_FLOOR * abs(val[0]))
    if not all(v > threshold for v in val[best + 1: n][-patience:]):
        return None
    if not train[n - 1] < train[best]:
        return None
    return best + 1


def ema(values: Sequence[float], weight: float, state: tuple[float, int]) -> tuple[list[float], tuple[float, int]]:
    """Debiased exponential moving average, continued from ``state`` (sum, count).

    The same smoothing TensorBoard shows: early points are not dragged to 0.
    """
    acc, count = state
    out = []
    for v in values:
        acc = weight * acc + (1 - weight) * v
        count += 1
        out.append(acc / (1 - weight ** count))
    return out, (acc, count)
