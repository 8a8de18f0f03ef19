"""The training dock: data set, settings, Train/Pause/Stop and the live views.

``install(main_window)`` puts a ``TrainingPanel`` for the window's document
into its "Training" dock and wires the panel to the editor (selection, problem
navigation, gradient colours on the wires).
"""

from __future__ import annotations

from typing import Any

__all__ = ["TrainingPanel", "install"]


def __getattr__(name: str) -> Any:
    # Lazy: importing the package must not pull in pyqtgraph and torch on the start-up path.
    if name == "TrainingPanel":
        from .panel import TrainingPanel

        return TrainingPanel
    raise AttributeError(name)


def install(main_window: Any):
    from .dock import install as _install

    return _install(main_window)
