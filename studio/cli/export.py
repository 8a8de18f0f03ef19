"""Export a graph file to take the network away from Studio.

``studio export FILE --format python|torchrun|program [-o OUT]``

- python: one standalone PyTorch source file, a ``nn.Module`` class per network
  (printed when no ``-o`` is given).
- torchrun: a standalone DDP training script for ``torchrun --nproc_per_node=N``
  that trains with the file's training settings on an ``.npz`` file (printed
  when no ``-o`` is given).
- program: a ``torch.export`` program saved as ``.pt2`` (default ``FILE-stem.pt2``
  in the current directory; a graph with several networks writes one file per
  network, ``OUT-<network>.pt2``).

Exit status: 0 exported, 1 the graph is invalid (problems listed by node) or
cannot be exported in that format, 2 the file cannot be read, the output
cannot be written or the arguments are wrong.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

PROG = "studio export"
FORMATS = ("python", "torchrun", "program")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="graph file (.json)")
    parser.add_argument("--format", "-f", choices=FORMATS, required=True, help="what to write")
    parser.add_argument("-o", "--output", help="output path (python and torchrun print to stdout without it)")


def run(args: argparse.Namespace) -> int:
    from studio.export import ExportError, export_program, export_python, export_torchrun_script
    from studio.files import GraphFileError, load
    from studio.graph import InvalidGraphError
    from studio.training import ConfigError

    try:
        graph = load(args.file)
    except GraphFileError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    try:
        if args.format == "program":
            target = Path(args.output) if args.output else Path(f"{Path(args.file).stem}.pt2")
            written = export_program(graph, target)
            for path in written:
                print(f"{PROG}: wrote {path}", file=sys.stderr)
            return 0
        if args.format == "python":
            text = export_python(graph)
        else:
            text = export_torchrun_script(graph, args.file)
    except InvalidGraphError as exc:
        print(f"{PROG}: {args.file}: the graph is invalid, {len(exc.problems)} problem"
              f"{'s' if len(exc.problems) != 1 else ''}:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    except ConfigError as exc:
        print(f"{PROG}: {args.file}: the training settings are invalid:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    except ExportError as exc:
        print(f"{PROG}: {args.file}: cannot export as {args.format}: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"{PROG}: cannot write {exc.filename or args.output}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    if not args.output:
        sys.stdout.write(text)
        return 0
    try:
        Path(args.output).write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"{PROG}: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"{PROG}: wrote {args.output}", file=sys.stderr)
    return 0
