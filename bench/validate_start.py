"""`studio validate` from a fresh process: what a person (or a CI job) waits for.

Each round starts, in turn, a bare ``python -c pass`` and ``python -m studio validate FILE``
(who goes first alternating), each a fresh process, and takes its wall time and its CPU
time (user + system, from the kernel's count for finished children). Bytecode is
cached in a folder of its own, as an installed package has it (the first, untimed run
writes it), so the figures do not include compiling the sources. ``--against DIR``
times the same command in another checkout in the same rounds (a before/after).

Prints one JSON object per case: ``validate_resnet18`` has ``seconds`` (median wall),
``ratio`` = seconds / the 0.5 s target (meets when <= 1), ``cpu_seconds``, the bare
interpreter's figures, and which heavy modules the command imported.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 0.5
HEAVY = ("torch", "networkx", "numpy", "PySide6")

_MODULES = """
import runpy, sys, json
sys.argv = ["studio", "validate", {file!r}]
try:
    runpy.run_module("studio", run_name="__main__")
except SystemExit:
    pass
print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)), file=sys.stderr)
"""


def run(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):  # 1: the graph has problems, still a full validate
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def heavy_modules(cwd: Path, env: dict[str, str], file: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", _MODULES.format(file=file, heavy=HEAVY)], cwd=cwd, env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return json.loads(done.stderr.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", default="examples/resnet18.json", help="graph file, relative to the checkout")
    parser.add_argument("--rounds", type=int, default=11, help="rounds (default 11)")
    parser.add_argument("--against", type=Path, default=None, help="another checkout, timed in the same rounds")
    args = parser.parse_args(argv)

    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    cache = tempfile.mkdtemp(prefix="studio-bytecode-")
    env["PYTHONPYCACHEPREFIX"] = cache
    # a checkout's own folder first on the path, so --against runs that checkout's code
    trees = {"this": ROOT, **({"against": args.against.resolve()} if args.against else {})}
    commands = {"python_start": ([sys.executable, "-c", "pass"], ROOT)}
    for name, tree in trees.items():
        commands[f"validate_{name}"] = ([sys.executable, "-m", "studio", "validate", args.file], tree)
    for cmd, cwd in commands.values():  # writes the bytecode; untimed
        run(cmd, cwd, env)

    walls: dict[str, list[float]] = {k: [] for k in commands}
    cpus: dict[str, list[float]] = {k: [] for k in commands}
    names = list(commands)
    for r in range(args.rounds):
        for name in (names if r % 2 == 0 else names[::-1]):
            wall, cpu = run(*commands[name], env)
            walls[name].append(wall)
            cpus[name].append(cpu)
    load = round(os.getloadavg()[0], 2)
    med = {k: statistics.median(v) for k, v in walls.items()}
    cpu = {k: statistics.median(v) for k, v in cpus.items()}
    stem = Path(args.file).stem
    for name, tree in trees.items():
        key = f"validate_{name}"
        case = f"validate_{stem}" if name == "this" else f"validate_{stem}_against"
        print(json.dumps({
            "case": case, "ratio": round(med[key] / TARGET_S, 3), "target": TARGET_S, "meets": med[key] <= TARGET_S,
            "seconds": round(med[key], 3), "cpu_seconds": round(cpu[key], 3),
            "python_start_seconds": round(med["python_start"], 3), "python_start_cpu_seconds": round(cpu["python_start"], 3),
            "over_python_start_cpu": round(cpu[key] / cpu["python_start"], 2) if cpu["python_start"] else None,
            "imports": heavy_modules(tree, env, args.file), "tree": str(tree), "rounds": args.rounds, "load": load,
            "note": "ratio = median wall seconds / target seconds",
        }), flush=True)


if __name__ == "__main__":
    main()
