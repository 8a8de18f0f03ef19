"""Dark and light themes: the Qt palette for widgets and the colours the
canvas draws with. Items read the current theme each time they paint, so a
theme switch is a repaint, not a rebuild."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QPainter, QPalette, QPen
from PySide6.QtWidgets import QApplication, QProxyStyle, QStyle

import blocks

# For a category the block registry does not know.
FALLBACK_CATEGORY_COLOR = "#7b8794"


@dataclass(frozen=True)
class Theme:
    name: str
    window: str
    base: str
    alt_base: str
    text: str
    dim_text: str
    highlight: str
    canvas: str
    grid_minor: str
    grid_major: str
    node_body: str
    node_border: str
    node_text: str
    node_dim_text: str
    selection: str
    wire: str
    wire_hover: str
    wire_refused: str
    label_bg: str
    label_text: str
    error: str
    warning: str
    port: str

    def category_color(self, category: str) -> QColor:
        """The accent colour its registry entry gives ``category``; the same on both themes."""
        entry = blocks.category(category)
        return QColor(entry.color if entry is not None else FALLBACK_CATEGORY_COLOR)


DARK = Theme(
    name="dark", window="#23262b", base="#1b1d21", alt_base="#25282d", text="#e3e6ea", dim_text="#9aa3ad",
    highlight="#3d7be0", canvas="#1c1e22", grid_minor="#25282d", grid_major="#2e3238",
    node_body="#2d3138", node_border="#454b54", node_text="#eef1f4", node_dim_text="#a3acb7",
    selection="#f0b43c", wire="#8a94a3", wire_hover="#c9d1dc", wire_refused="#e5534b",
    label_bg="#30353d", label_text="#d7dde5", error="#e5534b", warning="#d9a33b", port="#c9d1dc",
)

LIGHT = Theme(
    name="light", window="#eef0f3", base="#ffffff", alt_base="#f5f6f8", text="#1f2328", dim_text="#5d6670",
    highlight="#2f6fd6", canvas="#f7f8fa", grid_minor="#eceef1", grid_major="#dde1e6",
    node_body="#ffffff", node_border="#c5ccd5", node_text="#1f2328", node_dim_text="#5d6670",
    selection="#e09a12", wire="#7d8896", wire_hover="#3a4450", wire_refused="#d1242f",
    label_bg="#ffffff", label_text="#33404d", error="#d1242f", warning="#b7791f", port="#55606d",
)

THEMES = {"dark": DARK, "light": LIGHT}

_current = DARK


def current() -> Theme:
    return _current


class StudioStyle(QProxyStyle):
    """Fusion, with check boxes whose empty box shows on either theme.

    Fusion outlines a check box with the window colour made darker: on the dark theme that is
    near black on a near-black list, so an unticked box (the Runs list, a setting) could not be
    seen until it was ticked. The outline is drawn again in the theme's dim text colour.
    """

    CHECKS = (QStyle.PrimitiveElement.PE_IndicatorCheckBox, QStyle.PrimitiveElement.PE_IndicatorItemViewItemCheck)

    def __init__(self) -> None:
        super().__init__("Fusion")

    def drawPrimitive(self, element, option, painter, widget=None) -> None:  # noqa: N802 (Qt name)
        super().drawPrimitive(element, option, painter, widget)
        if element in self.CHECKS:
            rect = QRectF(option.rect).adjusted(0.5, 0.5, -1.5, -1.5)
            if element == QStyle.PrimitiveElement.PE_IndicatorItemViewItemCheck:
                size = self.pixelMetric(QStyle.PixelMetric.PM_IndicatorWidth, option, widget)
                rect = QRectF(0, 0, size, size)
                rect.moveCenter(QRectF(option.rect).center())
                rect.adjust(0.5, 0.5, -1.5, -1.5)
            painter.save()
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            painter.setPen(QPen(QColor(_current.dim_text), 1))
            painter.setBrush(QColor(0, 0, 0, 0))
            painter.drawRoundedRect(rect, 1.5, 1.5)
            painter.restore()


_applied: tuple[int, str] | None = None  # (application, theme) last given to Qt


def apply(name: str, app: QApplication | None = None) -> Theme:
    """Make ``name`` the current theme and give the application its palette."""
    global _current, _applied
    theme = THEMES.get(name, DARK)
    _current = theme
    app = app or QApplication.instance()
    if app is not None and _applied != (id(app), theme.name):
        # Only on a change: a new palette and style sheet re-polish every widget of the app.
        _applied = (id(app), theme.name)
        if not isinstance(app.style(), StudioStyle):
            app.setStyle(StudioStyle())  # the same look on every platform, and it follows the palette
        app.setPalette(_palette(theme))
        app.setStyleSheet(_stylesheet(theme))
    return theme


def _palette(t: Theme) -> QPalette:
    p = QPalette()
    roles = {
        QPalette.Window: t.window, QPalette.WindowText: t.text, QPalette.Base: t.base,
        QPalette.AlternateBase: t.alt_base, QPalette.Text: t.text, QPalette.Button: t.window,
        QPalette.ButtonText: t.text, QPalette.Highlight: t.highlight, QPalette.HighlightedText: "#ffffff",
        QPalette.ToolTipBase: t.alt_base, QPalette.ToolTipText: t.text, QPalette.PlaceholderText: t.dim_text,
        QPalette.Link: t.highlight,
    }
    for role, color in roles.items():
        p.setColor(role, QColor(color))
    for role in (QPalette.WindowText, QPalette.Text, QPalette.ButtonText):
        p.setColor(QPalette.Disabled, role, QColor(t.dim_text))
    return p


def _stylesheet(t: Theme) -> str:
    return f"""
    QToolTip {{ color: {t.text}; background: {t.alt_base}; border: 1px solid {t.node_border}; padding: 4px; }}
    QDockWidget::title {{ padding: 5px 8px; background: {t.window}; }}
    QLineEdit[invalid="true"] {{ border: 1px solid {t.error}; }}
    QLabel#paramError {{ color: {t.error}; }}
    QLabel#hint {{ color: {t.dim_text}; }}
    QFrame#quickSearch {{ background: {t.alt_base}; border: 1px solid {t.node_border}; border-radius: 6px; }}
    """
