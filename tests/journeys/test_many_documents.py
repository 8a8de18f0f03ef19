"""A day of work: dozens of New and Open in one window. Each document replaces the
last one whole; nothing of the old ones stays in memory, even where no event loop turns
between documents to run Qt's deferred deletes (a script driving the window)."""

from __future__ import annotations

import gc

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from studio.ui.main_window import EXAMPLES_DIR
from studio.ui.training.config_form import TrainingConfigForm
from studio.ui.training.dataset_chooser import DatasetChooser

from fuzzing import examples

# Each a New and an Open: 90 documents (STUDIO_FUZZ=n runs n times as many). A widget or plot kept
# alive shows in the object counts after any number; memory that grows shows in these 90.
CYCLES = examples(45)


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


def live(kind) -> int:
    return sum(isinstance(o, kind) for o in gc.get_objects())


def test_ninety_documents_keep_memory_flat(window, answers):
    import pyqtgraph as pg

    files = [EXAMPLES_DIR / "spiral_mlp.json", EXAMPLES_DIR / "lenet5_digits.json"]
    answers.save_changes = "discard"

    def cycle(i: int) -> None:
        answers.open_name = str(files[i % 2])
        QTest.keyClick(window, Qt.Key_O, Qt.ControlModifier)
        QApplication.processEvents()
        assert window.path == files[i % 2]
        QTest.keyClick(window, Qt.Key_N, Qt.ControlModifier)
        QApplication.processEvents()
        assert window.path is None and len(window.editor.graph) == 0

    for i in range(10):  # warm-up: caches, fonts, the first plots
        cycle(i)
    gc.collect()
    before = rss_mib(), live(DatasetChooser), live(TrainingConfigForm), live(pg.PlotWidget)
    for i in range(CYCLES):
        cycle(i)
    gc.collect()
    after = rss_mib(), live(DatasetChooser), live(TrainingConfigForm), live(pg.PlotWidget)
    assert after[1:] == before[1:], f"forms and plots alive before/after: {before[1:]} / {after[1:]}"
    assert after[0] < before[0] * 1.10, f"memory grew from {before[0]:.0f} to {after[0]:.0f} MiB"
