"""How long from process start to the first painted window: Studio against a bare window.

Each round starts two fresh processes, one after the other (the order alternates
between rounds): ``studio``, the real entry point (``studio.launch.main``) with
no file, as a person starts it (the start screen over an empty canvas), and
``bare``, a PySide6 ``QMainWindow`` holding one pyqtgraph plot with a curve, the
least a plotting Qt app can show. Both run offscreen with a fresh settings
folder and with their bytecode cached, as an installed package has it (in a
folder of the bench's own, written by a first start of each that is not
counted). An application-wide event filter, installed before either builds its
window, notes the first ``QEvent.Paint`` of a widget in a ``QMainWindow``; the
time counts from just before the parent spawns the process (the child's own
interpreter start included) and is written back as one JSON record, after
which the child exits at once.

Besides wall time, each child reports the CPU time its process had used by
then (on a busy machine that is the steadier figure: up to the first paint a
start-up is one thread) and whether torch was imported by then. A Studio that
loads torch after its first paint is then watched until it has: when torch
was ready, and how late a 10 ms timer on the window's thread fired meanwhile
(the longest and the 90th percentile wait: how the window answers a click
while torch loads).

Two JSON lines: ``first_paint`` (the ratio of the medians, Studio over bare,
target <= 3.0) and ``first_paint_seconds`` (Studio's median wall seconds,
target <= 1.0), each with ``meets``, the raw per-round figures and the load
average.

    python bench/app_start.py [--rounds 9] [--file GRAPH.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
T0_ENV = "APP_START_T0"
RATIO_TARGET = 3.0
SECONDS_TARGET = 1.0


# ---- the child processes ---------------------------------------------------

def _watch_first_paint(app) -> None:
    """On the first paint of a main window's widget: report and leave."""
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QMainWindow, QWidget

    t0 = float(os.environ[T0_ENV])

    def report(record: dict) -> None:
        sys.stdout.write(json.dumps(record) + "\n")
        sys.stdout.flush()
        os._exit(0)  # at once: a background import may still run, and exit is not what is measured

    class FirstPaint(QObject):
        def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt name)
            if event.type() == QEvent.Type.Paint and isinstance(obj, QWidget) \
                    and isinstance(obj.window(), QMainWindow):
                wall = time.time() - t0
                record = {"wall_s": wall, "cpu_s": time.process_time(),
                          "torch_imported": "torch" in sys.modules, "modules": len(sys.modules)}
                if not loading():
                    report(record)
                app.removeEventFilter(self)
                watch_until_loaded(record)
            return False

    def loading() -> bool:
        """Whether this app loads torch after its first paint (then the wait for it is timed too)."""
        return "studio.ui.torch_loader" in sys.modules and not sys.modules["studio.ui.torch_loader"].loaded()

    def watch_until_loaded(record: dict) -> None:
        """Until torch has loaded: how late a 10 ms timer on the window's thread fires (what a
        click waits for meanwhile), and when it is loaded."""
        from PySide6.QtCore import QTimer

        loader = sys.modules["studio.ui.torch_loader"]
        last = [time.perf_counter()]
        gaps: list[float] = []

        def tick() -> None:
            now = time.perf_counter()
            gaps.append(now - last[0])
            last[0] = now
            if loader.loaded():
                gaps.sort()
                report({**record, "torch_ready_s": time.time() - t0, "max_gap_ms": 1000 * gaps[-1],
                        "p90_gap_ms": 1000 * gaps[int(0.9 * (len(gaps) - 1))]})

        timer = QTimer(app)
        timer.setInterval(10)
        timer.timeout.connect(tick)
        timer.start()
        app._tick = timer

    app._first_paint = FirstPaint(app)
    app.installEventFilter(app._first_paint)


