"""Shape inference on a 1,000-node graph: load, validate, and the edit a person makes.

A long chain of residual units (Linear, ReLU, Linear, Add with a skip wire) is
built, saved and loaded; then one Linear in the middle changes its width, which
re-infers that node and what depends on it; then an edit that breaks a residual
Add, which reaches every node below. Prints one JSON object per case: ``case``,
``ms`` (median of the repeats) and, for the edits, ``ratio`` against a full
re-inference of every node measured in the same run.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from studio.files import load, save  # noqa: E402
from studio.graph import Graph, validate  # noqa: E402

NODES = 1000
WIDTH = 64
STEP = 220


def build(nodes: int = NODES) -> Graph:
    g = Graph("residual chain")
    g.description = f"{nodes} nodes: residual units of Linear, ReLU, Linear and Add, for the shape-inference benchmark."
    g.add_node("Input", {"shape": [WIDTH]}, (0, 0), "input")
    last, col, unit = "input", 1, 0
    while len(g) + 4 <= nodes:
        skip = last
        for name, block, params in (("fc1", "Linear", {"out_features": WIDTH}), ("relu", "ReLU", {}),
                                    ("fc2", "Linear", {"out_features": WIDTH})):
            node = g.add_node(block, params, (col * STEP, 0), f"u{unit}_{name}")
            g.connect(last, "out", node.id, "in")
            last, col = node.id, col + 1
        add = g.add_node("Add", {}, (col * STEP, 0), f"u{unit}_add")
        g.connect(last, "out", add.id, "in1")
        g.connect(skip, "out", add.id, "in2")
        last, col, unit = add.id, col + 1, unit + 1
    while len(g) < nodes:
        node = g.add_node("ReLU", {}, (col * STEP, 0), f"tail{col}")
        g.connect(last, "out", node.id, "in")
        last, col = node.id, col + 1
    return g


def timed(fn, repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), result


def report(case: str, ms: float, **extra) -> None:
    print(json.dumps({"case": case, "ms": round(ms, 3), **extra}))


def main() -> None:
    graph = build()
    assert len(graph) == NODES and validate(graph) == []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "chain.json"
        ms, _ = timed(lambda: save(graph, path), 5)
        report("save", ms, nodes=NODES, bytes=path.stat().st_size)
        ms, loaded = timed(lambda: load(path), 5)
        report("load", ms, nodes=NODES)
    assert validate(loaded) == []

    ms, problems = timed(lambda: validate(loaded), 20)
    report("validate", ms, problems=len(problems))

    full_ms, _ = timed(lambda: loaded.shapes.update_all(), 10)
    report("full re-inference", full_ms, nodes=NODES)

    # The edit: a Linear in the middle changes width; its ReLU and the next Linear
    # follow, the unit's output stays [64], so the rest of the chain keeps its shapes.
    units = sum(1 for n in loaded.nodes if n.endswith("_add"))
    target = f"u{units // 2}_fc1"
    widths = iter([32, WIDTH] * 50)
    seen: list[tuple[str, ...]] = []
    loaded.subscribe(lambda e: seen.append(e.nodes) if e.kind == "shapes_changed" else None)
    edit_ms, _ = timed(lambda: loaded.set_params(target, {"out_features": next(widths)}), 21)
    assert validate(loaded) == [] and loaded.shapes.output(target) == (32,)
    report("edit one parameter", edit_ms, node=target, reinferred=len(seen[-1]),
           ratio=round(edit_ms / full_ms, 4))

    # The worst case: the unit's second Linear no longer matches its skip wire, so the
    # Add fails and every node below loses its shape; undoing it restores them all.
    second = target.replace("_fc1", "_fc2")
    widths = iter([32, WIDTH] * 50)
    cascade_ms, _ = timed(lambda: loaded.set_params(second, {"out_features": next(widths)}), 21)
    assert loaded.shapes.error(second.replace("_fc2", "_add")) is not None
    report("edit reaching the end of the chain", cascade_ms, node=second, reinferred=len(seen[-1]),
           ratio=round(cascade_ms / full_ms, 4))
    loaded.set_params(second, {"out_features": WIDTH})
    assert validate(loaded) == []


if __name__ == "__main__":
    main()
