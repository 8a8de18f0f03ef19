"""How tall the Training dock starts: room for its plots, never most of the window.

Apart from the dock so that the window can give its place holder this height
before the panel (and what it imports) is made: the dock does not jump when
the panel takes its place.
"""

from __future__ import annotations

MIN_DOCK_HEIGHT = 240
DOCK_HEIGHT = 420  # the plots and the set-up form need about this much to read
DOCK_SHARE = 0.46  # of the window's height at most, so the canvas keeps the larger part
MAX_SHARE = 0.7  # however the person sizes it, a window that grows leaves the canvas this much


def dock_height(window_height: int) -> int:
    """The Training dock's first height: room for its plots, never most of the window."""
    return max(MIN_DOCK_HEIGHT, min(DOCK_HEIGHT, int(window_height * DOCK_SHARE)))
