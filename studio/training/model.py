"""The networks a run trains, compiled from the graph by ``studio.compile``,
and the compiler's bookkeeping (kept in each module's ``meta``) read back."""

from __future__ import annotations

from typing import Any

from torch import nn

from studio.compile import compile_networks
from studio.graph import Graph, InvalidGraphError, Problem


def compile_single(graph: Graph) -> nn.Module:
    """The graph as one network; a graph holding several is refused, naming them."""
    nets = compile_networks(graph)
    if len(nets) != 1:
        raise InvalidGraphError([Problem(None, None, f"the graph holds {len(nets)} separate networks "
                                         f"({', '.join(nets)}); this task trains one", "structure")])
    return next(iter(nets.values()))


def compile_many(graph: Graph) -> dict[str, nn.Module]:
    """Each separate network, keyed by the id of its first Input node."""
    return dict(compile_networks(graph))


def meta(module: nn.Module, key: str, default: Any = None) -> Any:
    return getattr(module, "meta", {}).get(key, default)


def input_nodes(module: nn.Module) -> list[str]:
    """Input node ids in the order ``forward`` takes them."""
    return list(meta(module, "input_nodes", []))


def output_nodes(module: nn.Module) -> list[tuple[str, str]]:
    return [tuple(o) for o in meta(module, "output_nodes", [])]


def node_modules(module: nn.Module) -> dict[str, nn.Module]:
    """Node id -> its submodule, for nodes that have one."""
    return {node_id: module.get_submodule(attr) for node_id, attr in meta(module, "node_to_attr", {}).items()}
