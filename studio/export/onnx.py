"""A graph as an ONNX file, checked in onnxruntime before it is written.

Each network is traced in evaluation mode (dropout off, batch norm on its
running statistics) with ``torch.export`` and translated by PyTorch's ONNX
exporter (``torch.onnx.export(..., dynamo=True)``), the batch dimension left
free (``batch``). Inputs are named after the Input nodes, outputs after the
nodes they come from (``node.port`` for a node with several outputs), ONNX
nodes and initializers after the node ids they compute (``onnx_names``).

Before anything is written, onnxruntime runs the file on a random batch of 3
and of 1 beside the compiled network; a largest difference above ``TOLERANCE``
refuses the export. A graph with several networks writes one file per network
(``OUT-<network>.onnx``), all as one unit (``outputs.write_files``).
"""

from __future__ import annotations

import errno
import re
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from studio.compile import Network, Networks, compile_networks
from studio.graph import Graph

from .errors import ExportError
from .onnx_check import TOLERANCE, ReferenceFailed, max_difference
from .onnx_names import Traceable, name_batch, rename
from .outputs import write_files
from .program import example_inputs, program_paths
from .quantize import int8_path, quantize_onnx
from .quiet import quiet

PROTOBUF_LIMIT = 2**31 - 1  # one ONNX file holds at most 2 GB


@dataclass(frozen=True)
class OnnxExport:
    """One network written as ONNX, and how closely onnxruntime matched it."""

    network: str  # the network's key: its first Input node's id
    path: Path
    differences: dict[int, float] = field(default_factory=dict)  # batch size -> max |difference|
    opset: int = 0
    int8_path: Path | None = None  # its int8 copy (``--quantize int8``)

    @property
    def max_difference(self) -> float:
        return max(self.differences.values(), default=0.0)


def onnx_paths(keys: list[str], path: str | Path) -> dict[str, Path]:
    """Where each network goes: ``path`` for one, ``stem-key.onnx`` for several."""
    path = Path(path)
    return program_paths(keys, path if path.suffix else path.with_suffix(".onnx"))


def export_onnx(graph: Graph, path: str | Path, module: nn.Module | dict | None = None,
                opset: int | None = None, int8: bool = False) -> list[OnnxExport]:
    """Export every network of ``graph`` to ONNX, check each in onnxruntime, then write them all.

    ``module``: the compiled graph whose weights to keep (a ``Network``, ``Networks`` or
    ``compiled_networks``' dict, e.g. trained); without it the graph is compiled afresh.
    ``opset``: the ONNX opset (the exporter's own when None). ``int8``: each file's dynamically
    quantized copy goes beside it (``OUT.int8.onnx``, ``quantize.quantize_onnx``), written in
    the same unit. Raises ``ExportError`` naming the node the exporter cannot express, or
    saying by how much onnxruntime differs; nothing is written then."""
    networks = compiled_networks(graph, module)
    paths = onnx_paths(list(networks), path)
    done: dict[Path, bytes] = {}
    results = []
    for key, net in networks.items():
        data, written_opset = network_bytes(graph, net, opset)
        try:
            differences = max_difference(graph, net, data)
        except ReferenceFailed as exc:
            raise ExportError(f"{_where(networks, key)}{_failing_node(graph, net, exc)}the compiled network "
                              f"itself cannot run a batch of {exc.batch}, so the file cannot be checked: "
                              f"{_first_line(exc)}") from exc
        except Exception as exc:  # noqa: BLE001 - onnxruntime's own reason, first line, by node where it names one
            raise ExportError(f"{_where(networks, key)}{_ort_node(graph, exc)}onnxruntime cannot run the "
                              f"exported file: {_first_line(exc)}") from exc
        for batch, difference in differences.items():
            if not difference <= TOLERANCE:
                raise ExportError(
                    f"{_where(networks, key)}onnxruntime differs from the compiled network by up to "
                    f"{difference:.2g} on a batch of {batch} (at most {TOLERANCE:g} is accepted)")
        done[paths[key]] = data
        quantized = None
        if int8:
            quantized = int8_path(paths[key])
            done[quantized] = quantize_onnx(data)
        results.append(OnnxExport(key, paths[key], differences, written_opset, quantized))
    write_new_folders({target: _writer(data) for target, data in done.items()})
    return results