def child(kind: str, file: str | None) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv[:1])
    _watch_first_paint(app)
    if kind == "bare":
        import pyqtgraph as pg
        from PySide6.QtWidgets import QMainWindow

        window = QMainWindow()
        plot = pg.PlotWidget()
        plot.plot([0.0, 1.0, 0.5, 0.8])
        window.setCentralWidget(plot)
        window.resize(1600, 1000)
        window.show()
        return app.exec()
    sys.path.insert(0, str(ROOT))
    from studio.launch import main

    return main([file] if file else [])


# ---- the parent ------------------------------------------------------------

def spawn(kind: str, file: str | None, pycache: str) -> dict:
    with tempfile.TemporaryDirectory() as config:
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "STUDIO_CONFIG_DIR": config,
               "PYTHONPYCACHEPREFIX": pycache}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        args = [sys.executable, str(Path(__file__).resolve()), "--child", kind] + (["--file", file] if file else [])
        env[T0_ENV] = repr(time.time())
        done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120, cwd=ROOT)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"{kind} never painted (exit {done.returncode}):\n{done.stderr[-2000:]}")
    return json.loads(lines[-1])


def _median(records: list[dict], key: str) -> float | None:
    values = [r[key] for r in records if key in r]
    return round(statistics.median(values), 3) if values else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--file", help="a graph file Studio opens at start (default: none, the start screen)")
    parser.add_argument("--child", choices=("bare", "studio"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.file)

    runs: dict[str, list[dict]] = {"bare": [], "studio": []}
    with tempfile.TemporaryDirectory() as pycache:
        # A first start of each writes its bytecode (as an installed package has it) and warms the disk cache.
        spawn("bare", None, pycache)
        spawn("studio", args.file, pycache)
        for i in range(args.rounds):
            for kind in (("bare", "studio") if i % 2 == 0 else ("studio", "bare")):
                runs[kind].append(spawn(kind, args.file if kind == "studio" else None, pycache))
    load = os.getloadavg()
    med = {k: statistics.median(r["wall_s"] for r in v) for k, v in runs.items()}
    cpu = {k: statistics.median(r["cpu_s"] for r in v) for k, v in runs.items()}
    raw = {
        "studio_wall_s": [round(r["wall_s"], 3) for r in runs["studio"]],
        "bare_wall_s": [round(r["wall_s"], 3) for r in runs["bare"]],
        "studio_cpu_s": round(cpu["studio"], 3), "bare_cpu_s": round(cpu["bare"], 3),
        "torch_at_first_paint": any(r["torch_imported"] for r in runs["studio"]),
        # after the first paint, while torch loads on its own thread: when it is ready, and how late
        # a 10 ms timer on the window's thread fired meanwhile (the wait a click would see)
        "studio_torch_ready_s": _median(runs["studio"], "torch_ready_s"),
        "studio_max_gap_ms": _median(runs["studio"], "max_gap_ms"),
        "studio_p90_gap_ms": _median(runs["studio"], "p90_gap_ms"),
        "studio_modules": runs["studio"][0]["modules"], "bare_modules": runs["bare"][0]["modules"],
        "rounds": args.rounds, "file": args.file, "load_average": [round(x, 2) for x in load],
    }
    ratio = med["studio"] / med["bare"]
    print(json.dumps({"case": "first_paint", "ratio": round(ratio, 2), "target": RATIO_TARGET,
                      "meets": ratio <= RATIO_TARGET, "studio_s": round(med["studio"], 3),
                      "bare_s": round(med["bare"], 3), "cpu_ratio": round(cpu["studio"] / cpu["bare"], 2),
                      **raw}), flush=True)
    print(json.dumps({"case": "first_paint_seconds", "ratio": round(med["studio"] / SECONDS_TARGET, 2),
                      "target": SECONDS_TARGET, "meets": med["studio"] <= SECONDS_TARGET,
                      "seconds": round(med["studio"], 3), "cpu_s": round(cpu["studio"], 3),
                      "load_average": raw["load_average"]}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
