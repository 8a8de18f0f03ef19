"""A saliency map as a PNG a person can look at: summed over channels, scaled to its
own maximum, coloured black -> red -> yellow -> white, and enlarged without blurring
(each input pixel a square block) so that an 8 x 8 digit is not a smudge."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

MIN_SIDE = 256  # the shorter side of the PNG, in pixels, at least


def heat_colours(saliency: np.ndarray) -> np.ndarray:
    """[C, H, W] or [H, W] saliency -> [H, W, 3] uint8, the "hot" colour map over 0..max."""
    a = np.asarray(saliency, dtype=np.float64)
    if a.ndim == 3:
        a = a.sum(axis=0)
    if a.ndim == 1:  # a flattened square image
        side = int(round(np.sqrt(a.size)))
        a = a.reshape(side, side) if side * side == a.size else a[None]
    top = float(a.max()) if a.size else 0.0
    v = a / top if top > 0 else np.zeros_like(a)
    rgb = np.stack([np.clip(3 * v, 0, 1), np.clip(3 * v - 1, 0, 1), np.clip(3 * v - 2, 0, 1)], axis=-1)
    return (rgb * 255).round().astype(np.uint8)


def write_heat_map(saliency: np.ndarray, target: Path) -> Path:
    """Write the heat map of ``saliency`` to ``target`` (a temporary name beside it, then renamed)."""
    from PIL import Image

    rgb = heat_colours(saliency)
    h, w = rgb.shape[:2]
    factor = max(1, -(-MIN_SIDE // max(min(h, w), 1)))
    big = np.repeat(np.repeat(rgb, factor, axis=0), factor, axis=1)
    target = Path(target)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        Image.fromarray(big, "RGB").save(tmp, format="PNG")
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target
