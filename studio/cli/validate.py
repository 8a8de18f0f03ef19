"""Check a graph file: a model summary (node, block, output shape, parameters), its problems and
the network doctor's warnings, each with its place and the fixes that mend it.

Exit status: 0 valid (warnings allowed), 1 invalid (problems listed by node), 2 the file cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from studio.files import GraphFileError, load
from studio.graph import Graph, Problem, validate
from studio.graph.text import terminal_text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="graph file (.json)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--allow-outside", metavar="PATH", action="append", default=[],
                        help="let the file's data set and checkpoint paths reach PATH (a file, or a folder "
                             "and everything in it) outside the file's folder; repeat for more")


def run(args: argparse.Namespace) -> int:
    try:
        graph = load(args.file)
    except GraphFileError as exc:
        # names, keys and values in a message come from the file: shown escaped, never acted on
        print(f"studio validate: {terminal_text(str(exc))}", file=sys.stderr)
        if args.json:
            problem = Problem(None, None, str(exc), "file")
            print(json.dumps({"valid": False, "params": 0, "nodes": [], "errors": [problem.to_json()]}))
        return 2
    from studio.files.reach import Reach

    report = summarize(graph, Reach.of(Path(args.file).parent, args.allow_outside or ()))
    if args.json:
        print(json.dumps(report))
    else:
        title = f"{args.file} ({graph.name})" if graph.name else args.file
        print(render(report, title))
    return 0 if report["valid"] else 1


def summarize(graph: Graph, base_dir: Any = None, problems: list[Problem] | None = None) -> dict[str, Any]:
    """The ``--json`` report: validity, total parameters, one row per node, the errors (what keeps the
    graph from training: the graph's own, and where the file has training settings, theirs and its data
    set's, as ``studio train`` sees them) and the warnings (the doctor's lints), each with its fixes.
    ``problems``: found already (``studio.doctor.lints.examine``)."""
    if problems is None:
        from studio.doctor.lints import examine

        problems = examine(graph, base_dir)[2]
    problems = list(problems)
    rows = []
    for node_id in graph.topological_order():
        node = graph.node(node_id)
        shapes = [graph.shapes.output(node_id, p.name) for p in node.output_ports()]
        count, count_problem = _count(graph, node_id)
        if count_problem is not None:
            problems.append(count_problem)
        rows.append({
            "id": node_id,
            "block": node.block,
            # the first output's shape; blocks with several outputs list them all
            "output_shape": _shape(shapes[0]) if shapes else None,
            "params": count,
            **({"output_shapes": {p.name: _shape(s) for p, s in zip(node.output_ports(), shapes)}}
               if len(shapes) > 1 else {}),
        })
    total = sum(r["params"] or 0 for r in rows)
    errors = [p for p in problems if not p.is_warning]
    return {
        "valid": not errors,
        "params": total,
        "nodes": rows,
        "errors": [p.to_json() for p in errors],
        "warnings": [p.to_json() for p in problems if p.is_warning],
    }


def render(report: dict[str, Any], title: str) -> str:
    """The report as a model-summary table followed by the problems, by node."""
    header = ("Node", "Block", "Output shape", "Params")
    body = []
    for r in report["nodes"]:
        if "output_shapes" in r:
            shape = ", ".join(f"{k}: {_fmt_shape(v)}" for k, v in r["output_shapes"].items())
        else:
            shape = _fmt_shape(r["output_shape"])
        params = "?" if r["params"] is None else f"{r['params']:,}"
        body.append((terminal_text(r["id"]), terminal_text(r["block"]), shape, params))
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(4)]

    def line(row: tuple[str, ...]) -> str:
        cells = [row[i].ljust(widths[i]) for i in range(3)] + [row[3].rjust(widths[3])]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * w for w in widths)
    n = len(report["nodes"])
    out = [terminal_text(title), line(header), rule, *(line(row) for row in body), rule]
    out.append(f"Total: {report['params']:,} parameters in {n} node{'s' if n != 1 else ''}")
    errors = report["errors"]
    if not errors:
        out.append("Valid.")
    else:
        out.append(f"Invalid: {len(errors)} problem{'s' if len(errors) != 1 else ''}")
        out += problem_lines(errors)
    warnings = report.get("warnings", [])
    if warnings:
        out.append(f"Warnings: {len(warnings)}")
        out += problem_lines(warnings)
    return "\n".join(out)


def problem_lines(problems: list[dict[str, Any]]) -> list[str]:
    """Each problem of a report on its line, with its code, and each fix below it."""
    lines = []
    for e in problems:
        text = str(Problem(e["node"], e["port"], e["message"], e.get("kind", "shape")))
        code = f" [{e['code']}]" if e.get("code") else ""
        lines.append(f"  {terminal_text(text)}{code}")
        lines += [f"      fix: {terminal_text(f['title'])}" for f in e.get("fixes", [])]
    return lines


def _count(graph: Graph, node_id: str) -> tuple[int | None, Problem | None]:
    # Counted without torch where the block declares its count; sizes that pass the shape rule can
    # still be too large for torch to build, and those layers are built (on the meta device) to say why.
    return graph.param_count(node_id), graph.shapes.count_error(node_id)


def _shape(shape) -> list[int] | None:
    return None if shape is None else list(shape)


def _fmt_shape(shape) -> str:
    return "-" if shape is None else "[" + ", ".join(str(d) for d in shape) + "]"
