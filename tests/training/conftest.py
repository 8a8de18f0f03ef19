"""Fixtures the training tests share."""

from __future__ import annotations

import pytest
from training_graphs import mlp

from studio.graph import Graph


@pytest.fixture
def spiral_graph() -> Graph:
    return mlp()
