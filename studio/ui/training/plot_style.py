"""Making pyqtgraph plots cheap to repaint while a run streams into them.

A curve's update repaints its whole plot, axes and legend included; the axes
and legend are Python paint code. Cached as device pixmaps, they are blitted
instead and drawn again only when they themselves change (a new range, a new
legend entry).

The plots follow the app's theme: ``style_plots`` gives every plot under a
widget the current theme's background, axis and text colours.
"""

from __future__ import annotations

from dataclasses import dataclass

import math

import pyqtgraph as pg
from PySide6.QtGui import QFont, QFontMetricsF
from PySide6.QtWidgets import QGraphicsItem, QWidget

CACHE = QGraphicsItem.CacheMode.DeviceCoordinateCache
# Wide enough for a rotated axis name and ticks such as "-0.125" or "1e-05".
LEFT_AXIS_WIDTH = 62
# Major ticks of a vertical axis at least this many text lines apart, so their labels never touch.
TICK_GAP_LINES = 1.6


def steady_plot(plot: pg.PlotItem) -> pg.PlotItem:
    """Cache the axes, title and legend as pixmaps, and give the left axis a fixed width: an axis
    sized to its tick labels resizes the whole plot (and redraws every axis) when "0.5" becomes
    "0.25", many times a run. No SI prefixes either: an axis that picks one re-typesets its label
    and resizes on every range change, and "loss (x0.001)" only puzzles a learner."""
    for name in ("left", "bottom", "right", "top"):
        axis = plot.getAxis(name)
        if axis is not None:
            axis.setCacheMode(CACHE)
            axis.enableAutoSIPrefix(False)
    left = plot.getAxis("left")
    if left.fixedWidth is None:
        left.setWidth(LEFT_AXIS_WIDTH)
    for name in ("left", "right"):
        spaced_ticks(plot.getAxis(name))
    plot.titleLabel.setCacheMode(CACHE)
    if plot.legend is not None:
        plot.legend.setCacheMode(CACHE)
    return plot


def _next_nice(spacing: float) -> float:
    """The next spacing of the 1, 2, 5 series above ``spacing``."""
    exp = math.floor(math.log10(spacing))
    lead = round(spacing / 10 ** exp)
    return (2 if lead < 2 else 5 if lead < 5 else 10) * 10 ** exp


def spaced_ticks(axis: pg.AxisItem) -> None:
    """Keep a vertical axis's major ticks far enough apart for their labels: pyqtgraph puts two
    or three labels on however short an axis, and on a low plot they are drawn over each other."""
    if axis is None or getattr(axis, "_spaced", False):
        return
    auto = axis.tickSpacing

    def tick_spacing(min_val: float, max_val: float, size: float):
        levels = auto(min_val, max_val, size)
        span = abs(max_val - min_val)
        if not levels or not span or size <= 0 or axis._tickSpacing is not None:
            return levels
        font = axis.style.get("tickFont") or QFont()
        gap = TICK_GAP_LINES * QFontMetricsF(font).height() * span / size  # in axis units
        major = levels[0][0]
        if major >= gap:
            return levels
        while major < gap:
            major = _next_nice(major)
        # The old major spacing becomes the minor one: its ticks stay, unlabelled where crowded.
        return [(major, 0), (levels[0][0], 0)]

    axis.tickSpacing = tick_spacing
    axis._spaced = True


class GrowingYRange:
    """A y range that only grows to fit the data, never follows every wiggle.

    Auto-ranging moves the axis on every update, and a moved axis is laid out
    and drawn again in Python; a range that changes a handful of times per run
    costs next to nothing. ``log``: the plot's y axis is logarithmic.
    """

    def __init__(self, plot: pg.PlotItem, log: bool = False, floor: float | None = None) -> None:
        self.plot = plot
        self.log = log
        self.floor = floor
        self.lo: float | None = None
        self.hi: float | None = None
        plot.disableAutoRange(axis="y")

    def fit(self, lo: float, hi: float) -> bool:
        """Widen the range to hold [lo, hi]; True when the axis had to move."""
        import math

        if self.log:
            lo, hi = math.log10(max(lo, 1e-30)), math.log10(max(hi, 1e-30))
        if not (math.isfinite(lo) and math.isfinite(hi)):
            return False
        if self.lo is not None and self.lo <= lo and hi <= self.hi:
            return False
        span = max(hi - lo, 1e-12 if not self.log else 0.5)
        margin = 0.5 if self.log else 0.08 * span
        if self.lo is not None:
            # A side that must move moves by a quarter of the range at least: a curve creeping
            # past its edge moves the axis a few times, not on every redraw.
            margin = max(margin, 0.25 * (self.hi - self.lo))
        new_lo = lo - margin if self.lo is None else (self.lo if lo >= self.lo else lo - margin)
        new_hi = hi + margin if self.hi is None else (self.hi if hi <= self.hi else hi + margin)
        if self.floor is not None and not self.log:
            new_lo = max(new_lo, self.floor) if lo >= self.floor else new_lo
        self.lo, self.hi = new_lo, new_hi
        self.plot.setYRange(new_lo, new_hi, padding=0)
        return True

    def reset(self) -> None:
        self.lo = self.hi = None


