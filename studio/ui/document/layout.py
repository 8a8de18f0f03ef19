"""Auto-layout for the editor: the graph's own layered positions (``studio.graph.layout``),
which an imported model is laid out with too."""

from studio.graph.layout import BAND_COLUMNS, COLUMN, MAX_COLUMNS, layered_positions

__all__ = ["BAND_COLUMNS", "COLUMN", "MAX_COLUMNS", "layered_positions"]
