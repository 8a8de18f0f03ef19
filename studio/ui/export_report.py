"""After File > Export > ONNX with int8 Copy: the table of ``studio export --quantize int8``
(file size, CPU latency per sample, validation score, fp32 against int8) in a dialog.

Measuring takes seconds (50 timed runs of each model, the validation split
through both), so it runs on a plain thread (``BackgroundLoad``) that touches
no widget; the dialog shows "Measuring…" and fills the table when the result
arrives. Closing the dialog stops the measuring at its next run.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QAbstractItemView, QApplication, QDialog, QDialogButtonBox, QHeaderView, QLabel, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from studio.graph import Graph

from .training.background_load import BackgroundLoad

COLUMNS = ("", "fp32", "int8", "int8 / fp32")
QUIT_WAIT_S = 10.0  # at most, for the run under way when the app quits (one run of the model)


def measure_job(graph: Graph, written: list[Path], dataset: Any, base_dir: Any, stop) -> list:
    """The tables for each (ONNX file, int8 copy) pair of ``written``; runs off the window's thread."""
    from studio.compile import compile_networks
    from studio.export import load_validation, measure

    networks = compile_networks(graph)  # their structure only: inputs, their order and shapes
    found, note = load_validation(graph, base_dir, dataset)
    pairs = list(zip(written[0::2], written[1::2]))
    return [measure(graph, net, fp32, int8, found, note, stop=stop.is_set)
            for net, (fp32, int8) in zip(networks.values(), pairs)]


class Int8ReportDialog(QDialog):
    """fp32 against int8 for the files an export wrote; measures as soon as it is made."""

    def __init__(self, parent: QWidget | None, graph: Graph, written: list[Path], dataset: Any = None,
                 base_dir: Any = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("ONNX: int8 against fp32")
        self.tables: list = []
        self.error: str | None = None
        names = ", ".join(f"{a.name} and {b.name}" for a, b in zip(written[0::2], written[1::2]))
        self.heading = QLabel(f"Wrote {names}.")
        self.heading.setWordWrap(True)
        self.status = QLabel("Measuring latency (50 runs of each, interleaved) and the validation score…")
        self.status.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        self.close_button = buttons.button(QDialogButtonBox.Close)
        layout = QVBoxLayout(self)
        for widget in (self.heading, self.table, self.status, buttons):
            layout.addWidget(widget)
        self.resize(620, 300)
        self._stop = threading.Event()
        self._load = BackgroundLoad(self)
        graph = graph.copy()  # the person may edit on while it measures
        stop, running = self._stop, []

        def job() -> list:
            running.append(threading.current_thread())
            return measure_job(graph, written, dataset, base_dir, stop)

        def on_quit() -> None:
            # The app quitting while it measures (the main window closed with the table open): the
            # thread stops at its next run and is waited for, never torn down inside onnxruntime or
            # torch at exit, which aborts the process.
            stop.set()
            for thread in running:
                thread.join(timeout=QUIT_WAIT_S)

        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(on_quit)
        self._load.start(job, self._show)

    @property
    def measuring(self) -> bool:
        return self._load.busy

    def _show(self, result: Any) -> None:
        from studio.export.int8_table import Cancelled

        if isinstance(result, Cancelled):
            return
        if isinstance(result, BaseException):
            self.error = f"Could not measure: {type(result).__name__}: {result}"
            self.status.setText(self.error)
            return
        self.tables = result
        for table in result:
            if len(result) > 1:
                self._add_row((f"network {table.network}", "", "", ""), bold=True)
            for row in table.rows():
                self._add_row(row)
        runs = result[0].runs if result else 0
        self.status.setText(f"Latency: onnxruntime on 1 thread, batch 1, median of {runs} interleaved runs each.")

    def _add_row(self, cells, bold: bool = False) -> None:
        r = self.table.rowCount()
        self.table.insertRow(r)
        for c, text in enumerate(cells):
            item = QTableWidgetItem(text)
            if c:
                item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
            if bold:
                font = QFont(item.font())
                font.setBold(True)
                item.setFont(font)
            self.table.setItem(r, c, item)

    def cell(self, row: int, column: int) -> str:
        item = self.table.item(row, column)
        return item.text() if item is not None else ""

    def done(self, result: int) -> None:
        self._stop.set()  # the thread ends at its next run; its result is dropped
        super().done(result)


def show_int8_report(window: QWidget, graph: Graph, written: list[Path], panel: Any = None,
                     graph_path: Path | None = None) -> Int8ReportDialog:
    """The report as a window of its own (not modal): the editor stays usable while it measures.
    The training panel's data set (already loaded) and reach are used where it has them, else the
    data set is loaded from the graph file's folder."""
    chooser = getattr(panel, "chooser", None)
    dataset = getattr(chooser, "dataset", None)
    if chooser is not None:
        base_dir = chooser.reach  # a property: the folder and what the person allowed
    else:
        base_dir = graph_path.parent if graph_path is not None else None
    dialog = Int8ReportDialog(window, graph, written, dataset, base_dir)
    dialog.setAttribute(Qt.WA_DeleteOnClose)
    dialog.show()
    return dialog