def write_new_folders(writers: dict) -> None:
    """``write_files``, creating the targets' missing folders first; a failure removes the folders it
    made and names the target it concerns (not its temporary name)."""
    made: list[Path] = []
    try:
        for target in writers:
            _make_folder(Path(target).parent, target, made)
        write_files(writers)
    except BaseException as exc:  # Ctrl+C too: the folders go with the temporary files
        for folder in reversed(made):
            try:
                folder.rmdir()
            except OSError:
                pass
        if not isinstance(exc, OSError):
            raise
        target = _target_of(exc.filename, list(writers))
        if target is None:
            raise
        raise OSError(exc.errno, exc.strerror or str(exc), str(target)) from exc


def _make_folder(folder: Path, target: Path, made: list[Path]) -> None:
    missing = []
    while not folder.exists():
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    if not folder.is_dir():
        raise OSError(errno.ENOTDIR, f"{folder} is a file, not a folder", str(target))
    for part in reversed(missing):
        part.mkdir()
        made.append(part)


def _target_of(filename, targets: list[Path]) -> Path | None:
    """The target a failed file name stands for: itself, or the temporary name beside it."""
    if filename is None:
        return None
    failed = Path(filename)
    for target in targets:
        target = Path(target)
        if failed == target or (failed.parent == target.parent and failed.name.startswith(f".{target.stem[:40]}.")
                                and ".tmp" in failed.name):
            return target
    return None


def network_bytes(graph: Graph, net: Network, opset: int | None = None) -> tuple[bytes, int]:
    """One compiled network as a serialised ONNX model (names set, batch free), and its opset."""
    traceable = Traceable(net)
    was_training = net.training
    net.eval()
    try:
        args = example_inputs(graph, net, 2, torch.Generator().manual_seed(0))
        program = _trace(graph, traceable, args)
        input_names = list(net.input_nodes)
        output_names = output_names_of(net)
        try:
            with quiet():
                onnx_program = torch.onnx.export(
                    program, args, dynamo=True, input_names=input_names, output_names=output_names,
                    opset_version=opset, optimize=True, verbose=False)
        except Exception as exc:  # noqa: BLE001 - said with the node it concerns
            raise _refusal(graph, traceable, exc, program) from exc
    finally:
        net.train(was_training)
    model = onnx_program.model
    rename(model, traceable.owners)
    name_batch(model)
    fixed = [v.name for v in model.graph.inputs if v.shape is not None and len(v.shape) and v.shape[0] != "batch"]
    if fixed:  # torch.export specialised it: the file would take one batch size only
        raise ExportError(f"the network fixes its batch size (input {fixed[0]}), so the ONNX file could not "
                          "leave the batch free")
    written = model.opset_imports.get("", 0)
    if opset is not None and written != opset:
        raise ExportError(f"the exporter cannot write opset {opset} for this network (it wrote opset {written}); "
                          "leave --opset out for the exporter's own")
    proto = onnx_program.model_proto
    try:
        size = proto.ByteSize()
    except Exception:  # noqa: BLE001 - protobuf refuses to even count past its limit
        size = PROTOBUF_LIMIT + 1
    if size > PROTOBUF_LIMIT:
        raise ExportError(f"the network takes {size / 2**30:.1f} GB or more; one ONNX file holds at most 2 GB")
    return proto.SerializeToString(), written


def output_names_of(net: Network) -> list[str]:
    """The output node ids; ``node.port`` for a node with several outputs (and for an Input that is its own output)."""
    counts: dict[str, int] = {}
    for node_id, _ in net.output_nodes:
        counts[node_id] = counts.get(node_id, 0) + 1
    inputs = set(net.input_nodes)  # an Input wired to nothing is its own output: one ONNX name cannot be both
    return [node_id if counts[node_id] == 1 and node_id not in inputs else f"{node_id}.{port}"
            for node_id, port in net.output_nodes]


