"""Studio: a visual network builder.

The public API (``studio.load``, ``studio.save``, ``studio.compile``,
``studio.Graph``, ``studio.validate``) lives in ``studio.api`` and is imported
on first use, so ``import studio`` stays cheap and never imports Qt or torch.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["Graph", "apply_fix", "check", "compile", "compile_networks", "load", "save", "validate"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("studio.api"), name)
    raise AttributeError(f"module 'studio' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
