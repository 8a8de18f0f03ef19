"""A small spiral network from the example file, trained briefly; the panel around it."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from studio.files import load
from studio.ui.training.panel import TrainingPanel

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "spiral_mlp.json"


def spiral_graph(epochs: int = 6, points: int = 60, every: int = 3):
    graph = load(EXAMPLE)
    training = dict(graph.training)
    training["dataset"] = {**training["dataset"], "points": points}
    training.update(epochs=epochs, batch_size=16, threads=1, probes={"every": every, "grid": 24, "budget": 1.0})
    graph.set_training(training)
    return graph


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


@pytest.fixture
def spiral():
    """Builds the spiral network with small, fast training settings."""
    return spiral_graph


@pytest.fixture
def make_panel(qtbot):
    panels = []

    def make(graph=None, **kwargs) -> TrainingPanel:
        panel = TrainingPanel(graph if graph is not None else spiral_graph(**kwargs))
        qtbot.addWidget(panel)
        panel.resize(1200, 700)
        panel.show()
        panels.append(panel)
        return panel

    yield make
    for panel in panels:  # a thread left running would take the test process down
        panel.shutdown()
        if panel.session is not None:
            qtbot.waitUntil(lambda p=panel: p.session is None, timeout=10_000)