def _trace(graph: Graph, traceable: Traceable, args: tuple[torch.Tensor, ...]) -> torch.export.ExportedProgram:
    module = traceable.module
    errors = []
    for batch in (torch.export.Dim("batch"), torch.export.Dim.AUTO):
        dynamic = tuple({0: batch} for _ in args)
        try:
            with quiet():
                return torch.export.export(module, args, dynamic_shapes=dynamic)
        except Exception as exc:  # noqa: BLE001 - tried again with the batch size torch may choose
            errors.append(exc)
    exc = errors[-1]
    raise _refusal(graph, traceable, exc, None) from exc


def _refusal(graph: Graph, traceable: Traceable, exc: BaseException,
             program: torch.export.ExportedProgram | None) -> ExportError:
    owner = traceable.owner_of_error(exc, program)
    reason = _reason(exc)
    if owner is None:
        return ExportError(f"the ONNX exporter cannot express the network: {reason}")
    block = ""
    if owner in graph.nodes:
        block = f" ({graph.node(owner).spec.name})"
    return ExportError(f"node {owner}{block}: the ONNX exporter cannot express it: {reason}")


def _failing_node(graph: Graph, net: Network, exc: BaseException) -> str:
    """``node <id> (<Block>): `` for the innermost of the network's submodules on the failure's traceback."""
    modules = {}
    for node_id, attr in getattr(net, "node_to_attr", {}).items():
        try:
            modules[id(net.get_submodule(attr))] = node_id
        except AttributeError:  # a node compiled to a plain call has no submodule
            pass
    found = None
    cause = exc.__cause__ or exc
    for frame, _ in traceback.walk_tb(cause.__traceback__):
        node_id = modules.get(id(frame.f_locals.get("self")))
        if node_id is not None:
            found = node_id
    if found is None or found not in graph.nodes:
        return ""
    return f"node {found} ({graph.node(found).spec.name}): "


def _ort_node(graph: Graph, exc: BaseException) -> str:
    """``node <id> (<Block>): `` for the node an onnxruntime message names (``Node (conv1/Conv)``)."""
    for name in re.findall(r"Node \(([^)]*)\)", str(exc)):
        for owner in name.split("/")[0].split("+"):
            if owner in graph.nodes:
                return f"node {owner} ({graph.node(owner).spec.name}): "
    return ""


def _reason(exc: BaseException) -> str:
    """The root of the exporter's failure in one line (its outer messages are about filing reports)."""
    chain, current = [], exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    root = _first_line(chain[-1])
    missing = re.search(r"No ONNX function found for <OpOverload\(op='([^']+)'", root)
    if missing:
        return f"there is no ONNX translation of {missing.group(1)}"
    return root


def compiled_networks(graph: Graph, module: nn.Module | dict | None = None) -> dict[str, Network]:
    """Network key -> compiled network: ``module``'s (a ``Network``, ``Networks`` or such a dict), or
    the graph compiled afresh once its weights are known to fit in memory."""
    if isinstance(module, dict):
        return dict(module)
    if module is None:
        from studio.training.preflight import model_memory_problems

        too_large = model_memory_problems(graph, 4, "to build (its float32 weights)")
        if too_large:  # said before a single weight is allocated
            raise ExportError(too_large[0].message)
        return compile_networks(graph)
    if isinstance(module, Networks):
        return dict(module.items())
    return {next(iter(getattr(module, "input_nodes", None) or [""])): module}


def _where(networks: dict, key: str) -> str:
    return f"network {key}: " if len(networks) > 1 else ""


def _first_line(exc: BaseException) -> str:
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip()
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return type(exc).__name__


def _writer(data: bytes):
    def write(tmp: Path) -> None:
        tmp.write_bytes(data)
    return write
