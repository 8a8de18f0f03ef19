"""Colours shared by the live views: one per class, and a scale for gradient norms."""

from __future__ import annotations

import math

import numpy as np

# Tableau 10: distinct for the first ten classes, readable on white.
CLASS_COLORS = np.array([
    (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
    (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207),
], dtype=np.float64)


def class_color(i: int) -> tuple[int, int, int]:
    r, g, b = CLASS_COLORS[int(i) % len(CLASS_COLORS)]
    return int(r), int(g), int(b)


def series_color(i: int) -> tuple[int, int, int]:
    """The colour of the ``i``-th of many curves: the class colours, then the same hues paler, then
    darker (a network of 16 layers would give its first and eleventh the same colour)."""
    base = CLASS_COLORS[int(i) % len(CLASS_COLORS)]
    turn = (int(i) // len(CLASS_COLORS)) % 3
    if turn == 1:
        base = base + (255.0 - base) * 0.45
    elif turn == 2:
        base = base * 0.6
    r, g, b = base
    return int(r), int(g), int(b)


def prediction_field(classes: np.ndarray, confidence: np.ndarray, n_classes: int | None = None) -> np.ndarray:
    """RGB image [H, W, 3] uint8: each cell the predicted class's colour, paler where unsure.

    Confidence runs from 1/n (a guess) to 1; a guess is drawn almost white so
    the boundary shows as a pale seam between the coloured regions.
    """
    classes = np.asarray(classes, dtype=np.int64)
    conf = np.clip(np.nan_to_num(np.asarray(confidence, dtype=np.float64), nan=0.0), 0.0, 1.0)
    n = n_classes or max(2, int(classes.max()) + 1 if classes.size else 2)
    floor = 1.0 / n
    strength = np.clip((conf - floor) / max(1e-9, 1.0 - floor), 0.0, 1.0)
    strength = 0.15 + 0.55 * strength  # never fully saturated: the data points must stand out
    base = CLASS_COLORS[classes % len(CLASS_COLORS)]
    rgb = 255.0 * (1 - strength[..., None]) + base * strength[..., None]
    return rgb.astype(np.uint8)


# Gradient norms: blue when they vanish, green when healthy, red when they explode.
VANISHING = 1e-5
EXPLODING = 1e2


def gradient_flag(norm: float) -> str | None:
    """"vanishing", "exploding" or None for a node's gradient norm."""
    if not math.isfinite(norm) or norm > EXPLODING:
        return "exploding"
    if norm < VANISHING:
        return "vanishing"
    return None


def gradient_rgb(norm: float) -> tuple[int, int, int]:
    """A wire's colour for a gradient norm, on a log scale from VANISHING to EXPLODING."""
    if not math.isfinite(norm):
        return (214, 39, 40)
    lo, hi = math.log10(VANISHING), math.log10(EXPLODING)
    t = (math.log10(max(norm, 1e-30)) - lo) / (hi - lo)
    t = min(1.0, max(0.0, t))
    cold, mid, hot = np.array((31, 119, 180.0)), np.array((44, 160, 44.0)), np.array((214, 39, 40.0))
    c = cold + (mid - cold) * (t / 0.5) if t < 0.5 else mid + (hot - mid) * ((t - 0.5) / 0.5)
    return int(c[0]), int(c[1]), int(c[2])
