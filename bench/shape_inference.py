"""Shape inference on big graphs: load, validate, and the edits a person makes.

A long chain of residual units (Linear, ReLU, Linear, Add with a skip wire) is
built, saved and loaded; then one Linear in the middle changes its width, which
re-infers that node and the two whose inputs change, and no more; then an edit
that breaks a residual Add, which reaches every node below; then a node put on
a wire in the middle (held, as the editor does it: one re-inference).

The edit is timed at ``--nodes`` (default 10,000) and at 1,000 nodes in the same
run, rounds of the two taking turns, so the size-independence ratio compares
like with like. Times are the process's CPU time (the work is single-threaded;
on a shared machine wall time would count other processes), medians of the
repeats. Prints one JSON object per case: ``case``, ``ratio``, ``target``,
``meets`` and the raw figures; cases without a target (save, load, ...) are
measurements only (``target`` and ``meets`` null).
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

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from studio.files import load, save  # noqa: E402
from studio.graph import Graph, validate  # noqa: E402

NODES = 10_000
SMALL = 1_000
WIDTH = 64
STEP = 220
EDIT_TARGET_MS = 2.0
SIZE_RATIO_TARGET = 1.5


def place(col: int) -> tuple[float, float]:
    """Rows of 200 columns: a file refuses positions beyond a million."""
    return ((col % 200) * STEP, (col // 200) * 300)


def build(nodes: int = NODES) -> Graph:
    g = Graph("residual chain")
    g.description = f"{nodes} nodes: residual units of Linear, ReLU, Linear and Add, for the shape-inference benchmark."
    g.add_node("Input", {"shape": [WIDTH]}, (0, 0), "input")
    last, col, unit = "input", 1, 0
    while len(g) + 4 <= nodes:
        skip = last
        for name, block, params in (("fc1", "Linear", {"out_features": WIDTH}), ("relu", "ReLU", {}),
                                    ("fc2", "Linear", {"out_features": WIDTH})):
            node = g.add_node(block, params, place(col), f"u{unit}_{name}")
            g.connect(last, "out", node.id, "in")
            last, col = node.id, col + 1
        add = g.add_node("Add", {}, place(col), f"u{unit}_add")
        g.connect(last, "out", add.id, "in1")
        g.connect(skip, "out", add.id, "in2")
        last, col, unit = add.id, col + 1, unit + 1
    while len(g) < nodes:
        node = g.add_node("ReLU", {}, place(col), f"tail{col}")
        g.connect(last, "out", node.id, "in")
        last, col = node.id, col + 1
    return g


def timed(fn, repeats: int) -> tuple[float, object]:
    """Median CPU milliseconds of ``repeats`` calls, and the last result."""
    times, result = [], None
    for _ in range(repeats):
        start = time.process_time()
        result = fn()
        times.append((time.process_time() - start) * 1000)
    return statistics.median(times), result


def report(case: str, ratio: float | None, target: float | None, meets: bool | None, **figures) -> None:
    print(json.dumps({"case": case, "ratio": None if ratio is None else round(ratio, 4), "target": target,
                      "meets": meets, **figures}), flush=True)


def middle_target(graph: Graph) -> str:
    units = sum(1 for n in graph.nodes if n.endswith("_add"))
    return f"u{units // 2}_fc1"


def visited(graph: Graph) -> int | None:
    return getattr(graph.shapes, "visited", None)  # absent on trees before it was counted


class Editor:
    """One graph and its width edit: each call flips the middle Linear between 32 and 64."""

    def __init__(self, graph: Graph) -> None:
        self.graph, self.node = graph, middle_target(graph)

    def __call__(self) -> None:
        wide = self.graph.node(self.node).params["out_features"] == WIDTH
        self.graph.set_params(self.node, {"out_features": 32 if wide else WIDTH})


def edit_side_by_side(big: Graph, small: Graph, rounds: int, repeats: int) -> tuple[float, float]:
    """The same edit at both sizes, in rounds that alternate which size goes first."""
    edits = [Editor(big), Editor(small)]
    for e in edits:  # warm up
        for _ in range(4):
            e()
    samples: list[list[float]] = [[], []]
    for r in range(rounds):
        order = (0, 1) if r % 2 == 0 else (1, 0)
        for i in order:
            samples[i].append(timed(edits[i], repeats)[0])
    return statistics.median(samples[0]), statistics.median(samples[1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=NODES, help="size of the big graph (default 10,000)")
    parser.add_argument("--small", type=int, default=SMALL, help="size it is compared with (default 1,000)")
    parser.add_argument("--rounds", type=int, default=9, help="rounds of the size comparison (default 9)")
    args = parser.parse_args(argv)
    n = args.nodes
    load_avg = round(os.getloadavg()[0], 2)

    graph = build(n)
    assert len(graph) == n and validate(graph) == []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "chain.json"
        ms, _ = timed(lambda: save(graph, path), 3)
        report("save", None, None, None, ms=round(ms, 3), nodes=n, bytes=path.stat().st_size)
        ms, loaded = timed(lambda: load(path), 3)
        report("load", None, None, None, ms=round(ms, 3), nodes=n)
    assert validate(loaded) == []

    ms, problems = timed(lambda: validate(loaded), 11)
    report("validate", None, None, None, ms=round(ms, 3), nodes=n, problems=len(problems))

    full_ms, _ = timed(lambda: loaded.shapes.update_all(), 3)
    report("full re-inference", None, None, None, ms=round(full_ms, 3), nodes=n)

    # The edit: a Linear in the middle changes width; its ReLU and the next Linear
    # follow, the unit's output stays [64], so the rest of the chain keeps its shapes.
    small = build(args.small)
    big_ms, small_ms = edit_side_by_side(loaded, small, args.rounds, 21)
    target = middle_target(loaded)
    seen: list[tuple[str, ...]] = []
    loaded.subscribe(lambda e: seen.append(e.nodes) if e.kind == "shapes_changed" else None)
    loaded.set_params(target, {"out_features": WIDTH})
    loaded.set_params(target, {"out_features": 32})
    assert validate(loaded) == [] and loaded.shapes.output(target) == (32,)
    report(f"edit_{n}", big_ms / EDIT_TARGET_MS, EDIT_TARGET_MS, big_ms <= EDIT_TARGET_MS, ms=round(big_ms, 4),
           nodes=n, node=target, reinferred=visited(loaded), changed=len(seen[-1]), load=load_avg,
           note="ratio = ms / target ms")
    size_ratio = big_ms / small_ms
    report("edit_size_independence", size_ratio, SIZE_RATIO_TARGET, size_ratio <= SIZE_RATIO_TARGET,
           ms_big=round(big_ms, 4), ms_small=round(small_ms, 4), nodes_big=n, nodes_small=args.small,
           load=load_avg, note="ratio = edit ms at nodes_big / at nodes_small, rounds interleaved")
    loaded.set_params(target, {"out_features": WIDTH})

    # The worst case: the unit's second Linear no longer matches its skip wire, so the
    # Add fails and every node below loses its shape; undoing it restores them all. It
    # costs what it changes: no more per node than re-inferring the whole graph.
    second = target.replace("_fc1", "_fc2")
    widths = iter([32, WIDTH] * 50)
    cascade_ms, _ = timed(lambda: loaded.set_params(second, {"out_features": next(widths)}), 6)
    reached = visited(loaded)
    assert loaded.shapes.error(second.replace("_fc2", "_add")) is None  # an even count: back to 64
    per_node = cascade_ms / (reached or n) / (full_ms / n)
    report("edit reaching the end of the chain", per_node, 1.0, per_node <= 1.0, ms=round(cascade_ms, 3),
           node=second, reinferred=reached, full_ms=round(full_ms, 3),
           note="ratio = cost per node re-inferred / per node of a full re-inference")

    # A node put on a wire in the middle, as the editor does it (one held step): the wire
    # comes out, the node goes in with two wires, and only the two nodes whose inputs
    # changed are re-inferred.
    relu = target.replace("_fc1", "_relu")
    edge = loaded.edge_into(relu, "in")
    count = iter(range(10**6))

    def insert_and_remove() -> None:
        nid = f"extra{next(count)}"
        with loaded.shapes.held():
            loaded.disconnect(edge)
            loaded.add_node("Identity", {}, (0, 0), nid)
            loaded.connect(edge.src, edge.src_port, nid, "in")
            loaded.connect(nid, "out", relu, "in")
        with loaded.shapes.held():
            loaded.remove_node(nid)
            loaded.connect(edge.src, edge.src_port, relu, "in")

    insert_ms, _ = timed(insert_and_remove, 21)
    assert validate(loaded) == []
    report(f"insert_on_wire_{n}", insert_ms / EDIT_TARGET_MS, EDIT_TARGET_MS, insert_ms <= EDIT_TARGET_MS,
           ms=round(insert_ms, 4), nodes=n, load=load_avg,
           note="ratio = ms (insert and take out again, two held edits) / target ms")


if __name__ == "__main__":
    main()
