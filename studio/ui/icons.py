"""Icons drawn as SVG in assets/icons, one per block category (named by the
category's registry entry). SVG keeps them crisp at any device pixel ratio."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PySide6.QtCore import QSize
from PySide6.QtGui import QIcon, QPixmap

import blocks

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "icons"

# For a category the block registry does not know.
FALLBACK_ICON = "block.svg"


def category_icon_path(category: str) -> Path:
    entry = blocks.category(category)
    return ASSETS / (entry.icon if entry is not None else FALLBACK_ICON)


@lru_cache(maxsize=None)
def category_icon(category: str) -> QIcon:
    return QIcon(str(category_icon_path(category)))


@lru_cache(maxsize=256)
def category_pixmap(category: str, pixels: int) -> QPixmap:
    """The category's icon drawn ``pixels`` square: as many device pixels as it covers on screen, so a
    zoomed-in canvas shows it sharp (a 16 px picture scaled up by the view is blurred)."""
    return category_icon(category).pixmap(QSize(pixels, pixels))


@lru_cache(maxsize=None)
def app_icon() -> QIcon:
    return QIcon(str(ASSETS / "studio.svg"))
