"""Every run of the session, its curves and configuration, and two runs overlaid.

The runs are the session's ``Run`` objects (``studio.session``), read as they
are; they are kept in memory for the session only: the graph file keeps the
configuration, not the history.
"""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from studio.session import Run

from .draw_budget import MeteredPlotWidget
from .lazy_plots import PlotsWhenShown
from .plot_style import steady_plot, plot_colors
from .colors import CLASS_COLORS


def _start(run: Run) -> str:
    return f"the weights of {run.started_from}" if run.started_from else "fresh weights"


def config_differences(a: dict[str, Any], b: dict[str, Any], prefix: str = "") -> list[str]:
    """``key: a -> b`` for every leaf that differs, keys as in the graph file."""
    out = []
    for key in sorted(set(a) | set(b)):
        va, vb = a.get(key), b.get(key)
        path = f"{prefix}{key}"
        if isinstance(va, dict) and isinstance(vb, dict):
            out.extend(config_differences(va, vb, path + "."))
        elif va != vb:
            out.append(f"{path}: {va!r} -> {vb!r}")
    return out


class HistoryView(PlotsWhenShown, QWidget):
    selectionChanged = Signal(list)  # run numbers overlaid
    PLOTS = ("plot_widget", "plot", "_slots")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runs: list[Run] = []
        self.list = QListWidget()
        self.list.itemChanged.connect(self._on_item_changed)
        self.diff_label = QLabel("Tick two runs to overlay them and see how their settings differ.")
        self.diff_label.setWordWrap(True)
        self.diff_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        right = QVBoxLayout()
        right.addWidget(self.plot_place(), 1)  # the plot, once made (build_plots)
        right.addWidget(self.diff_label)
        box = QHBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.list, 1)
        box.addLayout(right, 3)

    def build_plots(self) -> None:
        self.plot_widget = MeteredPlotWidget(background=plot_colors().background)
        self.plot: pg.PlotItem = self.plot_widget.getPlotItem()
        self.plot.setTitle("Compare runs: loss per epoch (solid train, dashed validation)")
        self.plot.setLabel("bottom", "epoch")
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.addLegend(offset=(-10, 10))
        steady_plot(self.plot)
        self.put_plot(self.plot_widget)
        # Two slots of curves (train, val) per compared run, reused for every comparison.
        self._slots: list[tuple[pg.PlotDataItem, pg.PlotDataItem]] = []
        for i in range(2):
            r, g, b = (int(v) for v in CLASS_COLORS[i * 2 + 1 if i else 0])
            train = self.plot.plot([], [], pen=pg.mkPen((r, g, b), width=2))  # in the legend once compared
            val = self.plot.plot([], [], pen=pg.mkPen((r, g, b), width=2, style=Qt.PenStyle.DashLine))
            self._slots.append((train, val))

    def plots_made(self) -> None:
        self._draw_curves(self.compared())

    # ---- runs ----------------------------------------------------------
    def add_run(self, record: Run) -> None:
        self.runs.append(record)
        item = QListWidgetItem(record.title())
        item.setToolTip(record.title())  # the list is narrow: the whole line on hover
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Unchecked)
        item.setData(Qt.ItemDataRole.UserRole, record.number)
        self.list.addItem(item)

    def update_run(self, record: Run) -> None:
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(Qt.ItemDataRole.UserRole) == record.number:
                self.list.blockSignals(True)
                item.setText(record.title())
                item.setToolTip(record.title())
                self.list.blockSignals(False)
        if record.number in self.compared():
            self._redraw()

    def record(self, number: int) -> Run:
        return next(r for r in self.runs if r.number == number)

    def compare(self, numbers: list[int]) -> None:
        """Tick exactly these runs (at most two are drawn)."""
        self.list.blockSignals(True)
        for i in range(self.list.count()):
            item = self.list.item(i)
            on = item.data(Qt.ItemDataRole.UserRole) in numbers
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
        self.list.blockSignals(False)
        self._redraw()

    def compared(self) -> list[int]:
        out = []
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.checkState() == Qt.CheckState.Checked:
                out.append(item.data(Qt.ItemDataRole.UserRole))
        return out[-2:]

    def _on_item_changed(self, _item: QListWidgetItem) -> None:
        self._redraw()

    def _redraw(self) -> None:
        numbers = self.compared()
        if self.plots_built:  # else drawn when the tab is first shown
            self._draw_curves(numbers)
        if len(numbers) == 2:
            a, b = self.record(numbers[0]), self.record(numbers[1])
            diffs = config_differences(a.config, b.config)
            if a.dataset != b.dataset:
                diffs.insert(0, f"data set: {a.dataset} -> {b.dataset}")
            if a.started_from != b.started_from:  # a run that continued another's weights began elsewhere
                diffs.insert(0, f"start: {_start(a)} -> {_start(b)}")
            head = f"Run {a.number} -> run {b.number}: "
            self.diff_label.setText(head + ("; ".join(diffs) if diffs else "same settings (only chance differs)"))
        else:
            self.diff_label.setText("Tick two runs to overlay them and see how their settings differ.")
        self.selectionChanged.emit(numbers)

    def _draw_curves(self, numbers: list[int]) -> None:
        legend = self.plot.legend
        for i, (train, val) in enumerate(self._slots):
            if i < len(numbers):
                rec = self.record(numbers[i])
                train.setData(*rec.curves.get("train_loss", ([], [])))
                val.setData(*rec.curves.get("val_loss", ([], [])))
                legend.removeItem(train)
                legend.addItem(train, f"run {rec.number}")
            else:
                train.setData([], [])
                val.setData([], [])
                legend.removeItem(train)
        legend.setVisible(bool(legend.items))  # an empty legend draws as a small empty box
