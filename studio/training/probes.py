"""Sampled views of a network: activation statistics of every node, per-node
gradient norms, and a decision-boundary grid for 2-D inputs.

Attention nodes give the weights of their heads on a few samples, Embedding
nodes a 2-D projection of their vectors.

Each probe reads its results back in one or two transfers. The trainer takes
one at least twice a second of a run and lets the budget choose how rich it
is: ``probe_levels`` lists the settings from the configured ones down to a
coarse boundary grid and a small activation sample, each level about half
the work of the one above.
"""

from __future__ import annotations

import weakref
from dataclasses import replace
from functools import lru_cache, partial
from typing import Any, Hashable

import numpy as np
import torch
from torch import fx, nn

from .probe_rows import GROUP_SEP
from .events import ActivationStats, AttentionMaps, BoundaryGrid, EmbeddingPoints, FunctionCurve
from .model import meta, node_modules

MAX_VALUES = 4096  # values per node the histogram is drawn from
MAX_MAPS = 64  # feature maps kept of one sample
MIN_GRID = 16  # the coarsest boundary grid: 16 x 16 still shows where the regions lie
MIN_BATCH = 32  # the fewest samples an activation histogram is drawn from
MAX_LEVELS = 4
ATTENTION_SAMPLES = 4  # samples whose attention weights a probe keeps
MAX_TOKENS = 300  # tokens of an Embedding a probe projects


