"""The imported graph run beside the model it came from, on one random batch.

Tracing sees calls, not what they do to memory or to the values of a module
it keeps whole, so the import is checked the way a person would check it: the
model and the compiled graph with the imported weights, in evaluation mode,
on the same random batch of two, must give the same outputs. A model that
fails on inputs of the given shapes is refused with its own error, and one
whose outputs differ is refused saying by how much. Models larger than
``CHECK_MOST`` parameters are not run, to keep their import quick.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch
from torch import nn

from studio.graph import Graph

from .errors import ImportRefused

CHECK_MOST = 30_000_000  # parameters: above this the two forward passes take seconds
BATCH = 2
TOLERANCE = 1e-4  # relative to the outputs' size: float32 sums in another order differ by far less


def check_same(model: nn.Module, graph: Graph, weights: dict[str, dict[str, torch.Tensor]],
               shapes: Sequence[Sequence[int]], dtypes: Sequence[str], name: str) -> float | None:
    """The largest difference between ``model`` (in evaluation mode) and ``graph`` with ``weights``
    on a random batch, or None when the model is too large to be run here."""
    from studio.compile import compile_networks
    from studio.training.checkpoint import flatten, load_flat_state

    if sum(p.numel() for p in model.parameters()) > CHECK_MOST:
        return None
    inputs = _batch(graph, shapes, dtypes)
    shown = ", ".join(f"[{BATCH}, {', '.join(map(str, s))}]" for s in shapes)
    try:
        with torch.no_grad():
            want = _flat(model(*[x.clone() for x in inputs]))
    except Exception as exc:  # the model's own code on inputs of the shapes given
        raise ImportRefused(f"{name}.forward fails on a random batch of the given shapes ({shown}): "
                            f"{type(exc).__name__}: {_first_line(exc)}") from None
    networks = compile_networks(graph)
    load_flat_state(networks, flatten(weights), "the imported weights")
    net = next(iter(networks.values())).eval()
    with torch.no_grad():
        got = _flat(net(*[x.clone() for x in inputs]))
    if len(got) != len(want) or any(g.shape != w.shape for g, w in zip(got, want)):
        raise ImportRefused(f"the imported graph gives outputs {[list(g.shape) for g in got]} where "
                            f"{name}.forward gives {[list(w.shape) for w in want]} on a batch of {BATCH}")
    # random values are no valid input for every model (a GCN's adjacency): where the model gives NaN
    # or infinity, the graph must give the same there, and the finite values are compared
    if any(not torch.equal(torch.isfinite(g), torch.isfinite(w)) for g, w in zip(got, want)):
        difference = float("nan")
        scale = max((float(w[torch.isfinite(w)].abs().max()) for w in want if torch.isfinite(w).any()), default=0.0)
    else:
        finite = [(g[torch.isfinite(w)].double(), w[torch.isfinite(w)].double()) for g, w in zip(got, want)]
        scale = max((float(w.abs().max()) for _, w in finite if w.numel()), default=0.0)
        difference = max((float((g - w).abs().max()) for g, w in finite if w.numel()), default=0.0)
    if not difference <= TOLERANCE * max(1.0, scale):  # also NaN: not finite in one of them only
        raise ImportRefused(
            f"the imported graph computes other values than {name}.forward: they differ by up to {difference:.3g} "
            f"(outputs up to {scale:.3g}) on a random batch {shown}; the model does something its calls do not "
            "show (a tensor changed in place through a view, a buffer changed in forward, a layer's forward "
            "replaced)")
    return difference


def _batch(graph: Graph, shapes, dtypes) -> list[torch.Tensor]:
    """A seeded random batch: values from a normal distribution, token ids within every Embedding."""
    generator = torch.Generator().manual_seed(0)
    vocab = min((int(n.params["num_embeddings"]) for n in graph.nodes.values() if n.block == "Embedding"),
                default=2)
    out = []
    for i, shape in enumerate(shapes):
        dtype = dtypes[i] if len(dtypes) > 1 else dtypes[0]
        if dtype == "long":
            out.append(torch.randint(0, vocab, (BATCH, *shape), generator=generator))
        else:
            out.append(torch.randn((BATCH, *shape), generator=generator))
    return out


def _flat(value: Any) -> list[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value.detach().float()]
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in _flat(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _flat(v)]
    return []


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