# ---- colours that follow the app's theme ------------------------------------
@dataclass(frozen=True)
class PlotColors:
    """What the plots draw with on one theme's background."""

    background: str
    text: str
    dim_text: str
    legend_bg: tuple[int, int, int, int]
    legend_border: str
    train: str
    val: str
    lr: str
    raw: str  # each step's loss: the train colour, faint (opaque: it draws much faster than translucent)
    epoch_train: str  # the dashed epoch averages over the smoothed train curve
    warn: str


DARK_PLOTS = PlotColors(
    background="#1b1d21", text="#d7dde5", dim_text="#7d8894", legend_bg=(35, 38, 43, 200), legend_border="#454b54",
    train="#4c9be8", val="#ff9f43", lr="#4cc38a", raw="#2b4763", epoch_train="#a9d0f5", warn="#ff6b6b",
)
LIGHT_PLOTS = PlotColors(
    background="#ffffff", text="#1f2328", dim_text="#8a939d", legend_bg=(255, 255, 255, 200),
    legend_border="#c5ccd5", train="#1f77b4", val="#ff7f0e", lr="#2ca02c", raw="#c6dbef",
    epoch_train="#08306b", warn="#d62728",
)


def plot_colors(theme_name: str | None = None) -> PlotColors:
    """The plot colours for a theme; the app's current theme when none is named."""
    if theme_name is None:
        from studio.ui import theme

        theme_name = theme.current().name
    return LIGHT_PLOTS if theme_name == "light" else DARK_PLOTS


def style_plot(plot: pg.PlotItem, colors: PlotColors) -> None:
    """Axes, tick labels, title and legend in the theme's text colours."""
    for name in ("left", "bottom", "right", "top"):
        axis = plot.getAxis(name)
        if axis is not None:
            axis.setPen(pg.mkPen(colors.dim_text))
            axis.setTextPen(pg.mkPen(colors.text))
    title = plot.titleLabel
    if title.text:
        title.setText(title.text, color=colors.text)
    if plot.legend is not None:
        plot.legend.setLabelTextColor(colors.text)
        plot.legend.setBrush(pg.mkBrush(*colors.legend_bg))
        plot.legend.setPen(pg.mkPen(colors.legend_border))


def style_plots(root: QWidget, colors: PlotColors | None = None) -> PlotColors:
    """Give every pyqtgraph view under ``root`` (and ``root`` itself) the theme's background and text."""
    colors = colors or plot_colors()
    views = root.findChildren(pg.GraphicsView)
    if isinstance(root, pg.GraphicsView):
        views.insert(0, root)
    for view in views:
        view.setBackground(colors.background)
        for item in view.scene().items():
            if isinstance(item, pg.PlotItem):
                style_plot(item, colors)
    return colors


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def log_tick_strings(values, scale: float = 1.0) -> list[str]:
    """Tick labels of a log axis in one style: plain numbers while every tick reads well so
    ("0.01", "1", "10", "1000"), else every one as a power of ten ("10⁻⁵", "2·10⁻⁴", "10³");
    pyqtgraph's own mixes the two ("10¹" beside "1" and "0.1")."""
    xs = [10.0 ** float(v) * scale for v in values]
    if all(x == 0 or 1e-4 <= abs(x) < 1e5 for x in xs):
        return [f"{x:g}" for x in xs]
    out = []
    for x in xs:
        mantissa, exponent = f"{x:.0e}".split("e")
        power = f"10{str(int(exponent)).translate(_SUPERSCRIPT)}"
        out.append(power if mantissa == "1" else f"{mantissa}·{power}")
    return out


class LogAxis(pg.AxisItem):
    """An axis whose log-mode tick labels are all in one style (``log_tick_strings``)."""

    def logTickStrings(self, values, scale, spacing):  # noqa: N802 (pyqtgraph's name)
        return log_tick_strings(values, scale)