def probe_levels(probes):
    """``probes`` (a ``ProbesConfig``) and cheaper versions of it, richest first: each halves
    the boundary grid's side and the activation sample, down to ``MIN_GRID`` and ``MIN_BATCH``."""
    levels = [probes]
    grid, batch = probes.grid, probes.batch
    while len(levels) < MAX_LEVELS and (grid > MIN_GRID or batch > MIN_BATCH):
        grid, batch = max(min(grid, MIN_GRID), grid // 2), max(min(batch, MIN_BATCH), batch // 2)
        levels.append(replace(probes, grid=grid, batch=batch))
    return levels




def group_members(module: nn.Module) -> dict[str, nn.Module]:
    """Node id -> the compiled inside of each group node in ``module`` (a network of its own)."""
    return {node_id: sub for node_id, sub in node_modules(module).items() if _is_group(sub)}


def _is_group(sub: nn.Module) -> bool:
    return isinstance(sub, fx.GraphModule) and "node_to_value" in getattr(sub, "meta", {})


# What a probe needs to know of a network's structure, worked out at its first probe: a compiled
# network does not change while it trains, and walking its modules twice a second costs more than
# the small networks' forward pass.
_KNOWN: weakref.WeakKeyDictionary[nn.Module, dict[str, Any]] = weakref.WeakKeyDictionary()


def _known(module: nn.Module, what: Hashable, work) -> Any:
    found = _KNOWN.setdefault(module, {})
    if what not in found:
        found[what] = work(module)
    return found[what]


def study(networks: dict[str, nn.Module]) -> None:
    """Work out now, at set-up, what probes need to know of each network (its probe tap, compiled
    like the network itself, and its layouts), so the first probe costs what the later ones do."""
    for net in networks.values():
        _known(net, "modes", _mode_layout)
        _known(net, "inner", _inner_layout)
        _known(net, "tap", _tap)
        _known(net, "grads", _grad_layout)
        _known(net, "attention", _attention_layout)
        _known(net, "embeddings", _embedding_layout)
        _known(net, "trained", _trained_params)


def set_mode(module: nn.Module, training: bool) -> None:
    """``module.train(training)``, without walking the module tree each time: the evaluation
    and the probes switch modes several times a second. Modules that define their own ``train``
    are switched by it."""
    own, plain = _known(module, "modes", _mode_layout)
    for m in plain:
        m.__dict__["training"] = training
    for m in own:
        m.train(training)


def _mode_layout(module: nn.Module) -> tuple[list[nn.Module], list[nn.Module]]:
    if type(module).train is not nn.Module.train:
        return [module], []
    own: list[nn.Module] = []
    plain: list[nn.Module] = []
    for m in module.modules():
        (plain if type(m).train is nn.Module.train and "training" in m.__dict__ else own).append(m)
    return own, plain


def inner_modules(module: nn.Module, prefix: str = "") -> dict[str, nn.Module]:
    """``node_modules`` with each group's inner nodes too, as "group.inner" (to any depth)."""
    if not prefix:
        return dict(_known(module, "inner", _inner_layout))
    return _inner_modules(module, prefix)


def _inner_layout(module: nn.Module) -> dict[str, nn.Module]:
    return _inner_modules(module, "")


def _inner_modules(module: nn.Module, prefix: str) -> dict[str, nn.Module]:
    out: dict[str, nn.Module] = {}
    for node_id, sub in node_modules(module).items():
        out[prefix + node_id] = sub
        if _is_group(sub):
            out.update(_inner_modules(sub, prefix + node_id + GROUP_SEP))
    return out


class _Recorder(fx.Interpreter):
    """Runs the compiled code node by node, keeping the outputs asked for. A group's submodule is
    run node by node too, so its inner nodes' outputs are kept under "group.inner"."""

    def __init__(self, module: fx.GraphModule, outputs: bool, inputs_of: set[str], prefix: str,
                 values: dict, inputs: dict):
        super().__init__(module)
        names = meta(module, "node_to_value", {})
        self.wanted = {value: node_id for node_id, value in names.items()} if outputs else {}
        self.outputs = outputs
        # fx value name -> row whose module's arguments are kept (attention)
        self.inputs_of = {names[n[len(prefix):]]: n for n in inputs_of
                          if n.startswith(prefix) and n[len(prefix):] in names}
        self.all_inputs_of = inputs_of
        self.values = values
        self.inputs = inputs
        self.prefix = prefix
        attrs = meta(module, "node_to_attr", {})
        self.groups = {attrs[n]: n for n in group_members(module)}  # submodule target -> group node id

    def run_node(self, n: fx.Node):
        taker = self.inputs_of.get(n.name)
        if taker is not None:
            self.inputs[taker] = self.fetch_args_kwargs_from_env(n)[0]
        group = self.groups.get(n.target) if n.op == "call_module" else None
        if group is not None and not self.outputs:  # inputs alone: into the groups that hold one asked for
            inside = self.prefix + group + GROUP_SEP
            group = group if any(r.startswith(inside) for r in self.all_inputs_of) else None
        if group is not None:
            args, _ = self.fetch_args_kwargs_from_env(n)
            out = _Recorder(self.module.get_submodule(n.target), self.outputs, self.all_inputs_of,
                            self.prefix + group + GROUP_SEP, self.values, self.inputs).run(*args)
        else:
            out = super().run_node(n)
        node_id = self.wanted.get(n.name)
        # a group's Input nodes hold what feeds the group, already shown by the node outside
        if node_id is not None and isinstance(out, torch.Tensor) and not (self.prefix and n.op == "placeholder"):
            self.values[self.prefix + node_id] = out
        return out


def record_outputs(module: fx.GraphModule, inputs: tuple[torch.Tensor, ...]) -> dict[str, torch.Tensor]:
    """Node id -> its output for ``inputs`` (no gradients, module left as it was). A group node's
    output is kept under its id, and each of its inner nodes' under "group.inner" (to any depth)."""
    values: dict[str, torch.Tensor] = {}
    tap = _known(module, "tap", _tap)
    with torch.no_grad():
        if tap is not None:
            code, ids = tap
            for node_id, out in zip(ids, code(*inputs)):
                if isinstance(out, torch.Tensor):
                    values[node_id] = out
            return values
        _Recorder(module, True, set(), "", values, {}).run(*inputs)
    return values


def _tap(module: nn.Module) -> tuple[fx.GraphModule, list[str]] | None:
    """The network's own code, returning every node's output (as compiled code: run node by node
    through an interpreter, a small network's probe cost four times its forward pass), with the
    node ids in that order; None for a network with groups, whose inner nodes are recorded by
    the interpreter."""
    names = meta(module, "node_to_value", {})
    if not isinstance(module, fx.GraphModule) or not names or group_members(module):
        return None
    graph = fx.Graph()
    copied: dict[fx.Node, fx.Node] = {}
    graph.graph_copy(module.graph, copied)
    by_name = {old.name: new for old, new in copied.items()}
    ids = [node_id for node_id, value in names.items() if value in by_name]
    graph.output(tuple(by_name[names[node_id]] for node_id in ids))
    return fx.GraphModule(module, graph), ids  # shares the network's modules and weights


def record_inputs(module: fx.GraphModule, inputs: tuple[torch.Tensor, ...], node_ids) -> dict[str, tuple]:
    """Node id (or "group.inner") -> the arguments its module is called with for ``inputs``
    (of ``node_ids`` only)."""
    taken: dict[str, tuple] = {}
    with torch.no_grad():
        _Recorder(module, False, set(node_ids), "", {}, taken).run(*inputs)
    return taken


def _self_attention(module: nn.Module):
    """The ``nn.MultiheadAttention`` whose weights a node shows, and how its input reaches it:
    (attention, args -> (query, key, value, mask)); None for modules without one."""
    if isinstance(module, nn.TransformerEncoderLayer):
        def qkv(args):
            x = module.norm1(args[0]) if module.norm_first else args[0]
            return x, x, x, None
        return module.self_attn, qkv
    if isinstance(module, nn.MultiheadAttention):
        def qkv(args):  # (query[, key or context[, value]]): a block's self- or cross-attention
            q = args[0]
            k = args[1] if len(args) > 1 and args[1] is not None else q
            v = args[2] if len(args) > 2 and args[2] is not None else k
            mask = None
            if getattr(module, "causal", False):  # as the block masks: no key after the query's position
                mask = torch.ones(q.size(-2), k.size(-2), dtype=torch.bool, device=q.device).triu(1)
            return q, k, v, mask
        # torch's own forward: the block's subclass takes (x, context) and asks for no weights
        return partial(nn.MultiheadAttention.forward, module), qkv
    return None


def attention_nodes(model: nn.Module) -> dict[str, nn.Module]:
    """Node id -> module, for the nodes whose attention weights can be shown (inside groups too,
    as "group.inner")."""
    return dict(_known(model, "attention", _attention_layout))


def _attention_layout(model: nn.Module) -> dict[str, nn.Module]:
    return {n: s for n, s in inner_modules(model).items() if _self_attention(s) is not None}


def attention_maps(model: fx.GraphModule, inputs: tuple[torch.Tensor, ...],
                   vocab: list[str] | None = None) -> dict[str, AttentionMaps]:
    """Each attention node's weights per head on the first ``ATTENTION_SAMPLES`` samples of
    ``inputs``: the node's input is recorded, then its attention is asked for its weights.
    Token texts come along where the network's one input is token ids as long as the queries."""
    nodes = attention_nodes(model)
    if not nodes:
        return {}
    xs = tuple(t[:ATTENTION_SAMPLES] for t in inputs)
    taken = record_inputs(model, xs, nodes)
    weights = {}
    with torch.no_grad():
        for node_id, args in taken.items():
            attention, qkv = _self_attention(nodes[node_id])
            try:
                q, k, v, mask = qkv(args)
                _, w = attention(q, k, v, attn_mask=mask, need_weights=True, average_attn_weights=False)
            except (RuntimeError, TypeError, ValueError, IndexError):
                continue  # called in a way this probe does not follow (an imported module): no map, the run goes on
            if w is not None and w.dim() == 4:
                weights[node_id] = w.float()
    ids = xs[0] if len(xs) == 1 and not xs[0].is_floating_point() and xs[0].dim() == 2 else None
    host = {n: w.cpu().numpy() for n, w in weights.items()}
    ids_host = ids.cpu().tolist() if ids is not None else None
    result = {}
    for node_id, w in host.items():
        tokens = None
        if ids_host is not None and len(ids_host[0]) == w.shape[-2]:
            tokens = [[_token_text(t, vocab) for t in row] for row in ids_host]
        result[node_id] = AttentionMaps(w, tokens)
    return result


def _token_text(token: int, vocab: list[str] | None) -> str:
    return vocab[token] if vocab is not None and 0 <= token < len(vocab) else str(token)


def _embedding_layout(model: nn.Module) -> dict[str, nn.Embedding]:
    return {n: s for n, s in inner_modules(model).items() if isinstance(s, nn.Embedding)}


def embedding_points(model: nn.Module, vocab: list[str] | None = None) -> dict[str, EmbeddingPoints]:
    """Each Embedding node's first ``MAX_TOKENS`` vectors on their two principal axes (PCA on the
    device; an axis's sign is chosen so its largest coordinate is positive, steady between probes)."""
    result = {}
    tables = _known(model, "embeddings", _embedding_layout)
    for node_id, module in tables.items():
        with torch.no_grad():
            w = module.weight[:MAX_TOKENS].float()
            centred = w - w.mean(dim=0, keepdim=True)
            u, s, vh = torch.linalg.svd(centred, full_matrices=False)
            axes = min(2, s.numel())
            signs = torch.sign(vh[:axes].gather(1, vh[:axes].abs().argmax(dim=1, keepdim=True))).reshape(-1)
            points = u[:, :axes] * (s[:axes] * torch.where(signs == 0, 1.0, signs))
            variance = s ** 2
            shares = variance[:axes] / variance.sum().clamp_min(1e-12)
            both = torch.cat([points.reshape(-1), shares]).cpu().numpy().astype(np.float64)
        n = w.shape[0]
        points_np = np.zeros((n, 2))
        points_np[:, :axes] = both[: n * axes].reshape(n, axes)
        explained = (*both[n * axes:].tolist(), 0.0, 0.0)[:2]
        labels = [_token_text(i, vocab) for i in range(n)]
        result[node_id] = EmbeddingPoints(points_np, labels, (float(explained[0]), float(explained[1])))
    return result


def activation_stats(outputs: dict[str, torch.Tensor], bins: int) -> dict[str, ActivationStats]:
    """Mean, std and share of zeros of each node's whole output, and a histogram of up to
    ``MAX_VALUES`` of its values. Four small ops a node (mean, centred dot, ``count_nonzero``);
    every number comes back in one transfer and all nodes are binned in one ``bincount``: a
    probe runs twice a second, and a few more small ops per node cost more than the network."""
    names, flats, stats, nonzero, samples, sizes, maps = [], [], [], [], [], [], {}
    for node_id, out in outputs.items():
        if not out.is_floating_point() or out.numel() == 0:
            continue
        a = out.detach().reshape(-1)
        if a.dtype != torch.float32:
            a = a.float()
        size = a.numel()
        stride = max(1, size // MAX_VALUES)
        samples.append(a[::stride][:MAX_VALUES])
        mean = a.mean()
        centred = a - mean
        stats += (centred.dot(centred), mean)  # two passes, as torch.std, at a quarter of its cost
        nonzero.append(torch.count_nonzero(a))
        names.append(node_id)
        flats.append(a)
        sizes.append(size)
        if out.dim() == 4:  # [B, C, H, W]: one sample's maps
            maps[node_id] = out[0, :MAX_MAPS].detach().float()
    if not names:
        return {}
    n = len(names)
    both = torch.cat([torch.stack(stats), torch.stack(nonzero).float(), *samples]).cpu().numpy().astype(np.float64)
    squares_mean = both[: 2 * n].reshape(n, 2)
    counts_of = np.array(sizes, dtype=np.float64)
    std = np.sqrt(squares_mean[:, 0] / np.maximum(counts_of - 1.0, 1.0))  # unbiased; one value has no spread
    for i in np.flatnonzero(np.isinf(std) & np.isfinite(squares_mean[:, 1])):  # squares past float32: torch's own
        std[i] = float(torch.std(flats[i].double())) if sizes[i] > 1 else 0.0
    zero = (counts_of - both[2 * n: 3 * n]) / counts_of
    maps_np = {k: v.cpu().numpy() for k, v in maps.items()}
    counts, edges = _histograms(both[3 * n:], np.array([t.numel() for t in samples]), bins)
    result = {}
    for i, node_id in enumerate(names):
        result[node_id] = ActivationStats(float(squares_mean[i, 1]), float(std[i]), float(zero[i]), counts[i],
                                          edges[i], maps_np.get(node_id))
    return result


def _histograms(flat: np.ndarray, sizes: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """``bins`` equal bins over each segment's finite range, as ``np.histogram`` draws them (a
    range of one value widened by 0.5 either side; a segment with nothing finite counts a 0)."""
    n = len(sizes)
    owner = np.repeat(np.arange(n), sizes)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    if np.isfinite(flat.sum()) and n and sizes.min() > 0:  # all finite, none empty: the common case, in fewer passes
        lo, hi = np.minimum.reduceat(flat, starts), np.maximum.reduceat(flat, starts)
        same = hi <= lo
        lo, hi = np.where(same, lo - 0.5, lo), np.where(same, hi + 0.5, hi)
        scale = bins / (hi - lo)
        index = ((flat - lo[owner]) * scale[owner]).astype(np.int64)  # >= 0: floor is truncation
        np.minimum(index, bins - 1, out=index)
        index += owner * bins
        counts = np.bincount(index, minlength=n * bins).reshape(n, bins)
        edges = lo[:, None] + (hi - lo)[:, None] * np.linspace(0.0, 1.0, bins + 1)[None, :]
        return counts, edges
    finite = np.isfinite(flat)
    with np.errstate(all="ignore"):
        lo = np.fmin.reduceat(np.where(finite, flat, np.nan), starts)
        hi = np.fmax.reduceat(np.where(finite, flat, np.nan), starts)
    has_values = np.add.reduceat(finite, starts) > 0
    lo, hi = np.where(has_values, lo, 0.0), np.where(has_values, hi, 0.0)
    same = hi <= lo
    lo, hi = np.where(same, lo - 0.5, lo), np.where(same, hi + 0.5, hi)
    values, owner = flat[finite], owner[finite]
    index = np.floor((values - lo[owner]) * (bins / (hi - lo))[owner]).astype(np.int64)
    index = np.clip(index, 0, bins - 1) + owner * bins
    counts = np.bincount(index, minlength=n * bins).reshape(n, bins)
    counts[~has_values, bins // 2] += 1
    edges = lo[:, None] + (hi - lo)[:, None] * np.linspace(0.0, 1.0, bins + 1)[None, :]
    return counts, edges


def _trained_params(model: nn.Module) -> list[nn.Parameter]:
    return [p for p in model.parameters() if p.requires_grad]


def two_values(model: nn.Module) -> tuple[float, float] | None:
    """The values of a network's parameters when it has exactly two (its point on the loss surface)."""
    params = _known(model, "trained", _trained_params)
    if _known(model, "trained_count", lambda m: sum(p.numel() for p in params)) != 2:
        return None
    a, b = torch.cat([p.detach().reshape(-1) for p in params]).tolist()  # one transfer
    return a, b


def grad_norms(networks: dict[str, nn.Module]) -> dict[str, float]:
    """Node id -> L2 norm of all its parameters' gradients (nodes with gradients only). A group
    node's norm is over every parameter inside it; its inner nodes come as "group.inner" too.
    One norm per parameter, in one fused call, then summed per node: a probe of a grouped
    network costs what the flat one does. The gradient-flow view gets these every few steps,
    so where every parameter has its gradient (the usual case) the sums' index is made once."""
    rows: list[str] = []
    owners: list[list[int]] = []  # per gradient: the rows it counts in (its node and the groups above)
    grads: list[torch.Tensor] = []
    whole = len(networks) == 1
    for net in networks.values():
        net_rows, net_params, net_owners = _known(net, "grads", _grad_layout)
        base = len(rows)
        rows += net_rows
        for param, rs in zip(net_params, net_owners):
            if param.grad is not None:
                grads.append(param.grad)
                owners.append([base + r for r in rs])
        whole = whole and len(grads) == len(net_params)
    if not grads:
        return {}
    norms = torch._foreach_norm([g if g.dtype in (torch.float32, torch.float64) else g.float() for g in grads])
    squares = torch.stack(norms).float().square()
    if whole:  # one network, every gradient there: the index of its sums was worked out before
        device = squares.device
        index, repeat, counted = _known(net, ("grad_sums", device), lambda _: _sums_index(owners, device))
    else:
        index, repeat, counted = _sums_index(owners, squares.device)
    if repeat is not None:
        squares = squares.repeat_interleave(repeat)
    sums = squares.new_zeros(len(rows)).index_add_(0, index, squares).sqrt().tolist()
    return {rows[i]: sums[i] for i in counted}


def _sums_index(owners: list[list[int]], device: torch.device) -> tuple[torch.Tensor, torch.Tensor | None, list[int]]:
    """Where each gradient's square adds in (its rows, repeated per row where groups hold it),
    and the rows counted, in order."""
    index = torch.tensor([r for rs in owners for r in rs], device=device)
    repeat = None
    if any(len(rs) != 1 for rs in owners):
        repeat = torch.tensor([len(rs) for rs in owners], device=device)
    return index, repeat, sorted({r for rs in owners for r in rs})


def _grad_layout(net: nn.Module) -> tuple[list[str], list[nn.Parameter], list[list[int]]]:
    """The rows of ``net``'s gradient norms, its parameters, and the rows each counts in."""
    rows: list[str] = []
    params: list[nn.Parameter] = []
    owners: list[list[int]] = []
    _collect_params(net, "", [], rows, owners, params)
    return rows, params, owners


def _collect_params(net: nn.Module, prefix: str, above: list[int], rows: list[str], owners: list[list[int]],
                    params: list[nn.Parameter]) -> None:
    for node_id, sub in node_modules(net).items():
        row = len(rows)
        rows.append(prefix + node_id)
        if _is_group(sub):
            _collect_params(sub, prefix + node_id + GROUP_SEP, above + [row], rows, owners, params)
            continue
        for p in sub.parameters():
            params.append(p)
            owners.append(above + [row])


def grid_range(x: torch.Tensor, margin: float = 0.1) -> tuple[float, float, float, float]:
    """(x0 min, x0 max, x1 min, x1 max) of 2-D samples, widened by ``margin`` of the span."""
    lo = x.min(dim=0).values
    hi = x.max(dim=0).values
    span = (hi - lo).clamp_min(1e-6)
    lo, hi = (lo - margin * span).tolist(), (hi + margin * span).tolist()
    return lo[0], hi[0], lo[1], hi[1]


@lru_cache(maxsize=8)
def _grid_points(box: tuple[float, float, float, float], size: int,
                 device: torch.device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The grid's x and y ticks and its points [size * size, 2] (a run's box stays; made once a level)."""
    xs = torch.linspace(box[0], box[1], size, device=device)
    ys = torch.linspace(box[2], box[3], size, device=device)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return xs, ys, torch.stack([gx, gy], dim=-1).reshape(-1, 2)


def boundary(model: nn.Module, box: tuple[float, float, float, float], size: int, loss_name: str,
             device: torch.device) -> BoundaryGrid:
    """The predicted class and its probability over a size x size grid."""
    xs, ys, points = _grid_points(box, size, device)
    with torch.no_grad():
        out = model(points).float()
    if loss_name == "cross_entropy" and out.shape[-1] > 1:
        # the top class's softmax probability, 1 / sum(exp(out - top)): torch's softmax over a
        # few classes costs five times these ops
        out = out.reshape(points.shape[0], -1)
        top, cls = out.max(dim=-1)
        conf = (out - top.unsqueeze(-1)).exp_().sum(dim=-1).reciprocal_()
    else:
        p = torch.sigmoid(out.reshape(points.shape[0], -1)[:, 0])
        cls = (p > 0.5).long()
        conf = torch.where(cls.bool(), p, 1 - p)
    both = torch.stack([cls.float(), conf]).reshape(2, size, size).cpu().numpy()
    return BoundaryGrid(xs.cpu().numpy(), ys.cpu().numpy(), both[0].astype(np.int64), both[1])


def function_range(x: torch.Tensor, margin: float = 0.1) -> tuple[float, float]:
    """(lowest, highest) of 1-D samples ``[n, 1]``, widened by ``margin`` of the span."""
    lo, hi = float(x.min()), float(x.max())
    span = max(hi - lo, 1e-6)
    return lo - margin * span, hi + margin * span


def affine_node(model: nn.Module) -> nn.Linear | None:
    """The one Linear(1 -> 1) a network is made of, where it is nothing else: y = w x + b."""
    graph = getattr(model, "graph", None)
    if graph is None:
        return None
    calls = [n for n in graph.nodes if n.op not in ("placeholder", "output")]
    if len(calls) != 1 or calls[0].op != "call_module":
        return None
    module = model.get_submodule(calls[0].target)
    if isinstance(module, nn.Linear) and module.in_features == 1 and module.out_features == 1:
        return module
    return None


def function_curve(model: nn.Module, span: tuple[float, float], points: int, device: torch.device) -> FunctionCurve:
    """The network's output at ``points`` evenly spaced inputs over ``span``, in one transfer;
    with the line's w and b where the network is one Linear(1 -> 1)."""
    xs = torch.linspace(span[0], span[1], points, device=device)
    with torch.no_grad():
        ys = model(xs[:, None]).float().reshape(points, -1)[:, 0]
        parts = [xs, ys]
        linear = affine_node(model)
        if linear is not None:
            bias = linear.bias if linear.bias is not None else torch.zeros(1, device=device)
            parts.append(torch.cat([linear.weight.reshape(1), bias.reshape(1)]).float())
        flat = torch.cat(parts).cpu().numpy()
    line = (float(flat[-2]), float(flat[-1])) if linear is not None else None
    return FunctionCurve(flat[:points], flat[points:2 * points], line)
