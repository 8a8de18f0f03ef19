"""Fixes for the graph's own problems where one is known: a merge whose inputs disagree.

An Add (or Multiply) of a [64, 8, 8] path and a [32, 16, 16] shortcut needs the shortcut
projected: a 1x1 Conv2d to 64 channels with stride 2, as ResNet's downsample does. Features
([128] and [64]) need a Linear. A rank mismatch with the same number of values needs a
Flatten (or a Reshape to the other side's shape).
"""

from __future__ import annotations

import math
from dataclasses import replace

from studio.graph import Graph, Problem
from studio.graph.fixes import Fix, InsertOnWire, pairs

MERGES = {"Add", "Multiply"}


def with_fixes(graph: Graph, problem: Problem) -> Problem:
    """``problem``, with a code and fixes when it is a merge whose inputs disagree."""
    if problem.kind != "shape" or problem.node is None or problem.port is None or problem.node not in graph:
        return problem
    node = graph.node(problem.node)
    if node.block not in MERGES and node.block != "Concat":
        return problem
    shapes = graph.shapes.inputs(problem.node)
    ports = [p.name for p in node.input_ports()]
    reference = shapes.get(ports[0])
    shape = shapes.get(problem.port)
    edge = graph.edge_into(problem.node, problem.port)
    if reference is None or shape is None or edge is None or problem.port == ports[0]:
        return problem
    fix = _projection(edge, tuple(shape), tuple(reference), node.block, node.params)
    if fix is None:
        return replace(problem, code="merge-mismatch")
    return replace(problem, code="merge-mismatch", fixes=(fix,))


def _projection(edge, shape: tuple, want: tuple, block: str, params) -> Fix | None:
    wire = (edge.src, edge.src_port, edge.dst, edge.dst_port)
    if len(shape) != len(want):
        # Concat joins features of any width; Add needs as many values on both sides
        if len(want) == 1 and (block == "Concat" or math.prod(shape) == want[0]):
            return Fix(f"Insert Flatten before {edge.dst}.{edge.dst_port}", (InsertOnWire("Flatten", (), *wire),))
        if math.prod(shape) == math.prod(want):
            return Fix(f"Insert Reshape to {list(want)} before {edge.dst}.{edge.dst_port}",
                       (InsertOnWire("Reshape", pairs({"shape": list(want)}), *wire),))
        return None
    if block == "Concat":
        return None  # which side to change is the person's call
    if len(shape) == 1:
        return Fix(f"Insert a Linear projection to {want[0]} features before {edge.dst}.{edge.dst_port}",
                   (InsertOnWire("Linear", pairs({"out_features": want[0]}), *wire),))
    if len(shape) == 3:
        stride = shape[1] // want[1] if want[1] and shape[1] % want[1] == 0 else 0
        if stride < 1 or shape[2] != want[2] * stride:
            return None
        return Fix(f"Insert a 1x1 Conv2d projection to {want[0]} channels"
                   f"{f' (stride {stride})' if stride > 1 else ''} before {edge.dst}.{edge.dst_port}",
                   (InsertOnWire("Conv2d", pairs({"out_channels": want[0], "kernel_size": 1, "stride": stride,
                                                  "padding": 0}), *wire),))
    return None
