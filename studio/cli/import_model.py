"""Import a PyTorch model as an editable graph of blocks.

``studio import MODULE:CALLABLE --input-shape SHAPE [--input-shape SHAPE ...]
[--kwargs JSON] [--dtype float|long] [-o OUT.json] [--weights OUT.safetensors] [--flat]``

MODULE is a Python file (``models/net.py``) or an importable module name
(``mypkg.nets``); CALLABLE a class or a function returning a ``torch.nn.Module``,
called with the keyword arguments of ``--kwargs`` (a JSON object). Each
``--input-shape`` is one forward argument's sample shape without the batch
(``1,28,28`` or ``[1,28,28]``), in order; ``--dtype`` is float, or long for token
ids (once for all inputs, or once per input).

The module is traced with torch.fx; every layer and call becomes its block,
named after the module's attribute path (``layer1.0.conv1`` becomes node
``layer1_0_conv1``). A submodule of your own class that the forward calls once
(torchvision's ``layer1.0``, a ``BasicBlock``) becomes a group node
``layer1_0`` with its blocks inside (``conv1``); instances of one class wired
alike share one definition named after the class, the parameters that differ
between them exposed. ``--flat`` imports every block at the top level. ``--weights`` writes the module's weights under the graph's
names (a ``.safetensors`` file that ``studio train --weights``, ``studio export
--weights`` and the editor's File > Load Weights read). Without ``-o`` the graph
goes to ``CALLABLE.json`` in the current folder. Both files are written, or
neither.

Exit status: 0 imported, 1 the model cannot become blocks (a call with no block,
a forward that cannot be traced, a layer whose sizes do not fit; the message
names the fx node, what it calls and the module path), 2 the arguments, the
module or the callable are wrong, or a file cannot be written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from studio.graph.text import terminal_lines

PROG = "studio import"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", metavar="MODULE:CALLABLE",
                        help="a Python file or module, and the class or function that builds the model")
    parser.add_argument("--kwargs", metavar="JSON", help="keyword arguments for CALLABLE, a JSON object")
    parser.add_argument("--input-shape", metavar="SHAPE", action="append", default=[],
                        help="one sample's shape without the batch, e.g. 1,28,28; once per forward argument")
    parser.add_argument("--dtype", action="append", choices=("float", "long"),
                        help="float values, or long for integer token ids (once, or once per input)")
    parser.add_argument("-o", "--output", metavar="OUT.json", help="graph file to write (default CALLABLE.json)")
    parser.add_argument("--weights", metavar="OUT.safetensors", help="also write the module's weights here")
    parser.add_argument("--flat", action="store_true",
                        help="every block at the top level: no groups for the submodules of your own classes")


def run(args: argparse.Namespace) -> int:
    from studio.files import GraphFileError
    from studio.importing import ImportRefused, import_model, model_from, parse_kwargs, parse_shape, write
    from studio.importing.check import BATCH, CHECK_MOST

    target = Path(args.output) if args.output else None
    try:
        kwargs = parse_kwargs(args.kwargs)
        shapes = [parse_shape(s) for s in args.input_shape]
        if not shapes:
            print(f"{PROG}: give --input-shape: one sample's shape without the batch (e.g. 1,28,28)",
                  file=sys.stderr)
            return 2
        model, name = model_from(args.target, kwargs)
        imported = import_model(model, shapes, args.dtype or ["float"], name, groups=not args.flat)
        target = target or Path(f"{name}.json")
        written = write(imported, target, args.weights)
    except ImportRefused as exc:
        print(f"{PROG}: {terminal_lines(exc.message)}", file=sys.stderr)
        return exc.code
    except GraphFileError as exc:
        print(f"{PROG}: {terminal_lines(str(exc))}", file=sys.stderr)
        return 2
    except OSError as exc:
        where = terminal_lines(str(exc.filename or target or args.output))
        print(f"{PROG}: cannot write {where}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # the model's own code failing where no check foresaw it: one line, no trace
        print(f"{PROG}: {terminal_lines(args.target)}: the import failed: {type(exc).__name__}: "
              f"{terminal_lines(_first_line(exc))}", file=sys.stderr)
        return 1
    graph = imported.graph
    print(f"{PROG}: {len(graph)} blocks, {graph.total_params():,} parameters", file=sys.stderr)
    if imported.difference is None:
        print(f"{PROG}: not run beside the model (over {CHECK_MOST:,} parameters)", file=sys.stderr)
    else:
        print(f"{PROG}: the same outputs as the model on a random batch of {BATCH} (largest difference "
              f"{imported.difference:.2g})", file=sys.stderr)
    for path in written:
        print(f"{PROG}: wrote {terminal_lines(str(path))}", file=sys.stderr)
    return 0


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
