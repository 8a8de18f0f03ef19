"""Export a graph file to take the network away from Studio.

``studio export FILE --format python|torchrun|program|onnx [-o OUT] [--weights CHECKPOINT]
[--opset N] [--quantize int8] [--json]``

- python: one standalone PyTorch source file, a ``nn.Module`` class per network
  (printed when no ``-o`` is given).
- torchrun: a standalone DDP training script for ``torchrun --nproc_per_node=N``
  that trains with the file's training settings on an ``.npz`` file (printed
  when no ``-o`` is given).
- program: a ``torch.export`` program saved as ``.pt2`` (default ``FILE-stem.pt2``
  in the current directory; a graph with several networks writes one file per
  network, ``OUT-<network>.pt2``).
- onnx: an ONNX file (default ``FILE-stem.onnx``; one per network as for
  program; ``-o`` a folder puts it there), batch dimension free, names from the node ids. Before it is written
  onnxruntime runs it beside the compiled network on a random batch of 3 and of
  1: the largest difference is printed, and above 1e-4 the export is refused.
  ``--opset N`` asks for that ONNX opset.

``--quantize int8`` (onnx) also writes ``OUT.int8.onnx`` (onnxruntime dynamic
quantization: int8 weights) and prints one table: fp32 against int8 file
size, CPU latency per sample (batch 1, one thread, median of 50 interleaved
runs) and the score on the graph's validation split (accuracy, or MAE for
values); ``--json`` prints it as JSON. With program, PyTorch's dynamic
quantization is tried: torch 2.13 cannot export its modules, and says so.

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
import re
import sys
from pathlib import Path

from studio.graph.text import terminal_lines

PROG = "studio export"
FORMATS = ("python", "torchrun", "program", "onnx")
QUANTIZE = ("int8",)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="graph file (.json)")
    parser.add_argument("--format", "-f", choices=FORMATS, required=True, help="what to write")
    parser.add_argument("-o", "--output", help="output path (python and torchrun print to stdout without it)")
    parser.add_argument("--weights", metavar="CHECKPOINT",
                        help="trained weights to take along (.safetensors from a run; program, onnx and python)")
    parser.add_argument("--opset", type=int, metavar="N", help="ONNX opset to write (onnx; default: the exporter's)")
    parser.add_argument("--quantize", choices=QUANTIZE,
                        help="also write an int8 copy and print fp32 against int8 (onnx; program where torch can)")
    parser.add_argument("--json", action="store_true", help="with --quantize: print the table as JSON")


def run(args: argparse.Namespace) -> int:
    from studio.export import ExportError, export_program, export_python, export_torchrun_script
    from studio.export.outputs import write_files
    from studio.files import GraphFileError, load
    from studio.graph import InvalidGraphError
    from studio.training import ConfigError
    from studio.training.checkpoint import CheckpointError

    refused = _argument_problem(args) or _output_problem(args)
    if refused:
        print(f"{PROG}: {refused}", file=sys.stderr)
        return 2
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
        if args.format == "onnx":
            return _export_onnx(args, graph, trained)
        if args.format == "program":
            target = output_target(args, ".pt2")
            quantized = _quantize_program(graph, trained, target) if args.quantize else {}
            written = export_program(graph, target, trained)
            if quantized:
                written += write_files({path: _program_writer(program) for path, program in quantized.items()})
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
    except WeightsFileUnreadable as exc:
        print(f"{PROG}: {terminal_lines(str(exc))}", file=sys.stderr)
        return 2
    except CheckpointError as exc:
        print(f"{PROG}: {terminal_lines(str(exc))}", file=sys.stderr)
        return 1
    except ExportError as exc:
        print(f"{PROG}: {terminal_lines(f'{args.file}: cannot export as {args.format}: {exc}')}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"{PROG}: cannot write {_written_name(exc, args)}: {exc.strerror or exc}", file=sys.stderr)
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


def _argument_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with the flags together, before anything is read."""
    if args.opset is not None:
        if args.format != "onnx":
            return "--opset goes with --format onnx"
        import onnx

        newest = onnx.defs.onnx_opset_version()
        if not 7 <= args.opset <= newest:
            return f"--opset {args.opset}: ONNX opsets run from 7 to {newest}"
    if args.quantize and args.format not in ("onnx", "program"):
        return "--quantize goes with --format onnx or program"
    if args.json and not args.quantize:
        return "--json goes with --quantize (it prints the table as JSON)"
    return None


def output_target(args: argparse.Namespace, suffix: str) -> Path:
    """Where ``-o`` asks for the file: ``FILE-stem`` + ``suffix`` in the current folder without it, and
    in the folder ``-o`` names when it is one."""
    default = Path(f"{Path(args.file).stem}{suffix}")
    if not args.output:
        return default
    target = Path(args.output)
    return target / default if target.is_dir() else target


def _output_problem(args: argparse.Namespace) -> str | None:
    """``-o`` naming the graph file itself: the export would overwrite the graph it came from."""
    if args.output and not Path(args.output).is_dir():
        return _clash(args, [Path(args.output)])
    return None


