import pytest
from file_samples import small_graph

from studio.graph import Graph


@pytest.fixture
def graph() -> Graph:
    return small_graph()
