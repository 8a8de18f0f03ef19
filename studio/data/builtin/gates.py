"""Logic gates on the four corners of the unit square: AND, OR, NAND, NOR (one line splits them), XOR, XNOR (none does)."""

from __future__ import annotations

from typing import Any

from blocks import Param

from ..assemble import assemble
from ..catalog import DatasetInfo, register
from ..options import SPLIT, STANDARDIZE, with_defaults
from .toy import four_corners

# gate -> its output on the corners (0,0), (0,1), (1,0), (1,1)
TRUTH = {
    "AND": (0, 0, 0, 1),
    "OR": (0, 1, 1, 1),
    "NAND": (1, 1, 1, 0),
    "NOR": (1, 0, 0, 0),
    "XOR": (0, 1, 1, 0),
    "XNOR": (1, 0, 0, 1),
}


def _gates(o: dict[str, Any], base) -> Any:
    x, y = four_corners(TRUTH[o["gate"]], o)
    return assemble("gates", "classification", x, y, o, class_names=["0", "1"])


register(DatasetInfo(
    "gates", "classification",
    "A logic gate on the four corners of the unit square: AND, OR, NAND and NOR are split by one straight line, "
    "XOR and XNOR are not.",
    (
        Param("gate", "choice", "AND", "the gate whose output labels the corners", choices=tuple(TRUTH)),
        Param("replicas", "int", 0, "0: the four points exactly; n: n noisy copies of each corner", min=0, max=10000),
        Param("noise", "float", 0.1, "standard deviation of the Gaussian noise on each copy (with replicas)",
              min=0.0, max=5.0),
        *with_defaults(SPLIT, val_fraction=0.0), STANDARDIZE,
    ),
    _gates,
    suggested={'optimizer': {'name': 'adam', 'lr': 0.05}, 'batch_size': 4, 'epochs': 100},
))
