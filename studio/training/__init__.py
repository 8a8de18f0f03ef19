"""Training, headless: the configuration, the ``Trainer`` and what it reports.

No Qt here: the UI runs a ``Trainer`` on a worker thread and turns its events
into plots; ``studio train`` turns them into lines. The names below are loaded
when first used, so ``studio.training.config`` and ``studio.training.preflight``
can be read (the window's status bar) without importing torch.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_WHERE = {
    "ConfigError": "config", "TrainingConfig": "config",
    "ActivationStats": "events", "BoundaryGrid": "events", "EndEvent": "events", "EpochEvent": "events",
    "Event": "events", "ProbeEvent": "events", "StepsEvent": "events",
    "RunResult": "trainer", "Trainer": "trainer", "TrainingSetupError": "errors",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{_WHERE[name]}", __name__), name)
    globals()[name] = value
    return value
