"""How the network does on the validation samples, class by class, at each epoch end.

Classification: the confusion matrix (rows are the true class, columns the
predicted one) as a table of shaded cells, counts or each row's shares, with
the numbers of a cell on hover, beside the per-class precision, recall, F1 and
support and the accuracy. Regression: predicted against target with the
y = x line, the residuals, and MAE, RMSE and R². The report comes with the
trainer's ``EpochEvent.report``; the view draws the newest one only while it
is visible (or when the run ends), so a hidden tab costs nothing.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView, QButtonGroup, QHBoxLayout, QHeaderView, QLabel, QRadioButton, QSplitter, QStackedWidget,
    QTableView, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from studio.training.events import EpochEvent

from .draw_budget import MeteredLayoutWidget
from .plot_style import plot_colors, steady_plot

BEFORE = ("After each epoch of a run, this tab shows how the network does on the validation samples. "
          "Classification: the confusion matrix (rows: the true class, columns: the class predicted) with "
          "each class's precision, recall and F1. Regression: predicted against target values, the residuals, "
          "and MAE, RMSE and R².")
NO_REPORT = ("This run reported no evaluation. It needs a validation part (the data set's validation fraction "
             "above 0) and a classification or regression task.")
NO_REPORT_GAN = ("A GAN has no classes or targets to evaluate: it is judged by its samples "
                 "(the Samples tab) and the modes it covers (the Loss and accuracy tab).")
# What one count of the matrix is, by the data set's kind (a token task counts every position).
UNITS = {"sample": "sample(s)", "position": "position(s)", "node": "node(s)"}
CORRECT_RGB = (31, 119, 180)  # the diagonal: right answers, in the train colour's blue
WRONG_RGB = (214, 39, 40)  # off the diagonal: mistakes stand out in red
MIN_CELL_PX = 22


def _blend(rgb: tuple[int, int, int], strength: float, base: QColor) -> QColor:
    s = float(min(1.0, max(0.0, strength)))
    return QColor(*(int(round(b * (1 - s) + c * s)) for b, c in zip((base.red(), base.green(), base.blue()), rgb)))


def _share(value: float) -> str:
    return f"{100 * value:.0f}%" if value >= 0.1 or value == 0 else f"{100 * value:.1f}%"


class ConfusionModel(QAbstractTableModel):
    """A ``ClassReport``'s matrix as table cells: shaded by the share of the row, text counts or shares."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.report: Any = None
        self.counts = np.zeros((0, 0), dtype=np.int64)
        self.shares = np.zeros((0, 0))
        self.normalised = False
        self.base = QColor("#ffffff")  # the theme's cell background and text: set before drawing
        self.text_color = QColor("#1f2328")

    def set_report(self, report: Any) -> None:
        counts = np.asarray(report.counts, dtype=np.int64)
        same_size = counts.shape == self.counts.shape and self.report is not None and \
            tuple(report.class_names) == tuple(self.report.class_names)
        if not same_size:
            self.beginResetModel()
        self.report = report
        self.counts = counts
        self.shares = np.asarray(report.normalised(), dtype=np.float64)
        # Per-class numbers computed once per report, not once per cell painted.
        self._precision = np.asarray(report.precision, dtype=np.float64)
        self._recall = np.asarray(report.recall, dtype=np.float64)
        if same_size:
            n = len(counts)
            self.dataChanged.emit(self.index(0, 0), self.index(n - 1, n - 1))
        else:
            self.endResetModel()

    def set_normalised(self, on: bool) -> None:
        self.normalised = on
        n = len(self.counts)
        if n:
            self.dataChanged.emit(self.index(0, 0), self.index(n - 1, n - 1), [Qt.ItemDataRole.DisplayRole])

    def clear(self) -> None:
        self.beginResetModel()
        self.report = None
        self.counts = np.zeros((0, 0), dtype=np.int64)
        self.shares = np.zeros((0, 0))
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.counts)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.counts)

    def strength(self, row: int, col: int) -> float:
        """How strongly a cell is shaded: its share of the row; a mistake's square root, so that a
        few mistakes among many samples still show."""
        share = float(self.shares[row, col])
        return share if row == col else share ** 0.5

    def text(self, row: int, col: int) -> str:
        if self.normalised:
            return _share(self.shares[row, col])
        return f"{int(self.counts[row, col]):,}"

    def tooltip(self, row: int, col: int) -> str:
        names = self.report.class_names
        true, pred = names[row], names[col]
        n, total = int(self.counts[row, col]), int(self.counts[row].sum())
        what = " (right)" if row == col else " (mistaken)" if n else ""
        lines = [f"True {true}, predicted {pred}: {n:,} sample(s){what},",
                 f"{_share(self.shares[row, col])} of the {total:,} true {true}."]
        lines.append(f"Class {true}: recall {self._recall[row]:.3f} (share of the true {true} found).")
        lines.append(f"Class {pred}: precision {self._precision[col]:.3f} (share of the predicted {pred} "
                     "that are right).")
        return "\n".join(lines)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or self.report is None:
            return None
        r, c = index.row(), index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(r, c)
        if role == Qt.ItemDataRole.BackgroundRole:
            return _blend(CORRECT_RGB if r == c else WRONG_RGB, self.strength(r, c), self.base)
        if role == Qt.ItemDataRole.ForegroundRole:
            return QColor("#ffffff") if self.strength(r, c) > 0.55 else self.text_color
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.tooltip(r, c)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802 (Qt name)
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if self.report is None or section >= len(self.counts):
            return None
        name = self.report.class_names[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return name
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"predicted {name}" if orientation == Qt.Orientation.Horizontal else f"true {name}"
        return None


METRIC_COLUMNS = ("class", "precision", "recall", "F1", "support")


class EvaluationView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.report: Any = None  # the report drawn
        self.unit = "sample"  # what one count is: "sample", "position", "node"; "gan" has no report
        self.epoch: int | None = None  # its epoch
        self._pending: tuple[int, Any] | None = None  # the newest report fed, not drawn yet
        self._later: tuple[Callable[[], Any], str] | None = None  # an evaluation to make when shown
        self.reports_seen = 0  # since the last clear()
        self.draws = 0  # reports drawn since the last clear()

        self.title = QLabel()
        self.title.setObjectName("evaluation_title")
        self.counts_button = QRadioButton("Counts")
        self.shares_button = QRadioButton("Share of each true class")
        self.counts_button.setChecked(True)
        self.counts_button.setToolTip("Each cell: how many validation samples of the row's class got the column's")
        self.shares_button.setToolTip("Each cell: that count divided by the row's total (the diagonal is recall)")
        group = QButtonGroup(self)
        group.addButton(self.counts_button)
        group.addButton(self.shares_button)
        self.shares_button.toggled.connect(self._on_normalised)
        top = QHBoxLayout()
        top.setContentsMargins(4, 2, 4, 0)
        top.addWidget(self.title, 1)
        top.addWidget(self.counts_button)
        top.addWidget(self.shares_button)

        # Classification: the matrix and the per-class numbers side by side.
        self.model = ConfusionModel(self)
        self.matrix = QTableView()
        self.matrix.setObjectName("confusion_matrix")
        self.matrix.setModel(self.model)
        self.matrix.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.matrix.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.matrix.setMouseTracking(True)
        for header in (self.matrix.horizontalHeader(), self.matrix.verticalHeader()):
            # The matrix fills its room; past MIN_CELL_PX a cell (many classes) it scrolls instead.
            header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
            header.setMinimumSectionSize(MIN_CELL_PX)
            header.setDefaultAlignment(Qt.AlignmentFlag.AlignCenter)
        matrix_box = QWidget()
        mb = QVBoxLayout(matrix_box)
        mb.setContentsMargins(0, 0, 0, 0)
        axes = QLabel("Rows: the true class · columns: the class predicted. Hover a cell for its numbers.")
        axes.setWordWrap(True)
        mb.addWidget(axes)
        mb.addWidget(self.matrix, 1)
        self.metrics = QTableWidget(0, len(METRIC_COLUMNS))
        self.metrics.setObjectName("class_metrics")
        self.metrics.setHorizontalHeaderLabels(list(METRIC_COLUMNS))
        self.metrics.verticalHeader().hide()
        self.metrics.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.metrics.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.metrics.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.metrics.setAlternatingRowColors(True)
        self.metrics.verticalHeader().setDefaultSectionSize(self.metrics.fontMetrics().height() + 6)
        self.accuracy_label = QLabel()
        self.accuracy_label.setObjectName("evaluation_accuracy")
        metrics_box = QWidget()
        tb = QVBoxLayout(metrics_box)
        tb.setContentsMargins(0, 0, 0, 0)
        tb.addWidget(self.accuracy_label)
        tb.addWidget(self.metrics, 1)
        self.class_page = QSplitter(Qt.Orientation.Horizontal)
        self.class_page.addWidget(matrix_box)
        self.class_page.addWidget(metrics_box)
        self.class_page.setStretchFactor(0, 3)
        self.class_page.setStretchFactor(1, 2)

        # Regression: predicted against target, and the residuals; the plots are made for the first
        # regression report (most windows never show one).
        self.regression_plots: MeteredLayoutWidget | None = None
        self.regression_numbers = QLabel()
        self.regression_numbers.setObjectName("regression_numbers")
        self.regression_page = QWidget()
        rb = QVBoxLayout(self.regression_page)
        rb.setContentsMargins(0, 0, 0, 0)
        rb.addWidget(self.regression_numbers)
        self._regression_box = rb

        self.message = QLabel(BEFORE)
        self.message.setObjectName("evaluation_message")
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setMargin(24)
        self.stack = QStackedWidget()
        for page in (self.message, self.class_page, self.regression_page):
            self.stack.addWidget(page)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addLayout(top)
        box.addWidget(self.stack, 1)
        self._show_toggle(False)
        self.title.setText("Evaluation on the validation samples")

    # ---- what the panel calls ----------------------------------------------
    @property
    def mode(self) -> str:
        """"empty", "classes" or "regression": what the tab shows now."""
        page = self.stack.currentWidget()
        return "classes" if page is self.class_page else "regression" if page is self.regression_page else "empty"

    def clear(self) -> None:
        """Back to the sentence that says what will appear."""
        self.report = None
        self.epoch = None
        self._pending = None
        self._later = None
        self.reports_seen = 0
        self.draws = 0
        self.model.clear()
        self.metrics.setRowCount(0)
        self.message.setText(BEFORE)
        self.stack.setCurrentWidget(self.message)
        self.title.setText("Evaluation on the validation samples")
        self._show_toggle(False)

    def set_data(self, dataset: Any) -> None:
        """The data set the next runs train on, for what the tab says: a token task counts each
        position of each sequence, a graph each node, and a GAN has nothing to count."""
        task = getattr(dataset, "task", None)
        if task == "gan":
            self.unit = "gan"
        elif task == "node_classification":
            self.unit = "node"
        elif task == "classification" and len(getattr(dataset, "output_shape", ())) == 2:
            self.unit = "position"
        else:
            self.unit = "sample"

    def feed(self, events: Iterable[object]) -> None:
        """Epoch events: the newest report among them is kept, and drawn now if the tab is visible."""
        for ev in events:
            report = getattr(ev, "report", None) if isinstance(ev, EpochEvent) else None
            if report is not None:
                self._pending = (ev.epoch, report)
                self.reports_seen += 1
        if self._pending is not None and self.isVisible():
            self._draw_pending()

    def catch_up(self) -> None:
        """The run ended: draw the last report fed, visible or not, or say none came."""
        if self._pending is not None:
            self._draw_pending()
        elif self.report is None:
            self.message.setText(NO_REPORT_GAN if self.unit == "gan" else NO_REPORT)
            self.stack.setCurrentWidget(self.message)

    def evaluate_later(self, compute: Callable[[], Any], source: str) -> None:
        """A report to make when the tab is next shown (weights loaded from a file: one pass over the
        validation samples, made only if someone looks). ``source`` names what is evaluated."""
        self.clear()
        self._later = (compute, source)
        if self.isVisible():
            self._evaluate_now()

    def _evaluate_now(self) -> None:
        compute, source = self._later
        self._later = None
        try:
            report = compute()
        except Exception as exc:  # noqa: BLE001 - said in the tab, in place of the matrix
            self.message.setText(f"The {source} could not be evaluated: {exc}")
            self.stack.setCurrentWidget(self.message)
            return
        self.show_report(report, None, source)

    def show_report(self, report: Any, epoch: int | None = None, source: str | None = None) -> None:
        """Draw ``report`` (a ``ClassReport`` or a ``RegressionReport``) now; ``source`` names the
        weights when they are not a run's (its epoch then)."""
        self._pending = None
        self.report, self.epoch = report, epoch
        self.draws += 1
        when = f" at epoch {epoch}" if epoch is not None else f", {source}" if source else ""
        if hasattr(report, "counts"):
            self._draw_classes(report, when)
        else:
            self._draw_regression(report, when)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        if self._pending is not None:
            self._draw_pending()
        elif self._later is not None:
            self._evaluate_now()

    # ---- drawing -----------------------------------------------------------
    def _draw_pending(self) -> None:
        epoch, report = self._pending
        self.show_report(report, epoch)

    def _show_toggle(self, on: bool) -> None:
        self.counts_button.setVisible(on)
        self.shares_button.setVisible(on)

    def _on_normalised(self, on: bool) -> None:
        self.model.set_normalised(on)

    def _draw_classes(self, report: Any, when: str) -> None:
        self.model.base = self.matrix.palette().base().color()
        self.model.text_color = self.matrix.palette().text().color()
        self.model.set_report(report)
        n = len(report.counts)
        if self.metrics.rowCount() != n:
            self.metrics.setRowCount(n)
        precision, recall, f1, support = (np.asarray(a) for a in (report.precision, report.recall, report.f1,
                                                                   report.support))
        for i, name in enumerate(report.class_names):
            cells = (str(name), f"{precision[i]:.3f}", f"{recall[i]:.3f}", f"{f1[i]:.3f}", f"{int(support[i]):,}")
            for j, text in enumerate(cells):
                item = self.metrics.item(i, j)
                if item is None:
                    item = QTableWidgetItem()
                    if j:
                        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                    self.metrics.setItem(i, j, item)
                item.setText(text)
        total = int(np.asarray(report.counts).sum())
        self.accuracy_label.setText(f"Accuracy {report.accuracy:.3f} ({int(np.trace(report.counts)):,} of {total:,} "
                                    f"right) · macro F1 {float(np.mean(f1)) if n else 0.0:.3f}")
        self.title.setText(f"Validation samples{when}: {total:,} {UNITS.get(self.unit, 'sample(s)')}, {n:,} classes")
        self.stack.setCurrentWidget(self.class_page)
        self._show_toggle(True)

    def _ensure_regression_plots(self) -> None:
        if self.regression_plots is not None:
            return
        self.regression_plots = MeteredLayoutWidget()
        self.regression_plots.setBackground(plot_colors().background)
        lw = self.regression_plots
        self.fit_plot: pg.PlotItem = lw.addPlot(row=0, col=0)
        self.residual_plot: pg.PlotItem = lw.addPlot(row=0, col=1)
        self.fit_plot.setLabel("bottom", "target")
        self.fit_plot.setLabel("left", "predicted")
        self.fit_plot.setTitle("Predicted against target")
        self.residual_plot.setLabel("bottom", "target")
        self.residual_plot.setLabel("left", "predicted − target")
        self.residual_plot.setTitle("Residuals")
        for p in (self.fit_plot, self.residual_plot):
            p.showGrid(x=True, y=True, alpha=0.25)
            steady_plot(p)
        self.fit_points = pg.ScatterPlotItem(size=5, pen=None, brush=pg.mkBrush(31, 119, 180, 150))
        self.identity = pg.PlotDataItem([], [], pen=pg.mkPen("#7f7f7f", width=1.5, style=Qt.PenStyle.DashLine))
        self.residual_points = pg.ScatterPlotItem(size=5, pen=None, brush=pg.mkBrush(214, 39, 40, 150))
        self.zero_line = pg.InfiniteLine(pos=0, angle=0, pen=pg.mkPen("#7f7f7f", width=1.5,
                                                                     style=Qt.PenStyle.DashLine))
        self.fit_plot.addItem(self.identity)
        self.fit_plot.addItem(self.fit_points)
        self.residual_plot.addItem(self.zero_line)
        self.residual_plot.addItem(self.residual_points)
        self._regression_box.addWidget(self.regression_plots, 1)

    def _draw_regression(self, report: Any, when: str) -> None:
        self._ensure_regression_plots()
        pred = np.asarray(report.predicted, dtype=np.float64).reshape(-1)
        target = np.asarray(report.target, dtype=np.float64).reshape(-1)
        self.fit_points.setData(target, pred)
        finite = np.concatenate([pred[np.isfinite(pred)], target[np.isfinite(target)]])
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        self.identity.setData([lo, hi], [lo, hi])
        self.residual_points.setData(target, pred - target)
        self.regression_numbers.setText(f"MAE {report.mae:.4g} · RMSE {report.rmse:.4g} · R² {report.r2:.4f}  "
                                        f"(over {getattr(report, 'count', len(pred))} validation values; {len(pred)} drawn)")
        self.title.setText(f"Validation samples{when}: predicted against target")
        self.stack.setCurrentWidget(self.regression_page)
        self._show_toggle(False)
