"""What an export refuses."""

from __future__ import annotations


class ExportError(ValueError):
    """The graph is valid but cannot be exported in the asked format; the message says why."""
