"""Find a learning rate for a graph file: the learning-rate range test.

``studio lr-find FILE [--steps N] [--start LR] [--end LR] [--json] [-o OUT.json]
[--allow-outside PATH ...]``

From the weights a run of FILE starts from, with its optimizer, trains N mini-batches
(default 100) at a learning rate rising exponentially from --start (1e-6) to --end (10),
and prints the loss against the rate and the suggested rate: a tenth of the rate where the
smoothed loss was lowest. ``-o OUT`` writes a copy of the graph with that rate set as
``training.optimizer.lr``; FILE itself is written only when OUT names it.

Exit status: 0 a rate was found (and written), 1 the graph cannot run or no rate can be
suggested (the message says why), 2 the file cannot be read or the arguments are wrong.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

PROG = "studio lr-find"
EXIT_OK, EXIT_REFUSED, EXIT_UNREADABLE = 0, 1, 2


def _rate(text: str) -> float:
    from studio.training.config import LR_MAX

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text[:40]!r}") from None
    if not (math.isfinite(value) and 0 < value <= LR_MAX):
        raise argparse.ArgumentTypeError(f"must be above 0 and at most {LR_MAX:g}, got {text[:40]}")
    return value


def _steps(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text[:40]!r}") from None
    if not 2 <= value <= 100_000:
        raise argparse.ArgumentTypeError(f"must be between 2 and 100000, got {value}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="graph file (.json) with a training section and a data set")
    parser.add_argument("--steps", type=_steps, default=100, help="mini-batches the test trains (default 100)")
    parser.add_argument("--start", type=_rate, default=1e-6, help="the first learning rate (default 1e-6)")
    parser.add_argument("--end", type=_rate, default=10.0, help="the last learning rate (default 10)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("-o", "--output", metavar="OUT", help="write a copy of the graph with the suggested rate set")
    parser.add_argument("--allow-outside", metavar="PATH", action="append", default=[],
                        help="let the file's data set path reach PATH (a file, or a folder and everything in it) "
                             "outside the file's folder; repeat for more")


def run(args: argparse.Namespace) -> int:
    from studio.files import GraphFileError, load
    from studio.graph.text import terminal_lines

    if args.start >= args.end:
        print(f"{PROG}: --start ({args.start:g}) must be below --end ({args.end:g})", file=sys.stderr)
        return EXIT_UNREADABLE
    path = Path(args.file)
    try:
        graph = load(path)
    except GraphFileError as exc:
        print(f"{PROG}: {terminal_lines(str(exc))}", file=sys.stderr)
        return EXIT_UNREADABLE

    from studio.doctor.sanity import lr_find
    from studio.files.reach import Reach
    from studio.training.errors import TrainingSetupError

    reach = Reach.of(path.parent, args.allow_outside or ())
    try:
        result = lr_find(graph, reach, start=args.start, end=args.end, steps=args.steps)
    except TrainingSetupError as exc:
        print(f"{PROG}: {terminal_lines(f'{path}: {exc}')}", file=sys.stderr)
        return EXIT_REFUSED
    if args.json:
        print(json.dumps(result.to_json()))
    else:
        print(terminal_lines(result.render()))
    if result.suggested is None:
        print(f"{PROG}: {path}: {result.why}", file=sys.stderr)
        return EXIT_REFUSED
    if args.output:
        return _write(graph, result, path, Path(args.output))
    return EXIT_OK


def _write(graph, result, source: Path, out: Path) -> int:
    """The graph with the suggestion applied, saved at ``out`` (FILE only when ``out`` is FILE)."""
    from studio.files import GraphFileError, save
    from studio.graph.fixes import FixError, apply_fix
    from studio.graph.text import terminal_lines

    try:
        apply_fix(graph, result.fix())  # the graph as read from FILE: nothing else holds it
        save(graph, out)
    except (FixError, GraphFileError) as exc:
        print(f"{PROG}: {terminal_lines(str(exc))}", file=sys.stderr)
        return EXIT_REFUSED
    same = out.resolve() == source.resolve()
    print(f"{'updated' if same else 'wrote'} {out}: training.optimizer.lr = {result.suggested:g}", file=sys.stderr)
    return EXIT_OK
