"""Editor at scale: a 500-node graph. Prints JSON lines: time to show it, to
apply one parameter edit (re-infer + repaint of what changed), and frames per
second while panning (offscreen). Targets: open <= 1 s, edit <= 30 ms, pan >= 30 fps.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/editor_scale.py [--nodes 500]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def residual_graph(n_nodes: int):
    """Blocks of Linear -> ReLU -> Linear -> Add(skip), laid out in rows of 12."""
    from studio.graph import Graph

    g = Graph("scale")
    g.add_node("Input", {"shape": [64]}, (0, 0), "x")
    prev = "x"
    i = 0
    while len(g) + 4 <= n_nodes:
        ids = [f"fc{i}a", f"act{i}", f"fc{i}b", f"add{i}"]
        col = len(g)
        for k, (nid, block, params) in enumerate(zip(
                ids, ("Linear", "ReLU", "Linear", "Add"), ({"out_features": 64}, {}, {"out_features": 64}, {}))):
            c = col + k
            g.add_node(block, params, ((c % 24) * 240.0, (c // 24) * 160.0), nid)
        g.connect(prev, "out", ids[0], "in")
        g.connect(ids[0], "out", ids[1], "in")
        g.connect(ids[1], "out", ids[2], "in")
        g.connect(ids[2], "out", ids[3], "in1")
        g.connect(prev, "out", ids[3], "in2")
        prev = ids[3]
        i += 1
    while len(g) < n_nodes:
        nid = f"tail{len(g)}"
        c = len(g)
        g.add_node("ReLU", {}, ((c % 24) * 240.0, (c // 24) * 160.0), nid)
        g.connect(prev, "out", nid, "in")
        prev = nid
    return g


def emit(**record) -> None:
    print(json.dumps(record), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=500)
    parser.add_argument("--edits", type=int, default=20)
    parser.add_argument("--frames", type=int, default=60)
    args = parser.parse_args()

    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from studio.ui.main_window import MainWindow
    from studio.ui.settings import AppSettings

    graph = residual_graph(args.nodes)
    with tempfile.TemporaryDirectory() as tmp:
        window = MainWindow(AppSettings(Path(tmp)))
        window.resize(1600, 1000)
        window.show()
        app.processEvents()
        vp = window.view.viewport()

        t0, c0 = time.perf_counter(), time.process_time()
        window.set_document(graph, None)
        app.processEvents()
        vp.repaint()
        open_s = time.perf_counter() - t0
        emit(bench="editor_scale", metric="open_s", nodes=len(graph), edges=len(graph.edges),
             value=round(open_s, 4), cpu_s=round(time.process_time() - c0, 4), target="<= 1.0",
             note="includes the training dock following the new document")

        t0 = time.perf_counter()
        window.counter.compute_now()  # includes importing torch, done on a thread in the app
        emit(bench="editor_scale", metric="param_counts_s", nodes=len(graph), value=round(time.perf_counter() - t0, 4),
             total_params=window.counter.total, note="first count imports torch; the window is usable meanwhile")

        # One parameter edit in the middle of the chain: re-infers it and its descendants.
        window.view.frame_selected()
        middle = f"fc{len(graph) // 8}a"
        window.scene.select_nodes([middle])
        window.view.frame_selected()
        app.processEvents()
        times = []
        c0 = time.process_time()
        for k in range(args.edits):
            t0 = time.perf_counter()
            window.inspector.editors["out_features"].edit.setText(str(64 + (k % 2)))
            window.inspector.commit("out_features")
            window.counter.flush()
            app.processEvents()
            vp.repaint()
            times.append(time.perf_counter() - t0)
        emit(bench="editor_scale", metric="edit_ms", nodes=len(graph), value=round(statistics.median(times) * 1e3, 2),
             max_ms=round(max(times) * 1e3, 2), cpu_ms=round((time.process_time() - c0) / args.edits * 1e3, 2),
             edits=args.edits, target="<= 30",
             note="out_features of one Linear in a residual chain: its node, the next two and the wires between")

        for label, frame in (("pan_fps_zoom1", lambda: window.view.frame_selected()),
                             ("pan_fps_all_visible", window.view.frame_all)):
            frame()
            app.processEvents()
            vp.repaint()
            t0, c0 = time.perf_counter(), time.process_time()
            for f in range(args.frames):
                window.view.pan_by(8 if (f // 15) % 2 == 0 else -8, 3)
                vp.repaint()
            fps = args.frames / (time.perf_counter() - t0)
            cpu_fps = args.frames / max(1e-9, time.process_time() - c0)
            visible = sum(1 for item in window.scene.nodes.values()
                          if window.view.mapToScene(vp.rect()).boundingRect().intersects(item.sceneBoundingRect()))
            emit(bench="editor_scale", metric=label, nodes=len(graph), visible_nodes=visible,
                 zoom=round(window.view.zoom(), 3), value=round(fps, 1), cpu_fps=round(cpu_fps, 1), target=">= 30")
        window.editor.undo_stack.setClean()
        window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
