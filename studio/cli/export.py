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

``--weights CHECKPOINT`` (the ``.safetensors`` a run saved) takes the trained
weights along: a program carries them inside; python writes them beside the
source as ``OUT`` with the suffix ``.pt``, a ``state_dict`` the exported class
loads with ``model.load_state_dict(torch.load(path))``. Graphs with one network
only: a GAN's checkpoint names its networks by role, not by input.

Every file is written to a temporary name beside its target and renamed when
all are written: an export that fails leaves existing files as they were.

Exit status: 0 exported, 1 the graph is invalid (problems listed by node) or
cannot be exported in that format, 2 the file cannot be read, the output
cannot be written or the arguments are wrong.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

from studio.graph.text import terminal_lines

PROG = "studio export"
FORMATS = ("python", "torchrun", "program")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="graph file (.json)")
    parser.add_argument("--format", "-f", choices=FORMATS, required=True, help="what to write")
    parser.add_argument("-o", "--output", help="output path (python and torchrun print to stdout without it)")
    parser.add_argument("--weights", metavar="CHECKPOINT",
                        help="trained weights to take along (.safetensors from a run; program and python)")


def run(args: argparse.Namespace) -> int:
    from studio.export import ExportError, export_program, export_python, export_torchrun_script
    from studio.export.outputs import write_files
    from studio.files import GraphFileError, load
    from studio.graph import InvalidGraphError
    from studio.training import ConfigError
    from studio.training.checkpoint import CheckpointError

    try:
        graph = load(args.file)
    except GraphFileError as exc:
        print(f"{PROG}: {terminal_lines(str(exc))}", file=sys.stderr)
        return 2
    if args.weights and args.format == "torchrun":
        print(f"{PROG}: --weights goes with --format program or python; a torchrun script trains its own",
              file=sys.stderr)
        return 2
    if args.weights and args.format == "python" and not args.output:
        print(f"{PROG}: --weights with --format python needs -o OUT (the weights go beside it)", file=sys.stderr)
        return 2
    trained = None
    try:
        if args.weights:
            trained = trained_networks(graph, args.weights)
        if args.format == "program":
            target = Path(args.output) if args.output else Path(f"{Path(args.file).stem}.pt2")
            written = export_program(graph, target, trained)
            for path in written:
                print(f"{PROG}: wrote {terminal_lines(str(path))}", file=sys.stderr)
            return 0
        if args.format == "python":
            text = export_python(graph)
        else:
            text = export_torchrun_script(graph, args.file)
    except InvalidGraphError as exc:
        print(f"{PROG}: {terminal_lines(str(args.file))}: the graph is invalid, {len(exc.problems)} problem"
              f"{'s' if len(exc.problems) != 1 else ''}:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {terminal_lines(str(problem))}", file=sys.stderr)
        return 1
    except ConfigError as exc:
        print(f"{PROG}: {terminal_lines(str(args.file))}: the training settings are invalid:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {terminal_lines(str(problem))}", file=sys.stderr)
        return 1
    except CheckpointError as exc:
        print(f"{PROG}: {terminal_lines(str(exc))}", file=sys.stderr)
        return 1
    except ExportError as exc:
        print(f"{PROG}: {terminal_lines(f'{args.file}: cannot export as {args.format}: {exc}')}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"{PROG}: cannot write {exc.filename or args.output}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    if not args.output:
        sys.stdout.write(text)
        return 0
    target = Path(args.output)
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError as exc:
        print(f"{PROG}: cannot write {args.output}: the source holds text a file cannot store ({exc.reason})",
              file=sys.stderr)
        return 2
    writers = {target: lambda tmp: tmp.write_bytes(data)}
    if trained is not None:
        import torch

        weights = target.with_suffix(".pt")
        if weights == target:
            print(f"{PROG}: -o {args.output}: the weights would go to the same file ({weights.name}); "
                  "give the source a .py name", file=sys.stderr)
            return 2
        buffer = io.BytesIO()  # serialised first: torch's file writer aborts the process when a write fails
        torch.save(trained.state_dict(), buffer)
        writers[weights] = lambda tmp: tmp.write_bytes(buffer.getbuffer())
    try:
        # the source and its weights as one unit: a failure leaves both targets as they were
        write_files(writers)
    except OSError as exc:
        print(f"{PROG}: cannot write {exc.filename or args.output}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"{PROG}: wrote {args.output}", file=sys.stderr)
    if trained is not None:
        print(f"{PROG}: wrote {weights} (model.load_state_dict(torch.load({str(weights)!r})))", file=sys.stderr)
    return 0


def trained_networks(graph, checkpoint: str):
    """The graph compiled, with the weights of ``checkpoint`` loaded; one network only."""
    from studio.compile import compile_networks
    from studio.training.checkpoint import CheckpointError, load_weights

    networks = compile_networks(graph)
    if len(networks) != 1:
        raise CheckpointError(f"{checkpoint}: --weights takes graphs with one network; this one has "
                              f"{len(networks)} ({', '.join(networks)})")
    load_weights(checkpoint, networks)
    return next(iter(networks.values()))
