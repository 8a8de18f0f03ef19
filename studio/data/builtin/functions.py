"""One-dimensional regression: y = f(x) + noise for a few curves, from a line to a step."""

from __future__ import annotations

from typing import Any

import numpy as np
from blocks import Param

from ..assemble import assemble
from ..catalog import DatasetInfo, register
from ..options import SPLIT, STANDARDIZE

# kind -> (f, the x range it is drawn on before x_scale and x_shift), simplest first:
# a curriculum for one hidden layer, from what one Linear fits to what needs many units.
CURVES = {
    # Not centred on purpose: x in [1, 4] makes the loss surface a long narrow valley,
    # so plain SGD diverges at lr 1.0 and converges at lr 0.05.
    "line": (lambda x, o: o["slope"] * x + o["intercept"], (1.0, 4.0)),
    "abs": (lambda x, o: np.abs(x), (-2.0, 2.0)),
    "quadratic": (lambda x, o: x ** 2 - 1.0, (-2.0, 2.0)),
    "cubic": (lambda x, o: x ** 3 - 3.0 * x, (-2.0, 2.0)),
    "step": (lambda x, o: np.where(x > 0, 1.0, -1.0), (-2.0, 2.0)),
    "sine": (lambda x, o: np.sin(x), (-2 * np.pi, 2 * np.pi)),
    "bump": (lambda x, o: 2.0 * np.exp(-4.0 * x ** 2) - 1.0, (-2.0, 2.0)),
}


def x_range(o: dict[str, Any]) -> tuple[float, float]:
    """The x range of these options: the kind's own, stretched by x_scale about its middle, moved by x_shift."""
    low, high = CURVES[o["kind"]][1]
    middle, half = (low + high) / 2, (high - low) / 2 * o["x_scale"]
    return middle - half + o["x_shift"], middle + half + o["x_shift"]


def _function(o: dict[str, Any], base) -> Any:
    rng = np.random.default_rng(o["seed"])
    low, high = x_range(o)
    f = CURVES[o["kind"]][0]
    x = rng.uniform(low, high, o["points"])
    y = f(x, o) + rng.normal(0.0, o["noise"], o["points"])
    return assemble("function", "regression", x[:, None], y[:, None], o)


register(DatasetInfo(
    "function", "regression",
    "Regression on one number: y = f(x) + noise for a line, |x|, a parabola, a cubic, a step, a sine or a bump. "
    "Input [1], target [1]: the network's function can be drawn over the points.",
    (
        Param("kind", "choice", "sine", "the curve: line (slope x + intercept, x in [1, 4]), abs, quadratic, "
              "cubic, step, bump (x in [-2, 2]) or sine (two periods, x in [-2 pi, 2 pi])", choices=tuple(CURVES)),
        Param("points", "int", 200, "number of (x, y) points", min=2, max=1000000),
        Param("noise", "float", 0.1, "standard deviation of the Gaussian noise added to each y", min=0.0, max=100.0),
        Param("x_scale", "float", 1.0, "stretch the kind's x range about its middle by this factor", min=0.01, max=1000.0),
        Param("x_shift", "float", 0.0, "move the x range by this much (3 takes the line's x to [4, 7])",
              min=-1e6, max=1e6),
        Param("slope", "float", 2.0, "a in y = a x + b (kind line)", min=-1e6, max=1e6),
        Param("intercept", "float", 1.0, "b in y = a x + b (kind line)", min=-1e6, max=1e6),
        *SPLIT, STANDARDIZE,
    ),
    _function,
    suggested={'optimizer': {'name': 'adam', 'lr': 0.01}, 'batch_size': 32, 'epochs': 200},
))
