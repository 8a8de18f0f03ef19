"""Training, headless: the configuration, the ``Trainer`` and what it reports.

No Qt here: the UI runs a ``Trainer`` on a worker thread and turns its events
into plots; ``studio train`` turns them into lines.
"""

from .config import ConfigError, TrainingConfig
from .events import ActivationStats, BoundaryGrid, EndEvent, EpochEvent, Event, ProbeEvent, StepsEvent
from .trainer import RunResult, Trainer, TrainingSetupError

__all__ = [
    "ActivationStats", "BoundaryGrid", "ConfigError", "EndEvent", "EpochEvent", "Event", "ProbeEvent",
    "RunResult", "StepsEvent", "Trainer", "TrainingConfig", "TrainingSetupError",
]
