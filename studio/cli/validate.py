"""Check a graph file: a model summary (node, block, output shape, parameters) and its problems.

Exit status: 0 valid, 1 invalid (problems listed by node), 2 the file cannot be read.
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


def summarize(graph: Graph, base_dir: Any = None) -> dict[str, Any]:
    """The ``--json`` report: validity, total parameters, one row per node, problems: the graph's,
    and, where the file has training settings, theirs and its data set's, as ``studio train`` sees them."""
    if graph.training:
        from studio.training.preflight import check

        problems = check(graph, base_dir, need_data=False)[2]
    else:
        problems = validate(graph)
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
    return {
        "valid": not problems,
        "params": total,
        "nodes": rows,
        "errors": [p.to_json() for p in problems],
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
        return "\n".join(out)
    out.append(f"Invalid: {len(errors)} problem{'s' if len(errors) != 1 else ''}")
    for e in errors:
        out.append(f"  {terminal_text(str(Problem(e['node'], e['port'], e['message'], e.get('kind', 'shape'))))}")
    return "\n".join(out)


def _count(graph: Graph, node_id: str) -> tuple[int | None, Problem | None]:
    # Sizes that pass the shape rule can still be too large for torch to build.
    return graph.param_count(node_id), graph.shapes.count_error(node_id)


def _shape(shape) -> list[int] | None:
    return None if shape is None else list(shape)


def _fmt_shape(shape) -> str:
    return "-" if shape is None else "[" + ", ".join(str(d) for d in shape) + "]"
