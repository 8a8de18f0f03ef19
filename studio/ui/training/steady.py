"""Labels whose size does not follow their text while a run streams into them.

A QLabel that changes its text asks its window to lay itself out again; when
the new text is wider or wraps onto another line, the plots beside it are
resized, and a resized plot lays out and draws its axes again, all on the UI
thread while the trainer waits for the interpreter lock. These labels keep one
size for the whole run (set from the longest text they expect, or a number of
lines) and skip text that did not change, so an update repaints the label and
nothing else.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


class SteadyLabel(QLabel):
    """A label of a fixed number of lines (wrapped) or of the width of ``template`` (one line)."""

    def __init__(self, text: str = "", lines: int = 1, template: str | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        metrics = self.fontMetrics()
        margins = self.contentsMargins()
        self.setFixedHeight(metrics.lineSpacing() * lines + margins.top() + margins.bottom() + 2)
        if template is not None:
            self.setFixedWidth(metrics.horizontalAdvance(template) + margins.left() + margins.right() + 4)
        else:
            self.setWordWrap(lines > 1)
            # From the top: text longer than the lines loses its end, not its first line.
            self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
            # The layout gives the label its width; the text never widens it.
            self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setToolTip(text)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt name)
        if text != self.text():
            super().setText(text)
            # Text longer than the label's lines is cut off: the tooltip keeps all of it.
            self.setToolTip(text)
