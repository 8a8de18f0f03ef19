"""What the Trainer costs over a minimal hand-written loop, side by side.

Both train the same compiled spiral MLP (2 -> 64 -> 64 -> 3, ReLU), on the
same data held whole on the device, with the same optimizer (Adam, lr 0.01),
batch size and thread count. The hand-written loop is what a person would
write: a permutation per epoch, index-slice batches, zero_grad / forward /
cross_entropy / backward / step, a running loss summed on the device and read
once per epoch, and a validation pass (loss and accuracy) per epoch.

Each round runs the hand-written loop, the Trainer, and the hand-written loop
again, and compares the Trainer with the mean of the two; the median over the
rounds is the figure. One JSON line per case:

    {"case": "probes_off", "ratio": trainer samples/s / hand-written samples/s, ...}
    {"case": "probes_default", ...}

Targets: ratio >= 0.97 with probes off, >= 0.93 with the default probes.

    python bench/trainer_overhead.py [--device cpu|cuda] [--rounds 11] [--epochs 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from studio.compile import compile_graph  # noqa: E402
from studio.data import load_dataset  # noqa: E402
from studio.graph import Graph  # noqa: E402
from studio.training import Trainer  # noqa: E402

DATA = {"name": "spiral", "classes": 3, "points": 1000, "noise": 0.2, "val_fraction": 0.2, "seed": 0}


def spiral_mlp() -> Graph:
    g = Graph("spiral_mlp")
    prev = None
    for block, params, node_id in (("Input", {"shape": [2]}, "points"), ("Linear", {"out_features": 64}, "hidden1"),
                                   ("ReLU", {}, "relu1"), ("Linear", {"out_features": 64}, "hidden2"),
                                   ("ReLU", {}, "relu2"), ("Linear", {"out_features": 3}, "logits")):
        g.add_node(block, params, id=node_id)
        if prev:
            g.connect(prev, "out", node_id, "in")
        prev = node_id
    return g


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


# On a shared CPU, wall time mostly measures the neighbours; with one torch
# thread, this thread's CPU time measures the work itself. With several threads,
# or on a GPU where the work happens elsewhere, the wall clock is the measure.
clock = time.perf_counter


def handwritten(graph: Graph, data, device: torch.device, epochs: int, batch_size: int, lr: float) -> float:
    """Seconds for ``epochs`` epochs of the minimal loop (set-up not counted)."""
    torch.manual_seed(0)
    model = compile_graph(graph).to(device)
    x, y = data.train.x.to(device), data.train.y.to(device)
    vx, vy = data.val.x.to(device), data.val.y.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    n = x.shape[0]
    sync(device)
    start = clock()
    for _ in range(epochs):
        perm = torch.randperm(n, device=device)
        total = torch.zeros((), device=device)
        for i in range(0, n, batch_size):
            idx = perm[i:i + batch_size]
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.detach()
        model.eval()
        with torch.no_grad():
            out = model(vx)
            val_loss = F.cross_entropy(out, vy)
            val_acc = (out.argmax(1) == vy).float().mean()
        model.train()
        _ = (total / n).item(), val_loss.item(), val_acc.item()
    sync(device)
    return clock() - start


def trainer(graph: Graph, data, device: torch.device, epochs: int, batch_size: int, lr: float,
            probes: bool, threads: int) -> float:
    config = {"epochs": epochs, "batch_size": batch_size, "optimizer": {"name": "adam", "lr": lr},
              "device": device.type, "seed": 0, "threads": threads}
    if not probes:
        config["probes"] = False
    t = Trainer(graph, data, config=config, callback=lambda event: None)
    t.prepare()
    sync(device)
    start = clock()
    result = t.run()
    sync(device)
    took = clock() - start
    if result.status != "finished":
        raise RuntimeError(f"the trainer did not finish: {result.message}")
    return took


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda", "mps"))
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads, the same for both loops")
    parser.add_argument("--clock", choices=("auto", "thread", "wall"), default="auto",
                        help="auto: the thread's CPU time on one CPU thread, else wall time")
    args = parser.parse_args(argv)
    global clock
    use_thread = args.clock == "thread" or (args.clock == "auto" and args.device == "cpu" and args.threads == 1)
    clock = time.thread_time if use_thread else time.perf_counter

    device = torch.device(args.device)
    torch.set_num_threads(args.threads)
    graph, data = spiral_mlp(), load_dataset(DATA)
    lr = 0.01
    samples = args.epochs * len(data.train)
    handwritten(graph, data, device, 1, args.batch_size, lr)  # warm-up of both paths
    trainer(graph, data, device, 1, args.batch_size, lr, True, args.threads)
    for case, probes in (("probes_off", False), ("probes_default", True)):
        ratios, hand_rates, trainer_rates = [], [], []
        for _ in range(args.rounds):
            # hand, trainer, hand: the trainer is compared with the mean of the loops
            # either side of it, so a drift in the machine's speed cancels out
            before = handwritten(graph, data, device, args.epochs, args.batch_size, lr)
            took = trainer(graph, data, device, args.epochs, args.batch_size, lr, probes, args.threads)
            after = handwritten(graph, data, device, args.epochs, args.batch_size, lr)
            hand = (before + after) / 2
            hand_rates.append(samples / hand)
            trainer_rates.append(samples / took)
            ratios.append(hand / took)
        print(json.dumps({
            "case": case, "ratio": round(statistics.median(ratios), 4),
            "ratio_min": round(min(ratios), 4), "ratio_max": round(max(ratios), 4),
            "trainer_samples_per_s": round(statistics.median(trainer_rates)),
            "handwritten_samples_per_s": round(statistics.median(hand_rates)),
            "device": device.type, "rounds": args.rounds, "epochs": args.epochs,
            "batch_size": args.batch_size, "threads": args.threads, "train_samples": len(data.train),
            "clock": "thread" if use_thread else "wall",
        }), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
