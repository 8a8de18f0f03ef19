"""A training run as plain data, below the window: what the views draw and the run history keeps.

``Run`` takes the trainer's events as they arrive and holds the run's curves
(``LossCurves``: every step's loss, its smoothing, the learning rate, the
per-epoch losses and accuracies, the overfitting marker), its progress and its
outcome. The views in ``studio.ui.training`` draw from it; the run history
reads it. No Qt here (as napari keeps its ``components`` apart from ``_qt``).
"""

from .curves import LossCurves
from .run import Run

__all__ = ["LossCurves", "Run"]
