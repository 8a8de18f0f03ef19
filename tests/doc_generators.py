"""The scripts in docs/ that write a page from the code, loaded as modules for the tests that keep
those pages current."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

DOCS = Path(__file__).resolve().parents[1] / "docs"


def load_generator(name: str) -> ModuleType:
    """``docs/<name>.py`` as a module."""
    spec = importlib.util.spec_from_file_location(name, DOCS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
