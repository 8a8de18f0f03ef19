"""Apply a trained network to inputs of your own.

``studio predict FILE --weights CHECKPOINT INPUT... [--top K] [--json] [--saliency OUT_DIR]
[--allow-outside PATH ...]``

Each INPUT is a file of raw (unscaled) samples, as the data set holds them before
its standardisation, which is applied here as training applied it:

- CSV (.csv): one sample per row, the data set's feature columns; a header line is
  optional (a CSV data set's columns are then matched by name).
- NumPy (.npy): [n, *shape] samples, or one sample [*shape].
- Images (.png, .jpg, .bmp, ...): converted to the Input's channels and size; a grey
  image drawn the other way round from the training images (black on white for
  white-on-black digits) is inverted.
- Text (any other file): one sample per line; token models read tokens through the
  data set's vocabulary, float models read numbers.

Each sample is printed with its name (file, file:line, file[index]) and its top K
classes with their probabilities, or its values in the targets' units. ``--json``
prints one object. ``--saliency OUT_DIR`` writes, for each image input, a heat map of
the pixels that drove its prediction (gradient x input).

The graph file's data set is rebuilt to know its classes and scaler; it must lie in
the file's folder unless ``--allow-outside`` grants its place.

Exit status: 0 predicted, 1 the graph, weights or an input were refused (the message
names the file and line), 2 a file cannot be read or the arguments are wrong.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

PROG = "studio predict"


def _top(text: str) -> int:
    try:
        k = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text[:40]!r}") from None
    if k < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {k}")
    return k


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="graph file (.json) with its training settings and data set")
    parser.add_argument("--weights", metavar="CHECKPOINT", required=True,
                        help="trained weights: the .safetensors a run saved (or its .train.pt)")
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="CSV, .npy, image or text files of raw samples")
    parser.add_argument("--top", type=_top, default=3, metavar="K", help="classes shown per sample (default 3)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--saliency", metavar="OUT_DIR",
                        help="write a saliency heat map (PNG) for each image input into OUT_DIR")
    parser.add_argument("--allow-outside", metavar="PATH", action="append", default=[],
                        help="let the file's data set reach PATH outside the file's folder; repeat for more")


def run(args: argparse.Namespace) -> int:
    from studio.evaluation.inputs import range_note, read_inputs
    from studio.evaluation.loading import EvaluationError
    from studio.evaluation.predict import Predictor
    from studio.graph.text import terminal_lines

    if args.saliency and Path(args.saliency).exists() and not Path(args.saliency).is_dir():
        print(f"{PROG}: --saliency {terminal_lines(args.saliency)}: a file, not a folder for the heat maps",
              file=sys.stderr)
        return 2
    try:
        predictor = Predictor.from_files(args.file, args.weights, args.allow_outside)
        samples = read_inputs(args.inputs, predictor)
        import numpy as np

        prediction = predictor.predict(np.stack([s.x for s in samples]))
        maps = _saliency(args.saliency, predictor, samples) if args.saliency else {}
    except EvaluationError as exc:
        print(f"{PROG}: {terminal_lines(str(exc))}", file=sys.stderr)
        return exc.code
    except OSError as exc:
        print(f"{PROG}: cannot write {exc.filename or args.saliency}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    note = range_note(samples, predictor)
    if note:
        print(f"{PROG}: {terminal_lines(note)}", file=sys.stderr)
    if args.json:
        items = prediction.to_json(args.top)
        out = {"file": str(args.file), "weights": str(args.weights), "kind": prediction.kind,
               "class_names": list(prediction.class_names),
               "predictions": [{"input": s.name, **item, **({"saliency": str(maps[i])} if i in maps else {})}
                               for i, (s, item) in enumerate(zip(samples, items))]}
        print(json.dumps(out))
    else:
        for line in lines(prediction, [s.name for s in samples], args.top):
            print(terminal_lines(line))
        for path in maps.values():
            print(f"{PROG}: wrote {terminal_lines(str(path))}", file=sys.stderr)
    if args.saliency and not maps:
        print(f"{PROG}: no image inputs, so no saliency maps were written", file=sys.stderr)
    return 0


def lines(prediction, names: list[str], k: int) -> list[str]:
    """One line per sample: its name, then its classes and probabilities, or its values."""
    width = max((len(n) for n in names), default=0)
    out = []
    if prediction.kind == "values":
        for name, v in zip(names, prediction.values):
            flat = v.reshape(-1)
            shown = f"{flat[0]:.6g}" if flat.size == 1 else "[" + ", ".join(f"{x:.6g}" for x in flat) + "]"
            out.append(f"{name:<{width}}  {shown}")
        return out
    if prediction.per_position:
        for name, row in zip(names, prediction.top()):
            tokens = " ".join(c for c, _ in row)
            least = min(p for _, p in row)
            out.append(f"{name:<{width}}  {tokens}  (least sure position {least:.1%})")
        return out
    for name, row in zip(names, prediction.top(k)):
        out.append(f"{name:<{width}}  " + "  ".join(f"{c} {p:6.1%}" for c, p in row))
    return out


def _saliency(folder: str, predictor, samples) -> dict[int, Path]:
    """A heat map per image input, written into ``folder`` (made if missing)."""
    import numpy as np

    from studio.evaluation.heatmap import write_heat_map
    from studio.export.outputs import write_files

    images = [i for i, s in enumerate(samples) if s.image]
    if not images:
        return {}
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    maps = predictor.saliency(np.stack([samples[i].x for i in images]))
    targets: dict[int, Path] = {}
    used: set[str] = set()
    for i in images:
        stem = Path(samples[i].name).stem
        name, n = f"{stem}.saliency.png", 2
        while name in used:  # two inputs of one name from different folders
            name, n = f"{stem}-{n}.saliency.png", n + 1
        used.add(name)
        targets[i] = out / name
    # all maps or none: each is written beside its target and renamed when every one is written
    write_files({targets[i]: (lambda tmp, sal=sal: write_heat_map(sal, tmp)) for i, sal in zip(images, maps)})
    return targets
