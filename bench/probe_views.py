"""What the Attention and Embeddings tabs cost a run, and how often they redraw.

Trains examples/transformer_sequence.json with the Attention tab in front, and
examples/word_embeddings.json with the Embeddings tab in front, in the main window
(offscreen) with the shipped probe budget; each run is paired with the same run with the
Loss and accuracy tab in front. One JSON line per example:

- view_cpu_share: CPU time the tab spends on the UI thread (its redraws and the paints of
  its plot) over the run's wall time: roughly what it costs training, which waits for the
  interpreter lock meanwhile (target <= 0.01);
- redraws_per_s: frames the tab drew, each of a new probe, per second of the run (target >= 2);
- redraw_ms, paint_ms, paints_per_frame: CPU time of one frame's update of the plot's items, and
  of its paints, and how many paints a frame took;
- throughput_ratio: samples per second with the tab in front over the same run with the loss
  tab in front (median of the pairs, with their range: a few per cent of noise either way);
- probe_ms / step_ms: one attention or embedding probe on the trainer's thread against one step.

Runs alternate loss tab / probe tab ``BENCH_ROUNDS`` times (default 3).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QEventLoop  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
CASES = {  # example -> (its tab, the panel's view attribute, epochs)
    "transformer_sequence": ("Attention", "attention_view", 8),
    "word_embeddings": ("Embeddings", "embedding_view", 60),
}


class PaintClock:
    """CPU time spent painting one pyqtgraph widget (its class's paintEvent, timed for that widget)."""

    def __init__(self) -> None:
        from studio.ui.training.draw_budget import MeteredPlotWidget

        self.cls = MeteredPlotWidget
        self.original = MeteredPlotWidget.paintEvent
        self.widget = None
        self.spent = 0.0
        self.count = 0
        clock = self

        def paint(widget, event) -> None:
            if widget is not clock.widget:
                return clock.original(widget, event)
            start = time.thread_time()
            clock.original(widget, event)
            clock.spent += time.thread_time() - start
            clock.count += 1

        MeteredPlotWidget.paintEvent = paint


def run(app: QApplication, example: str, in_front: bool, paints: PaintClock) -> dict:
    from studio.files import load
    from studio.training import EpochEvent
    from studio.ui.main_window import MainWindow
    from studio.ui.settings import AppSettings

    tab, attr, epochs = CASES[example]
    window = MainWindow(AppSettings(Path(tempfile.mkdtemp())))
    window.show()
    QTest.qWaitForWindowExposed(window)
    while not hasattr(window, "training_panel"):
        app.processEvents()
    graph = load(ROOT / "examples" / f"{example}.json")
    graph.set_training({**graph.training, "epochs": epochs})
    window.set_document(graph, ROOT / "examples" / f"{example}.json")
    panel = window.training_panel
    view = getattr(panel, attr)
    panel.views.setCurrentWidget(view if in_front else panel.loss_view)
    settle = time.monotonic() + 0.3
    while time.monotonic() < settle:
        app.processEvents()
    redraw_cpu = [0.0]
    redraw = view.redraw

    def timed_redraw(*args) -> None:
        start = time.thread_time()
        redraw(*args)
        redraw_cpu[0] += time.thread_time() - start

    view.redraw = timed_redraw  # (the tab's pacer calls it by name, so the instance's own is taken)
    paints.widget, paints.spent, paints.count = view.plot_widget, 0.0, 0
    epoch_events: list = []
    panel.runStarted.connect(lambda _n: panel.session.events.connect(
        lambda batch: epoch_events.extend(e for e in batch if isinstance(e, EpochEvent))))
    loop = QEventLoop()
    panel.runFinished.connect(lambda _status: loop.quit())
    redraws_before = view.redraws
    panel.controls.train_button.click()
    started = time.monotonic()
    loop.exec()
    wall = time.monotonic() - started
    assert panel.last_end is not None and panel.last_end.status == "finished", panel.status_label.text()
    seconds = sum(e.seconds for e in epoch_events)
    frames = max(1, view.redraws - redraws_before)
    out = {"samples_per_s": sum(e.samples_per_s * e.seconds for e in epoch_events) / seconds,
           "cpu_share": (redraw_cpu[0] + paints.spent) / wall, "redraws_per_s": (view.redraws - redraws_before) / wall,
           "redraw_ms": redraw_cpu[0] / frames * 1000, "paint_ms": paints.spent / frames * 1000,
           "paints_per_frame": paints.count / frames}
    window.editor.undo_stack.setClean()
    window.close()
    window.deleteLater()
    app.processEvents()
    return out


def probe_cost(example: str) -> tuple[float, float]:
    """(ms of one attention + embedding probe, ms of one training step) on the trainer's thread."""
    import torch

    from studio.files import load
    from studio.training import Trainer
    from studio.training.probes import attention_maps, embedding_points

    graph = load(ROOT / "examples" / f"{example}.json")
    trainer = Trainer(graph, config={**graph.training, "epochs": 1, "probes": False}, base_dir=ROOT / "examples")
    result = trainer.run()
    assert result.status == "finished", result.message
    recipe = trainer.recipe
    recipe.model.eval()
    start = time.perf_counter()
    for _ in range(20):
        attention_maps(recipe.model, recipe.probe_x, recipe.vocab)
        embedding_points(recipe.model, recipe.vocab)
    probe_ms = (time.perf_counter() - start) / 20 * 1000
    recipe.model.train()
    recipe.begin_epoch(1)
    steps = min(20, recipe.steps_per_epoch)
    start = time.perf_counter()
    for i in range(steps):
        recipe.step(i)
    torch.cuda.synchronize() if torch.cuda.is_available() else None
    return probe_ms, (time.perf_counter() - start) / steps * 1000


def main() -> int:
    app = QApplication.instance() or QApplication([])
    paints = PaintClock()
    for example in os.environ.get("BENCH_CASES", ",".join(CASES)).split(","):
        pairs = [(run(app, example, False, paints), run(app, example, True, paints)) for _ in range(ROUNDS)]
        ratios = [front["samples_per_s"] / back["samples_per_s"] for back, front in pairs]
        probe_ms, step_ms = probe_cost(example)
        share = statistics.median(f["cpu_share"] for _, f in pairs)
        redraws = statistics.median(f["redraws_per_s"] for _, f in pairs)
        print(json.dumps({
            # the case's figure: the tab's share of the run (target at most 1%), beside two redraws a second
            "case": example, "ratio": round(share, 4), "target": 0.01, "meets": share <= 0.01 and redraws >= 2,
            "meets_when": "ratio <= target and redraws_per_s >= 2",
            "example": example, "tab": CASES[example][0],
            "view_cpu_share": round(statistics.median(f["cpu_share"] for _, f in pairs), 4),
            "redraws_per_s": round(statistics.median(f["redraws_per_s"] for _, f in pairs), 2),
            "redraws_per_s_min": round(min(f["redraws_per_s"] for _, f in pairs), 2),
            "redraw_ms": round(statistics.median(f["redraw_ms"] for _, f in pairs), 2),
            "paint_ms": round(statistics.median(f["paint_ms"] for _, f in pairs), 2),
            "paints_per_frame": round(statistics.median(f["paints_per_frame"] for _, f in pairs), 2),
            "throughput_ratio": round(statistics.median(ratios), 3),
            "ratio_range": [round(min(ratios), 3), round(max(ratios), 3)],
            "probe_ms": round(probe_ms, 2), "step_ms": round(step_ms, 2), "rounds": ROUNDS,
        }), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
