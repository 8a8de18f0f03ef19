"""A graph as a ``torch.export`` program, saved as ``.pt2``.

``torch.export.load(path).module()`` runs it without Studio (and without the
Python source of its modules). The program is traced in evaluation mode
(dropout off, batch norm on its running statistics) from example inputs of
batch 2; the batch dimension is exported as dynamic where the network allows,
so other batch sizes run too.

A graph with several networks (a GAN's generator and discriminator) writes one
program per network: ``OUT-<network>.pt2``. The files are written as one unit
(``outputs.write_files``): an export that fails leaves every target as it was.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import torch
from torch import nn

from studio.compile import Network, Networks, compile_networks
from studio.graph import Graph

from .errors import ExportError
from .outputs import write_files


def example_inputs(graph: Graph, net: Network, batch: int = 2,
                   generator: torch.Generator | None = None) -> tuple[torch.Tensor, ...]:
    """One tensor per Input node of ``net``, in ``forward`` order: normal values, or token id 0 for long inputs."""
    out = []
    for node_id in net.input_nodes:
        params = graph.node(node_id).params
        shape = (batch, *params["shape"])
        if params.get("dtype") == "long":
            out.append(torch.zeros(shape, dtype=torch.long))
        else:
            out.append(torch.randn(shape, generator=generator))
    return tuple(out)


def program_paths(graph_keys: list[str], path: str | Path) -> dict[str, Path]:
    """Where each network's program goes: ``path`` itself for one, ``stem-key.pt2`` for several."""
    path = Path(path)
    if len(graph_keys) == 1:
        return {graph_keys[0]: path}
    suffix = path.suffix or ".pt2"
    return {key: path.with_name(f"{path.stem}-{key}{suffix}") for key in graph_keys}


def export_network(graph: Graph, net: Network, batch: int = 2) -> torch.export.ExportedProgram:
    """``torch.export.export`` of one compiled network in evaluation mode, batch dynamic where possible."""
    was_training = net.training
    net.eval()
    args = example_inputs(graph, net, batch, torch.Generator().manual_seed(0))
    dynamic = tuple({0: torch.export.Dim.AUTO} for _ in args)
    try:
        with warnings.catch_warnings():
            # torch notes that nn.LSTM refreshes its weight list while traced; the program is still right
            warnings.filterwarnings("ignore", message=r"The tensor attributes .*_flat_weights")
            return torch.export.export(net, args, dynamic_shapes=dynamic)
    except Exception:  # noqa: BLE001 - a network the exporter cannot make batch-dynamic: fix the batch
        try:
            return torch.export.export(net, args)
        except Exception as exc:  # noqa: BLE001 - torch's own reason, first line
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ExportError(f"torch.export could not trace the network: {reason}") from exc
    finally:
        net.train(was_training)


def export_program(graph: Graph, path: str | Path, module: nn.Module | None = None) -> list[Path]:
    """Export every network of ``graph`` with ``torch.export`` and save it; returns the files written.

    ``module`` is the graph's compiled module (``studio.compile(graph)``, a
    ``Network`` or ``Networks``) whose weights the program keeps, e.g. a trained
    one; without it the graph is compiled afresh (initial weights).
    """
    if module is None:
        from studio.training.preflight import model_memory_problems

        too_large = model_memory_problems(graph, 4, "to build (its float32 weights)")
        if too_large:  # said before a single weight is allocated
            raise ExportError(too_large[0].message)
        networks = compile_networks(graph)
    elif isinstance(module, Networks):
        networks = dict(module.items())
    else:
        networks = {"": module}
    paths = program_paths(list(networks), path)
    # every network traced before any file is touched; then all written as one unit
    programs = {paths[key]: export_network(graph, net) for key, net in networks.items()}
    for target in programs:
        target.parent.mkdir(parents=True, exist_ok=True)
    return write_files({target: _saver(program) for target, program in programs.items()})


def _saver(program: torch.export.ExportedProgram):
    def save(tmp: Path) -> None:
        # serialised in memory, then written by Python: torch's own file writer, failing (a full
        # disk), raises again from its destructor at exit and aborts the process
        buffer = io.BytesIO()
        torch.export.save(program, buffer)
        tmp.write_bytes(buffer.getbuffer())
    return save
