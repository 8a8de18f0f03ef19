"""``import_model``: a module in, a Studio graph (and its weights) out; ``write``: both files or neither."""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import torch
from torch import nn

from studio.graph import Graph, validate

from .build import Builder
from .check import check_same
from .dtypes import check_dtypes
from .errors import BadArgument, ImportRefused
from .grouping import group_units
from .inplace import resolve_inplace
from .layout import lay_out
from .tracing import Tracer, trace
from .weights import renamed_state

DTYPES = ("float", "long")


@dataclass
class Imported:
    graph: Graph
    weights: dict[str, dict[str, torch.Tensor]]  # {network_key: state_dict}, the compiled graph's names
    module_of: dict[str, str]  # node id (``group.node`` inside a group) -> the module path it came from
    # the largest difference from the model's outputs on a random batch (check.check_same); None: not run
    difference: float | None = None


def import_model(model: nn.Module, input_shapes: Sequence[Sequence[int]], dtypes: Sequence[str] = ("float",),
                 name: str | None = None, groups: bool = True) -> Imported:
    """``model`` traced with torch.fx and walked into blocks, laid out, its weights renamed.

    ``input_shapes``: one sample shape (without the batch) per forward argument; ``dtypes``:
    one for all inputs or one each ("float" or "long"). ``groups``: each submodule of the user's
    own class called once becomes a group (``grouping``); False imports every block flat.
    Raises ``ImportRefused`` with one message naming the place."""
    name = name or type(model).__name__
    if not input_shapes:
        raise BadArgument("give --input-shape: the shape of one sample, without the batch (e.g. 1,28,28)")
    for dtype in dtypes:
        if dtype not in DTYPES:
            raise BadArgument(f"--dtype {dtype!r}: must be float or long")
    if len(dtypes) not in (1, len(input_shapes)):
        raise BadArgument(f"--dtype given {len(dtypes)} times for {len(input_shapes)} inputs: give one for all, "
                          "or one per input")
    was_training = model.training
    model.eval()  # what the graph must match: the forward in evaluation
    if Tracer().is_leaf_module(model, ""):  # one layer (nn.Linear itself): traced as a call to it
        model = _OneLayer(model)
    try:
        gm = trace(model, None, len(input_shapes), name)
        resolve_inplace(gm)  # before dead code goes: a change in place is read through its aliases
        gm.graph.eliminate_dead_code()
        built = Builder(gm, [tuple(s) for s in input_shapes], list(dtypes), name).build()
        check_dtypes(built.graph)
        if groups:
            grouped = group_units(built.graph, built.module_of, built.scales, built.origin,
                                  gm.meta.get("unit_calls", []), gm.meta.get("call_counts", {}))
            if grouped is not None:
                built.graph, built.module_of, built.scales = grouped.graph, grouped.module_of, grouped.scales
        problems = validate(built.graph)  # the whole graph once more, as studio validate sees it
        if problems:
            raise ImportRefused(f"the imported graph is invalid: {problems[0]}")
        weights = renamed_state(built.graph, built.module_of, model, built.scales)
        difference = check_same(model, built.graph, weights, input_shapes, dtypes, name)
    finally:
        model.train(was_training)
    lay_out(built.graph)
    built.graph.description = f"Imported from {name}"
    return Imported(built.graph, weights, built.module_of, difference)


class _OneLayer(nn.Module):
    """A single layer given as the model, called by a forward of its own so that it is traced as one call."""

    def __init__(self, layer: nn.Module) -> None:
        super().__init__()
        self.add_module(type(layer).__name__.lower(), layer)

    def forward(self, x):
        return next(iter(self.children()))(x)


def write(imported: Imported, graph_path: str | os.PathLike,
          weights_path: str | os.PathLike | None = None) -> list[Path]:
    """The graph file (and the weights file) written as one unit: each to a temporary name beside
    its target, renamed when both are written. Raises ``OSError`` or ``GraphFileError`` with the
    targets as they were."""
    from studio.export.outputs import write_files
    from studio.files import save
    from studio.training.checkpoint import save_weights

    writers: dict[Path, Any] = {Path(graph_path): lambda tmp: save(imported.graph, tmp)}
    for path in (graph_path, weights_path):
        if path is not None and not Path(path).absolute().parent.is_dir():
            # found before writing: the temporary file's name would stand in the message for the target's
            raise FileNotFoundError(errno.ENOENT, f"no folder {Path(path).parent}", str(path))
    if weights_path is not None:
        target = Path(weights_path)
        if target.suffix != ".safetensors":
            raise BadArgument(f"--weights {weights_path}: a weights file ends in .safetensors")
        writers[target] = lambda tmp: save_weights(tmp, imported.weights)
    if len({p.resolve() for p in writers}) != len(writers):
        raise BadArgument("the graph and the weights would go to the same file")
    return write_files(writers)


def model_from(target: str, kwargs: Mapping[str, Any] | None = None) -> tuple[nn.Module, str]:
    """The model ``MODULE:CALLABLE`` builds with ``kwargs``, and its callable's name."""
    from .source import build_model, load_callable, search_path, split_target

    with search_path(split_target(target)[0]):
        factory, name = load_callable(target)
        return build_model(factory, name, dict(kwargs or {})), name
