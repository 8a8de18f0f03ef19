"""Examine a graph file as the network doctor does: what keeps it from training, what will make it
train badly, where, and the fix for each.

``--fix`` applies every fix that is the only one offered for its finding, to a copy (``-o``, else
FILE.fixed.json beside it); ``--run`` looks at the network at initialisation (one forward and
backward pass: the loss against its expected value, each layer's activations and gradients);
``--overfit-batch`` checks that the network can learn one batch by heart.

Exit status: 0 no errors (warnings allowed) and every check asked for passed, 1 errors or a
failed check, 2 the file cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from studio.files import GraphFileError, load, save
from studio.graph import Graph, Problem
from studio.graph.text import terminal_lines, terminal_text

from .validate import render, summarize

MAX_ROUNDS = 50  # fixes applied one by one, each against the graph the one before left


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="graph file (.json)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a report")
    parser.add_argument("--fix", action="store_true",
                        help="apply each finding's fix where it has exactly one, to a copy of the file")
    parser.add_argument("-o", "--output", metavar="OUT", help="where --fix writes the copy (default FILE.fixed.json)")
    parser.add_argument("--run", action="store_true",
                        help="one forward and backward pass at initialisation: loss, activations, gradients")
    parser.add_argument("--overfit-batch", action="store_true",
                        help="train on one batch: a network that cannot learn it by heart is wired wrong")
    parser.add_argument("--allow-outside", metavar="PATH", action="append", default=[],
                        help="let the file's data set and checkpoint paths reach PATH outside the file's folder")


def run(args: argparse.Namespace) -> int:
    try:
        graph = load(args.file)
    except GraphFileError as exc:
        print(f"studio check: {terminal_text(str(exc))}", file=sys.stderr)
        if args.json:
            print(json.dumps({"valid": False, "errors": [Problem(None, None, str(exc), "file").to_json()]}))
        return 2
    from studio.files.reach import Reach

    reach = Reach.of(Path(args.file).parent, args.allow_outside or ())
    title = f"{args.file} ({graph.name})" if graph.name else str(args.file)
    result: dict[str, Any] = {}
    text: list[str] = []
    status = 0
    if args.fix:
        out = Path(args.output) if args.output else Path(args.file).with_suffix(".fixed.json")
        if out.resolve() == Path(args.file).resolve():
            print("studio check: --fix writes a copy; give -o a path other than the file itself", file=sys.stderr)
            return 2
        applied, refused = fix_all(graph, reach)
        try:
            save(graph, out)
        except GraphFileError as exc:  # names the path and why: no folder, a folder, no permission
            print(f"studio check: {terminal_text(str(exc))}", file=sys.stderr)
            return 2
        except OSError as exc:
            print(f"studio check: cannot write {out}: {exc}", file=sys.stderr)
            return 2
        result["fixed"] = {"written": str(out), "applied": applied, "refused": refused}
        text.append(f"Applied {len(applied)} fix{'es' if len(applied) != 1 else ''}, wrote {out}:")
        text += [f"  {terminal_text(a)}" for a in applied] or ["  (none had a single fix)"]
        text += [f"  not applied: {terminal_text(r)}" for r in refused]
        title = f"{out} (the fixed copy)"
    from studio.doctor.lints import examine

    _config, dataset, problems = examine(graph, reach)
    report = summarize(graph, reach, problems)
    result.update(report)
    if args.fix:  # what was applied comes first, then the copy's report
        text.append(render(report, title))
    else:
        text.insert(0, render(report, title))
    if not report["valid"]:
        status = 1
    if (args.run or args.overfit_batch) and report["valid"]:
        status = max(status, _runs(args, graph, reach, dataset, result, text))
    elif args.run or args.overfit_batch:
        result["not_run"] = "the graph has errors to mend first"  # --json says why no run is there too
        text.append("Not run: the graph has errors to mend first.")
    if args.json:
        print(json.dumps(result))
    else:
        print("\n".join(text))
    return status


def fix_all(graph: Graph, reach: Any) -> tuple[list[str], list[str]]:
    """Apply, one at a time, the only fix of each finding that has one; the graph is examined again
    after each, since a fix changes what the others see. Returns the fixes applied and those refused."""
    from studio.doctor.lints import examine, unambiguous
    from studio.graph.fixes import FixError, apply_fix

    applied: list[str] = []
    refused: list[str] = []
    tried: set[str] = set()
    for _ in range(MAX_ROUNDS):
        pending = [(p, f) for p, f in unambiguous(examine(graph, reach)[2]) if f.title not in tried]
        if not pending:
            break
        problem, fix = pending[0]
        tried.add(fix.title)
        try:
            apply_fix(graph, fix)
        except FixError as exc:
            refused.append(str(exc))
            continue
        applied.append(f"{fix.title} ({problem.code or problem.kind} at {problem.node or 'the settings'})")
    return applied, refused


def _runs(args, graph: Graph, reach: Any, dataset: Any, result: dict, text: list[str]) -> int:
    """The checks that run the network: each reports, and a failure makes the status 1."""
    from studio.training.errors import TrainingSetupError

    status = 0
    try:
        if args.run:
            from studio.doctor.preview import preview

            seen = preview(graph, reach, dataset)
            result["preview"] = seen.to_json()
            text.append(seen.render())
        if args.overfit_batch:
            from studio.doctor.sanity import overfit_batch

            learnt = overfit_batch(graph, reach, dataset)
            result["overfit_batch"] = learnt.to_json()
            text.append(learnt.render())
            status = 0 if learnt.passed else 1
    except TrainingSetupError as exc:
        result["run_error"] = str(exc)
        text.append(f"Cannot run: {terminal_lines(str(exc))}")  # its list of problems, a line each
        return 1
    return status