def _clash(args: argparse.Namespace, targets: list[Path]) -> str | None:
    from studio.export.quantize import int8_path

    graph = Path(args.file)
    if args.format == "onnx" and args.quantize:
        targets = [*targets, *(int8_path(t) for t in targets)]
    for target in targets:
        if _same_file(target, graph):
            return (f"-o {args.output}: that is the graph file {args.file}; the export would overwrite it, "
                    "give another name")
    return None


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
    except OSError:
        return False


def _export_onnx(args: argparse.Namespace, graph, trained) -> int:
    """Write, check and report the ONNX files; with --quantize the int8 copies and their table."""
    from studio.export.onnx import compiled_networks, export_onnx, onnx_paths

    networks = compiled_networks(graph, trained)
    target = output_target(args, ".onnx")
    clash = _clash(args, [*onnx_paths(list(networks), target).values()])
    if clash:
        print(f"{PROG}: {clash}", file=sys.stderr)
        return 2
    results = export_onnx(graph, target, networks, args.opset, int8=bool(args.quantize))
    several = len(results) > 1
    for result in results:
        network = f" {result.network}" if several else ""
        print(f"{PROG}: wrote {terminal_lines(str(result.path))}", file=sys.stderr)
        d = result.differences
        rest = "".join(f" ({d[b]:.2g} on a batch of {b})" for b in d if b != 3)
        print(f"{PROG}: onnxruntime matches the compiled network{network}: max |difference| "
              f"{d.get(3, result.max_difference):.2g} on a batch of 3{rest}", file=sys.stderr)
        if result.int8_path is not None:
            from studio.export.quantize import int8_weights

            what = ("int8 weights" if int8_weights(result.int8_path) else
                    "no weights to quantize: no convolution or matrix product with weights; the same network")
            print(f"{PROG}: wrote {terminal_lines(str(result.int8_path))} ({what})", file=sys.stderr)
    if not args.quantize:
        return 0
    import json

    from studio.export.int8_table import load_validation, measure

    dataset, note = load_validation(graph, Path(args.file).resolve().parent)
    for result in results:
        table = measure(graph, networks[result.network], result.path, result.int8_path, dataset, note)
        if args.json:
            print(json.dumps(table.to_json()))
        else:
            title = f"{result.path.name} against {result.int8_path.name}"
            print(terminal_lines(title))
            print(terminal_lines(table.text()))
    return 0


def _quantize_program(graph, trained, target: Path) -> dict:
    """PyTorch's dynamic quantization of each program (``OUT.int8.pt2``), tried before anything is
    written; torch 2.13 refuses (``ExportError``)."""
    from studio.export import example_inputs
    from studio.export.onnx import compiled_networks
    from studio.export.program import program_paths
    from studio.export.quantize import int8_path, quantize_program

    networks = compiled_networks(graph, trained)
    paths = program_paths(list(networks), target)
    return {int8_path(paths[key]): quantize_program(net, example_inputs(graph, net, 2))
            for key, net in networks.items()}


def _program_writer(program):
    def write(tmp: Path) -> None:
        import torch

        buffer = io.BytesIO()  # as export_program: torch's own file writer aborts the process when a write fails
        torch.export.save(program, buffer)
        tmp.write_bytes(buffer.getbuffer())
    return write


def trained_networks(graph, checkpoint: str):
    """The graph compiled, with the weights of ``checkpoint`` loaded; one network only."""
    from studio.compile import compile_networks
    from studio.training.checkpoint import CheckpointError, load_weights

    _readable_weights(checkpoint)
    networks = compile_networks(graph)
    if len(networks) != 1:
        raise CheckpointError(f"{checkpoint}: --weights takes graphs with one network; this one has "
                              f"{len(networks)} ({', '.join(networks)})")
    load_weights(checkpoint, networks)
    return next(iter(networks.values()))


def _written_name(exc: OSError, args: argparse.Namespace) -> str:
    """The file a failed write concerns, as the person named it: never the temporary name beside it."""
    name = exc.filename or args.output
    if name and re.fullmatch(r"\..*\.[0-9a-f]{8}\.tmp.*", Path(str(name)).name) and args.output:
        return terminal_lines(str(args.output))
    return terminal_lines(str(name))


class WeightsFileUnreadable(Exception):
    """``--weights`` names no weights file that can be read (exit 2, as an unreadable graph file)."""


def _readable_weights(checkpoint: str) -> None:
    from studio.training.checkpoint import weights_path

    given, weights = Path(checkpoint), weights_path(checkpoint)
    if weights.is_file():
        return
    wanted = "the .safetensors file a run with training.checkpoint saved"
    if given.is_dir():
        raise WeightsFileUnreadable(f"--weights {checkpoint}: is a folder; give {wanted}")
    if given.exists():
        raise WeightsFileUnreadable(f"--weights {checkpoint}: not a weights file; give {wanted}")
    raise WeightsFileUnreadable(f"{weights}: no such weights file")
