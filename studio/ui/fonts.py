"""The Chinese of the lessons, drawn on any machine.

A machine without a CJK font shows Chinese as boxes, so Studio bundles the glyphs its lessons
use (assets/fonts/NotoSansSC-Lessons.otf, made by tools/make_cjk_font.py). Widgets that show
lesson texts get the families [their own, the bundled one]: English keeps the UI font, and Qt
takes each Chinese character from the first family that has it.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QWidget

CHINESE_FONT = Path(__file__).resolve().parents[2] / "assets" / "fonts" / "NotoSansSC-Lessons.otf"


@lru_cache(maxsize=1)
def chinese_family() -> str | None:
    """Register the bundled font with Qt (once, about 10 ms) and return its family, or None
    when the file is missing or unreadable (Chinese then comes from the system's fonts, if any)."""
    font_id = QFontDatabase.addApplicationFont(str(CHINESE_FONT))
    families = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
    return families[0] if families else None


def show_chinese(widget: QWidget) -> None:
    """Let ``widget`` and every widget in it, now or later, draw Chinese from the bundled font.

    A style sheet rather than ``QFont.setFamilies``: under the app's style sheet Qt hands a
    child only its parent's first family, and drops a widget's own list when it is moved into a
    dock. ``widget`` must have no style sheet of its own; sizes and weights stay as they are."""
    family = chinese_family()
    if family is not None:
        widget.setStyleSheet(f'font-family: "{widget.font().family()}", "{family}";')
