"""Fixtures for driving the editor like a person: a main window with its own
temporary settings; the helpers that send real input live in ``person.py``."""

from __future__ import annotations

import pytest

from person import (  # noqa: F401 (fixtures and helpers the UI tests import from here)
    Answers, _private_settings, answers, config_dir, drag, make_window, mouse_move, node_point, palette_drag,
    port_point, scene_agrees, view_point, wire,
)


@pytest.fixture
def window(make_window):
    return make_window()
