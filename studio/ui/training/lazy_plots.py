"""Plots made when their tab is first shown, not when the training dock is built.

Most runs never show most of the dock's tabs, and every plot made up front is
paid for by each window at start. A view mixes in ``PlotsWhenShown``, names
the attributes its plots live in (``PLOTS``) and makes them in
``build_plots``; they are made at its first ``showEvent``, or as soon as
anything reads one of them (a test, a screenshot), whichever comes first.
While they are not made, the view keeps what it is fed and draws it in
``plots_built`` (called once they are).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QWidget

from .plot_style import style_plots

# What a pyqtgraph view asks its layout for (QGraphicsView's default): a place holder asks the
# same, so the dock's tabs and splitter are laid out as they were when every plot was made at once.
PLOT_HINT = QSize(600, 480)
PLOT_MINIMUM = QSize(68, 68)


class PlotPlace(QWidget):
    """Where a view's plot goes, until it is made."""

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        return PLOT_HINT

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        return PLOT_MINIMUM


class PlotsWhenShown:
    PLOTS: tuple[str, ...] = ()  # attributes ``build_plots`` sets
    plots_built = False

    def build_plots(self) -> None:
        """Make the plots and put them in place (``put_plot``)."""
        raise NotImplementedError

    def plot_place(self) -> PlotPlace:
        """A place holder to lay out where the plot will go (made once, in ``__init__``)."""
        self._plot_place = PlotPlace()
        return self._plot_place

    def put_plot(self, widget: QWidget) -> None:
        """``widget`` where the place holder was, with its stretch."""
        place = self.__dict__.pop("_plot_place")
        self.layout().replaceWidget(place, widget)
        place.deleteLater()

    def plots_made(self) -> None:
        """Once the plots exist: draw what was fed while they did not."""

    def ensure_plots(self) -> bool:
        """Make the plots if they are not yet; True when this call made them."""
        if self.plots_built:
            return False
        self.plots_built = True
        self.build_plots()
        style_plots(self)  # the theme's colours, as the panel gave the plots made with it
        self.plots_made()
        return True

    def __getattr__(self, name: str) -> Any:
        # Only reached for attributes not set yet: a plot asked for before the tab was shown.
        if name in type(self).PLOTS and not self.__dict__.get("plots_built", False):
            self.ensure_plots()
            return getattr(self, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        self.ensure_plots()
        super().showEvent(event)
