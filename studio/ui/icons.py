"""Icons drawn as SVG in assets/icons, one per block category. SVG keeps
them crisp at any device pixel ratio."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PySide6.QtGui import QIcon

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "icons"

CATEGORY_FILES = {
    "Input & structure": "structure.svg",
    "Dense": "dense.svg",
    "Activation": "activation.svg",
    "Convolution": "convolution.svg",
    "Sequence": "sequence.svg",
    "Graph": "graph.svg",
}


def category_icon_path(category: str) -> Path:
    return ASSETS / CATEGORY_FILES.get(category, "block.svg")


@lru_cache(maxsize=None)
def category_icon(category: str) -> QIcon:
    return QIcon(str(category_icon_path(category)))


@lru_cache(maxsize=None)
def app_icon() -> QIcon:
    return QIcon(str(ASSETS / "studio.svg"))
