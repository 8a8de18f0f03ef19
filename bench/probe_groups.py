"""What a probe costs a grouped network against the same network flat.

ResNet-18 (input 3x64x64 so it runs on a CPU in seconds) flat (tests/files/v1/resnet18_flat.json,
70 nodes) and grouped (examples/resnet18.json: each basic block ``layer1_0`` ... ``layer4_1`` a
group, 16 top-level nodes): the two networks compute the same thing. One JSON line per part
of a probe: the activation probe (every node's output recorded and summarised: groups
record their inner nodes as ``layer2_0.conv1``, plus one row per group) and the gradient
norms (every node, and per group over all its parameters), median milliseconds of
``BENCH_REPEATS`` (default 30), flat and grouped taken in turn, the grouped over the flat (target <= 1.25: a grouped
network's probe costs about what the flat one's does, its extra rows being one per group).

    .venv/bin/python bench/probe_groups.py
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

REPEATS = int(os.environ.get("BENCH_REPEATS", "20"))


def networks():
    from studio.compile import compile_graph
    from studio.files import load

    flat = load(ROOT / "tests" / "files" / "v1" / "resnet18_flat.json")  # the example before it had groups
    grouped = load(ROOT / "examples" / "resnet18.json")  # a stem, eight basic blocks, a head
    for g in (flat, grouped):
        g.set_params("image", {"shape": [3, 64, 64]})
    return compile_graph(flat), compile_graph(grouped), len(flat), len(grouped)


def paired_ms(fa, fb) -> tuple[float, float]:
    """Median milliseconds of two calls, taken in turn (a busy machine slows both alike)."""
    fa(), fb()
    ta, tb = [], []
    for _ in range(REPEATS):
        for fn, times in ((fa, ta), (fb, tb)):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
    return statistics.median(ta) * 1e3, statistics.median(tb) * 1e3


def main() -> int:
    import torch

    from studio.training.probes import activation_stats, grad_norms, record_outputs

    torch.manual_seed(0)
    torch.set_num_threads(1)
    flat, grouped, n_flat, n_grouped = networks()
    x = torch.randn(8, 3, 64, 64)
    for net in (flat, grouped):
        net(x).sum().backward()
    nets = {"flat": flat, "grouped": grouped}
    rows = {name: {"activation_rows": len(activation_stats(record_outputs(net, (x,)), 30)),
                   "gradient_rows": len(grad_norms({"model": net}))} for name, net in nets.items()}
    parts = {"activations_ms": lambda net: activation_stats(record_outputs(net, (x,)), 30),
             "forward_ms": lambda net: net(x),
             "grad_norms_ms": lambda net: grad_norms({"model": net})}
    for part, fn in parts.items():
        rows["flat"][part], rows["grouped"][part] = paired_ms(lambda: fn(flat), lambda: fn(grouped))
    load = os.getloadavg()[0]
    for part in ("activations_ms", "grad_norms_ms"):
        ratio = rows["grouped"][part] / rows["flat"][part]
        print(json.dumps({
            "bench": "probe_groups", "case": part, "ratio": round(ratio, 3), "target": 1.25,
            "meets": ratio <= 1.25, "meets_when": "ratio <= target", "flat_ms": round(rows["flat"][part], 2),
            "grouped_ms": round(rows["grouped"][part], 2), "flat_nodes": n_flat, "grouped_top_nodes": n_grouped,
            "rows_flat": rows["flat"]["activation_rows" if part == "activations_ms" else "gradient_rows"],
            "rows_grouped": rows["grouped"]["activation_rows" if part == "activations_ms" else "gradient_rows"],
            "forward_ms": {k: round(v["forward_ms"], 2) for k, v in rows.items()},
            "load_avg_1min": round(load, 2)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
