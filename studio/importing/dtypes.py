"""Each Input's dtype against the blocks it reaches: token ids (long) are for an Embedding to
look up, values (float) for everything else.

Tracing runs no tensors, so a float input traced into an ``nn.Embedding`` or a
long one into a ``Conv2d`` would otherwise import and fail only when run.
Blocks that only move values (reshape, permute, split...) pass the dtype on.
"""

from __future__ import annotations

from studio.graph import Graph

from .errors import BadArgument

_MOVES = {"Reshape", "Flatten", "Permute", "Transpose", "Squeeze", "Unsqueeze", "Identity", "Split", "Chunk",
          "Concat"}
_TAKES_IDS = {"Embedding"}


def check_dtypes(graph: Graph) -> None:
    """Refuse (naming the input, the block and the flag to give) an Input whose dtype its blocks do not take."""
    for node in graph.nodes.values():
        if node.block != "Input":
            continue
        dtype = node.params.get("dtype", "float")
        for user in _reached(graph, node.id):
            block = graph.node(user).block
            if dtype == "long" and block not in _TAKES_IDS:
                raise BadArgument(f"--dtype long: input {node.id} goes to {block} {user!r}, which takes float "
                                  "values; long is for token ids that an Embedding looks up: give --dtype float")
            if dtype != "long" and block in _TAKES_IDS:
                raise BadArgument(f"--dtype {dtype}: input {node.id} goes to {block} {user!r}, which looks up "
                                  "integer token ids: give --dtype long")


def _reached(graph: Graph, start: str) -> list[str]:
    """The blocks that compute with ``start``'s values, past blocks that only move them."""
    out, seen, todo = [], {start}, [start]
    while todo:
        for edge in graph.out_edges(todo.pop()):
            if edge.dst in seen:
                continue
            seen.add(edge.dst)
            if graph.node(edge.dst).block in _MOVES:
                todo.append(edge.dst)
            else:
                out.append(edge.dst)
    return out
