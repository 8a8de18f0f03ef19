"""Measure trained weights on the graph's validation split.

``studio evaluate FILE --weights CHECKPOINT [--json] [--allow-outside PATH ...]``

The data set is loaded as ``studio train`` loads it (the same split, the same
scaling), the weights are loaded into the compiled graph, and the validation split
goes through it once. Classification (and per-position token classes, and node
classification on its validation nodes): the confusion matrix (rows the true class,
columns the predicted one; with more than 20 classes only the per-class table),
per-class precision, recall, F1 and support, accuracy, and their macro and weighted
averages. Regression and forecasts: MAE, RMSE, R^2 and a summary of the residuals
(predicted - target). ``--json`` prints one object.

A data set without a validation split is refused: set ``training.dataset.val_fraction``
(and train with it, so that the validation samples stay unseen).

Exit status: 0 evaluated, 1 the graph, weights or data set were refused (the message
names the place), 2 a file cannot be read or the arguments are wrong.
"""

from __future__ import annotations

import argparse
import json
import math
import sys

PROG = "studio evaluate"
MATRIX_MOST = 20  # classes beyond which the matrix is too wide for a terminal


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="graph file (.json) with its training settings and data set")
    parser.add_argument("--weights", metavar="CHECKPOINT", required=True,
                        help="trained weights: the .safetensors a run saved (or its .train.pt)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--allow-outside", metavar="PATH", action="append", default=[],
                        help="let the file's data set reach PATH outside the file's folder; repeat for more")


def run(args: argparse.Namespace) -> int:
    from studio.evaluation.evaluate import evaluate
    from studio.evaluation.loading import EvaluationError, load_trained
    from studio.graph.text import terminal_lines
    from studio.training.device import pick_device

    try:
        loaded = load_trained(args.file, args.weights, args.allow_outside)
        try:
            device = pick_device(loaded.checked.config.device)
        except (ValueError, RuntimeError) as exc:  # a device the file names and this machine lacks
            raise EvaluationError(f"{args.file}: {exc}") from None
        result = evaluate(loaded, str(device))
    except EvaluationError as exc:
        print(f"{PROG}: {terminal_lines(str(exc))}", file=sys.stderr)
        return exc.code
    if args.json:
        out = {"file": str(args.file), "weights": str(args.weights), "dataset": result.dataset,
               "task": result.task, "split": "validation", "samples": result.samples,
               "loss": _finite(result.loss), **result.report.to_json()}
        print(json.dumps(out))
        return 0
    head = (f"{args.file}: {result.dataset} ({result.task}), validation split of {result.samples:,} "
            f"{'nodes' if result.task == 'node_classification' else 'samples'}, weights {args.weights}")
    print(terminal_lines(head))
    if result.loss is not None:
        print(f"validation loss {result.loss:.4f}")
    print()
    text = class_text(result.report) if hasattr(result.report, "counts") else regression_text(result.report)
    for line in text:
        print(terminal_lines(line))
    return 0


def _finite(value):
    return value if value is None or math.isfinite(value) else None


def class_text(report) -> list[str]:
    """The confusion matrix (when it fits a terminal) and the per-class table."""
    names = list(report.class_names)
    c = len(names)
    out: list[str] = []
    if c <= MATRIX_MOST:
        label = max(len(n) for n in names)
        cell = max(max(len(n) for n in names), len(str(int(report.counts.max(initial=0)))), 3)
        out.append("confusion matrix (rows: true class, columns: predicted class)")
        out.append(" " * label + "  " + " ".join(f"{n:>{cell}}" for n in names))
        for name, row in zip(names, report.counts):
            out.append(f"{name:>{label}}  " + " ".join(f"{int(v):>{cell}}" for v in row))
    else:
        out.append(f"{c} classes: the confusion matrix is too wide to print and is left out "
                   "(--json holds it); per-class figures:")
    out.append("")
    first = max(max(len(n) for n in names), len("weighted avg"))
    out.append(f"{'class':<{first}}  precision  recall      f1  support")
    for name, p, r, f, s in zip(names, report.precision, report.recall, report.f1, report.support):
        out.append(f"{name:<{first}}  {p:9.3f}  {r:6.3f}  {f:6.3f}  {int(s):7d}")
    total = report.total
    out.append("")
    out.append(f"{'accuracy':<{first}}  {'':9}  {'':6}  {report.accuracy:6.3f}  {total:7d}")
    for label, avg in (("macro avg", report.macro()), ("weighted avg", report.weighted())):
        out.append(f"{label:<{first}}  {avg['precision']:9.3f}  {avg['recall']:6.3f}  {avg['f1']:6.3f}  {total:7d}")
    return out


def regression_text(report) -> list[str]:
    """MAE, RMSE, R^2 and the residuals' summary."""
    out = [f"MAE   {report.mae:.6g}", f"RMSE  {report.rmse:.6g}", f"R^2   {report.r2:.4f}",
           f"over {report.count:,} values", ""]
    s = report.residual_summary()
    if s:
        sampled = report.predicted.size < report.count
        what = f" ({report.predicted.size:,} of them, evenly chosen)" if sampled else ""
        out.append(f"residuals (predicted - target){what}:")
        out.append(f"  mean {s['mean']:.4g}  std {s['std']:.4g}")
        out.append(f"  min {s['min']:.4g}  5% {s['p5']:.4g}  25% {s['p25']:.4g}  median {s['median']:.4g}  "
                   f"75% {s['p75']:.4g}  95% {s['p95']:.4g}  max {s['max']:.4g}")
    return out
