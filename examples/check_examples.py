"""Train every example that learns at full length and check its target.

    python examples/check_examples.py [NAME ...] [--device cpu]

Each example runs through ``studio train FILE --json`` (its own defaults), and
its last line, the best epoch, is checked against the target below. One JSON
line per example: ``example``, ``metric``, ``value``, ``target``, ``seconds``
(wall time of the whole command, start-up included), ``limit_s`` and ``ok``.
The exit status is 1 when any example misses its target or its time limit.
``make examples`` runs it.
"""

from __future__ import annotations

import argparse
import json
import operator
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
LIMIT_S = 120.0  # each example, on two CPU cores

# example -> (metric read from the best epoch, comparison, target)
TARGETS: dict[str, tuple[str, str, float]] = {
    "xor_mlp": ("train_acc", ">=", 1.0),
    "xor_perceptron": ("train_acc", "<=", 0.75),  # one straight line cannot do better, in any epoch
    "perceptron_rule": ("train_acc", ">=", 1.0),  # AND: one line splits the corners, and the rule finds it
    "linear_regression": ("val_loss", "<=", 0.02),  # the noise's variance is 0.01
    "universal_approximation": ("val_loss", "<=", 0.06),  # 3 units: coarse on purpose (sin x's variance is 0.5)
    "spiral_mlp": ("val_acc", ">=", 0.95),
    "vanishing_gradients": ("val_acc", "<=", 0.5),  # stuck near chance (1/3), in every epoch
    "overfitting": ("val_loss_rise", ">=", 3.0),  # final validation loss over its best
    "lenet5_digits": ("val_acc", ">=", 0.95),
    "rnn_sequence": ("val_loss", "<=", 0.01),
    "lstm_sequence": ("val_loss", "<=", 0.01),
    "gru_sequence": ("val_loss", "<=", 0.01),
    "transformer_sequence": ("val_acc", ">=", 0.95),
    "gcn_karate": ("val_acc", ">=", 0.85),
    "gan_ring2d": ("modes_covered", ">=", 6),
}
COMPARE = {">=": operator.ge, "<=": operator.le}
EVERY_EPOCH = {"xor_perceptron", "vanishing_gradients"}  # a target that must hold in every epoch, not just the best
# Metrics read from the whole run rather than from one epoch.
DERIVED = {"val_loss_rise": lambda epochs: epochs[-1]["val_loss"] / min(e["val_loss"] for e in epochs)}


def check(name: str, device: str | None) -> dict:
    metric, op, target = TARGETS[name]
    cmd = [sys.executable, "-m", "studio", "train", str(HERE / f"{name}.json"), "--json"]
    if device:
        cmd += ["--device", device]
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=os.environ.copy())
    seconds = time.perf_counter() - started
    record = {"example": name, "metric": metric, "value": None, "target": f"{op} {target:g}",
              "seconds": round(seconds, 1), "limit_s": LIMIT_S, "ok": False}
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        record["error"] = (proc.stderr.strip() or f"exit status {proc.returncode}")[-500:]
        return record
    epochs = [json.loads(line) for line in lines]
    last = epochs.pop()
    value = DERIVED[metric](epochs) if metric in DERIVED else last.get(metric)
    record.update(value=value, epoch=last.get("epoch"), epochs=len(epochs))
    ok = value is not None and COMPARE[op](value, target)
    if name in EVERY_EPOCH:
        worst = max(e[metric] for e in epochs) if op == "<=" else min(e[metric] for e in epochs)
        record["worst_epoch_value"] = worst
        ok = ok and COMPARE[op](worst, target)
    record["ok"] = ok and seconds <= LIMIT_S
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help=f"examples to check (default: all: {', '.join(TARGETS)})")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), help="passed to studio train")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in TARGETS]
    if unknown:
        parser.error(f"unknown example(s) {', '.join(unknown)} (known: {', '.join(TARGETS)})")
    failed = 0
    for name in args.names or TARGETS:
        record = check(name, args.device)
        failed += not record["ok"]
        print(json.dumps(record), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
