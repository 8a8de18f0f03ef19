"""What a probe costs a grouped network against the same network flat.

ResNet-18 (examples/resnet18.json, input 3x64x64 so it runs on a CPU in seconds) flat, and
with each basic block grouped (``layer1_0`` ... ``layer4_1``, eight groups): the two
networks have the same weights' shapes and compute the same thing. One JSON line per part
of a probe: the activation probe (every node's output recorded and summarised: groups
record their inner nodes as ``layer2_0.conv1``, plus one row per group) and the gradient
norms (every node, and per group over all its parameters), median milliseconds of
``BENCH_REPEATS`` (default 20), the grouped over the flat (target <= 1.25: a grouped
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
BLOCKS = [f"layer{a}_{b}" for a in (1, 2, 3, 4) for b in (0, 1)]


def networks():
    from studio.compile import compile_graph
    from studio.files import load
    from studio.graph.groups import group_nodes

    flat = load(ROOT / "examples" / "resnet18.json")
    flat.set_params("image", {"shape": [3, 64, 64]})
    grouped = flat.copy()
    for stem in BLOCKS:
        members = [n for n in grouped.nodes if n.startswith(stem + "_")]
        group_nodes(grouped, members, None, group_id=stem)
    return compile_graph(flat), compile_graph(grouped), len(flat), len(grouped)


def median_ms(fn) -> float:
    fn()
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def main() -> int:
    import torch

    from studio.training.probes import activation_stats, grad_norms, record_outputs

    torch.manual_seed(0)
    torch.set_num_threads(1)
    flat, grouped, n_flat, n_grouped = networks()
    grouped.load_state_dict({k: v for k, v in zip(grouped.state_dict(), flat.state_dict().values())})
    x = torch.randn(8, 3, 64, 64)
    for net in (flat, grouped):
        net(x).sum().backward()
    rows = {}
    for name, net in (("flat", flat), ("grouped", grouped)):
        acts = activation_stats(record_outputs(net, (x,)), 30)
        rows[name] = {
            "activations_ms": median_ms(lambda: activation_stats(record_outputs(net, (x,)), 30)),
            "forward_ms": median_ms(lambda: net(x)),
            "grad_norms_ms": median_ms(lambda: grad_norms({"model": net})),
            "activation_rows": len(acts),
            "gradient_rows": len(grad_norms({"model": net})),
        }
    load = os.getloadavg()[0]
    for part in ("activations_ms", "grad_norms_ms"):
        ratio = rows["grouped"][part] / rows["flat"][part]
        print(json.dumps({
            "bench": "probe_groups", "part": part, "flat_ms": round(rows["flat"][part], 2),
            "grouped_ms": round(rows["grouped"][part], 2), "ratio": round(ratio, 3), "target": "<= 1.25",
            "meets": ratio <= 1.25, "flat_nodes": n_flat, "grouped_top_nodes": n_grouped,
            "rows_flat": rows["flat"]["activation_rows" if part == "activations_ms" else "gradient_rows"],
            "rows_grouped": rows["grouped"]["activation_rows" if part == "activations_ms" else "gradient_rows"],
            "forward_ms": {k: round(v["forward_ms"], 2) for k, v in rows.items()},
            "load_avg_1min": round(load, 2)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
