"""Lints: mistakes found from shapes and settings alone, each with its place and its fix.

No forward pass: every rule reads the graph's inferred shapes (incremental, kept
by the document), its training settings and, where one is loaded, the data set.
Each finding is a ``Problem`` of kind "lint" with a ``code`` (docs/checks.md
lists them all with an example), a ``level`` ("warning": it trains, badly;
"error": it cannot train as wired) and ``fixes``, edits a person can apply as one
undoable step. ``diagnose`` is what the editor, ``studio check`` and the zoo of
broken graphs read: the graph's own problems (shapes, wiring, dtypes) with fixes
attached where one is known, then the lints, then whether the data set fits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterable, Mapping

from studio.graph import Graph, Problem, validate
from studio.graph.fixes import Bypass, Fix, InsertOnWire, Replace, SetParams, SetTraining, pairs

from . import merge

# Blocks whose output runs flat at both ends, where the gradient dies.
SATURATING = {"Sigmoid", "Tanh", "Hardsigmoid", "Softsign", "Hardtanh"}
NORMS = {"BatchNorm1d", "BatchNorm2d", "LayerNorm", "GroupNorm", "InstanceNorm2d"}
RELUS = {"ReLU", "ReLU6"}
BIASED = {"Linear", "Conv1d", "Conv2d", "ConvTranspose2d"}  # layers whose bias a BatchNorm after undoes
# More saturating activations than this in a row, with no normalisation or shortcut between.
MAX_SATURATING = 5
# Blocks that change a tensor's values without mixing positions: they keep "spatial" spatial.
ELEMENTWISE = {"Identity", "Dropout", "Dropout2d", "BatchNorm2d", "InstanceNorm2d", "GroupNorm"} | SATURATING | {
    "ReLU", "LeakyReLU", "GELU", "ELU", "SiLU", "ReLU6", "Hardswish", "Softplus", "PReLU", "Heaviside"}
SPATIAL = {"Conv1d", "Conv2d", "ConvTranspose2d", "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d",
           "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "Upsample"}
# Learning rates past which an optimizer is all but sure to oscillate or blow up, and what to use instead.
LR_TOO_LARGE = {"sgd": 1.0, "rmsprop": 0.1, "adam": 0.1, "adamw": 0.1}
LR_GOOD = {"sgd": 0.1, "rmsprop": 0.001, "adam": 0.001, "adamw": 0.001}


@dataclass(frozen=True)
class Context:
    """What the rules read besides the graph: the loss the run will use and, with a data set, its classes."""

    loss: str | None  # "cross_entropy", "bce_with_logits", "mse", "l1"; None when it cannot be told yet
    classes: int | None
    outputs: tuple[str, ...]
    optimizer: str | None
    lr: float | None


def diagnose(graph: Graph, dataset: Any = None) -> list[Problem]:
    """Everything the doctor finds, errors first within each part: the graph's problems (with
    fixes where known), the lints, and, with a ``dataset``, whether it fits the graph."""
    graph_problems = [_by_data(graph, merge.with_fixes(graph, p), dataset) for p in validate(graph)]
    problems = graph_problems + lint(graph, dataset)
    if dataset is not None and not any(p.level == "error" for p in problems):
        from studio.data import check_fits

        problems += [_fit_fix(graph, p, dataset) for p in check_fits(dataset, graph)]
    # the Input's finding with the graph's errors, before the warnings
    return graph_problems + _inputs_against(graph, dataset, problems) + problems[len(graph_problems):]


def _inputs_against(graph: Graph, dataset: Any, problems: list[Problem]) -> list[Problem]:
    """While the graph has errors the rest of the fit waits, but an Input that does not take the
    data set is said at once, with its fix: it is often their cause (a Conv2d after an Input left
    at its default [2])."""
    if dataset is None or dataset.task == "gan" or not any(p.level == "error" for p in problems):
        return []
    from studio.data import check_fits

    known = {(p.node, p.code) for p in problems if p.code}
    # a dtype finding already says what input-dtype would, with the fix the data set settles
    codes = {"input-shape"} if any(p.code.startswith("dtype-") for p in problems) else {"input-shape", "input-dtype"}
    return [p for p in check_fits(dataset, graph) if p.code in codes and (p.node, p.code) not in known]


def _by_data(graph: Graph, problem: Problem, dataset: Any) -> Problem:
    """Of a dtype finding's fixes, the one the data set settles: an Input whose data are float values
    takes dtype float; one whose data are token ids keeps them and gains an Embedding."""
    if dataset is None or problem.code != "dtype-ids-to-values" or len(problem.fixes) < 2:
        return problem
    from studio.data.fit import match_inputs
    from studio.graph.dtypes import origin

    edge = graph.edge_into(problem.node, problem.port) if problem.node in graph and problem.port else None
    source = origin(graph, edge.src) if edge is not None else None
    given = dict(match_inputs(dataset, graph)).get(source)
    if given is None:
        return problem
    keep = [f for f in problem.fixes
            if any(isinstance(e, SetParams) for e in f.edits) == (given.dtype == "float")]
    return replace(problem, fixes=tuple(keep)) if keep else problem


def _fit_fix(graph: Graph, problem: Problem, dataset: Any) -> Problem:
    """The output's width against the data set's classes: set it on the Linear that decides it."""
    if problem.code != "output-classes" or problem.node is None or dataset is None:
        return problem
    shape = graph.shapes.output(problem.node)
    classes = len(dataset.class_names)
    linear = last_linear(graph, problem.node)
    want = tuple(dataset.output_shape)
    if shape is None or linear is None or tuple(shape[:-1]) != want[:-1]:
        return problem  # more than the width is wrong (a missing Flatten): another finding says where
    width = classes if not (classes == 2 and shape[-1] == 1) else 1
    fix = Fix(f"Set out_features of {linear} to {width}", (SetParams(linear, pairs({"out_features": width})),))
    return replace(problem, fixes=(fix,))


def examine(graph: Graph, base_dir: Any = None, need_data: bool = False) -> tuple[Any, Any, list[Problem]]:
    """(settings, data set, problems) as ``studio check`` reports them: everything ``studio train``
    would refuse (``preflight.check``: settings, graph, memory, the data set and its fit), with fixes
    where one is known, then the lints (warnings, and errors a run would meet later)."""
    if graph.training or need_data:
        from studio.training.preflight import check  # here: a file with nothing to train never loads it

        config, dataset, problems = check(graph, base_dir, need_data=need_data)
    else:  # a file that only describes a network: nothing to train, nor memory to train it in
        config, dataset, problems = None, None, validate(graph)
    problems = [_by_data(graph, _fit_fix(graph, merge.with_fixes(graph, p), dataset), dataset) for p in problems]
    known = {(p.node, p.code) for p in problems if p.code}
    problems += [p for p in lint(graph, dataset) if (p.node, p.code) not in known]
    return config, dataset, problems + _inputs_against(graph, dataset, problems)


def standing(graph: Graph, dataset: Any = None, total_params: int | None = None,
             dataset_error: str | None = None) -> list[Problem]:
    """What the editor shows after every edit: the training settings' problems, why the data set did
    not load (``dataset_error``), ``diagnose``, and a network too large for memory (``total_params``:
    a count already made, else counted). Errors come first (a data set's misfit is found last), each
    part in its order."""
    from studio.training.preflight import memory_problems, settings_problems

    problems = settings_problems(graph) + ([Problem(None, None, dataset_error, "data")] if dataset_error else [])
    problems += diagnose(graph, dataset)
    total = graph.total_params() if total_params is None else total_params
    return sorted(problems + memory_problems(total), key=lambda p: p.level == "warning")


def lint(graph: Graph, dataset: Any = None) -> list[Problem]:
    """The lints alone, in rule order then document order."""
    if not graph.nodes:
        return []
    context = _context(graph, dataset)
    found: list[Problem] = []
    for rule in RULES:
        found.extend(rule(graph, context))
    return found


def unambiguous(problems: Iterable[Problem]) -> list[tuple[Problem, Fix]]:
    """The problems with exactly one fix, and that fix: what ``studio check --fix`` applies unasked."""
    return [(p, p.fixes[0]) for p in problems if len(p.fixes) == 1]


# ---- what the rules read ----------------------------------------------------------------
def _context(graph: Graph, dataset: Any) -> Context:
    training = graph.training if isinstance(graph.training, Mapping) else {}
    optimizer = training.get("optimizer") if isinstance(training.get("optimizer"), Mapping) else {}
    name = optimizer.get("name", "adam") if isinstance(optimizer.get("name", "adam"), str) else None
    lr = optimizer.get("lr", 0.001)
    lr = float(lr) if isinstance(lr, (int, float)) and not isinstance(lr, bool) else None
    classes = len(dataset.class_names) if dataset is not None and getattr(dataset, "is_classification", False) else None
    return Context(_loss(training, dataset), classes, tuple(graph.output_nodes()), name, lr)


def _loss(training: Mapping[str, Any], dataset: Any) -> str | None:
    loss = training.get("loss", "auto")
    if isinstance(loss, str) and loss != "auto":
        return loss
    task = training.get("task", "auto")
    if task == "auto" or not isinstance(task, str):
        task = getattr(dataset, "task", None) or _catalogue_task(training.get("dataset"))
    if task in ("classification", "node_classification"):
        return "cross_entropy"
    if task == "regression":
        return "mse"
    if task == "sequence" and dataset is not None and dataset.train is not None and dataset.train.targets is not None:
        return "mse" if dataset.train.targets.is_floating_point() else "cross_entropy"
    return None


def _catalogue_task(spec: Any) -> str | None:
    if not isinstance(spec, Mapping) or not isinstance(spec.get("name"), str):
        return None
    from studio.data.catalog import info

    try:
        return info(spec["name"]).task
    except Exception:  # an unknown data set: its own check says so
        return None


def _feeders(graph: Graph, node_id: str) -> list[str]:
    return [e.src for e in graph.in_edges(node_id)]


def _only_feeder(graph: Graph, node_id: str) -> str | None:
    ins = graph.in_edges(node_id)
    return ins[0].src if len(ins) == 1 else None


def _block(graph: Graph, node_id: str) -> str:
    return graph.node(node_id).block


def _docs(block: str) -> str:
    return f" (Help > Block Reference: {block})"


# ---- the rules ---------------------------------------------------------------------------
def spatial_linear(graph: Graph, ctx: Context) -> Iterable[Problem]:
    """A Linear fed a feature map: it mixes only the last axis, so [16, 5, 5] stays three-dimensional."""
    for node_id in graph.topological_order():
        if _block(graph, node_id) != "Linear":
            continue
        edge = graph.edge_into(node_id, "in")
        shape = graph.shapes.inputs(node_id).get("in")
        if edge is None or shape is None or len(shape) < 2:
            continue
        source = _spatial_source(graph, edge.src)
        if source is None:
            continue
        flat = math.prod(shape)
        yield Problem(
            node_id, "in",
            f"Linear is fed {list(shape)} from {source}, a feature map: it would act on the last axis alone and "
            f"give [{', '.join(map(str, shape[:-1]))}, out_features]; flatten it first (to [{flat}])",
            "lint", "warning", "spatial-linear",
            (Fix(f"Insert Flatten before {node_id}", (InsertOnWire("Flatten", (), edge.src, edge.src_port,
                                                                      node_id, "in"),)),))


def _spatial_source(graph: Graph, node_id: str) -> str | None:
    """The convolution or pooling whose feature map reaches ``node_id`` unflattened, if any."""
    seen = set()
    while node_id is not None and node_id not in seen:
        seen.add(node_id)
        block = _block(graph, node_id)
        if block in SPATIAL:
            return node_id
        if block not in ELEMENTWISE:
            return None
        node_id = _only_feeder(graph, node_id)
    return None


def output_activation(graph: Graph, ctx: Context) -> Iterable[Problem]:
    """Softmax, Sigmoid or ReLU at the end, where the loss wants raw scores (logits)."""
    if ctx.loss not in ("cross_entropy", "bce_with_logits"):
        return
    for node_id in ctx.outputs:
        block = _block(graph, node_id)
        if _only_feeder(graph, node_id) is None:
            continue
        fix = (Fix(f"Remove {node_id}", (Bypass(node_id),)),)
        if block == "Softmax" and ctx.loss == "cross_entropy":
            yield Problem(node_id, None,
                          "Softmax before cross_entropy: the loss applies softmax itself, so the scores are "
                          "squashed twice and the gradient shrinks; end on the Linear's raw scores" + _docs(block),
                          "lint", "warning", "softmax-before-loss", fix)
        elif block == "Sigmoid":
            why = ("bce_with_logits applies the sigmoid itself" if ctx.loss == "bce_with_logits" else
                   "cross_entropy takes raw scores, and scores squeezed into (0, 1) can barely tell the classes apart")
            yield Problem(node_id, None, f"Sigmoid at the output: {why}; end on the Linear's raw scores" + _docs(block),
                          "lint", "warning", "sigmoid-before-loss", fix)
        elif block in RELUS:
            yield Problem(node_id, None,
                          f"{block} at the output: scores cannot go below zero, and a class whose score is clipped "
                          "gets no gradient; end on the Linear's raw scores" + _docs(block),
                          "lint", "warning", "relu-at-output", fix)
        elif block == "LogSoftmax" and ctx.loss == "bce_with_logits":
            yield Problem(node_id, None, "LogSoftmax before bce_with_logits: the loss wants raw scores" + _docs(block),
                          "lint", "warning", "softmax-before-loss", fix)


def saturating_depth(graph: Graph, ctx: Context) -> Iterable[Problem]:
    """Many Sigmoid/Tanh in a row with nothing to renormalise: each passes back at most 1/4 of the gradient."""
    run: dict[str, tuple[str, ...]] = {}  # node -> the saturating activations in a row that reach it
    for node_id in graph.topological_order():
        block = _block(graph, node_id)
        feeders = _feeders(graph, node_id)
        if block in NORMS or len(feeders) != 1:  # a norm renormalises; a merge (Add) is a shortcut
            run[node_id] = ()
            continue
        before = run.get(feeders[0], ())
        run[node_id] = before + (node_id,) if block in SATURATING else before
    longest: dict[str, tuple[str, ...]] = {}  # said once per run, at its first layer, in full
    for chain in run.values():
        if len(chain) > MAX_SATURATING and len(chain) > len(longest.get(chain[0], ())):
            longest[chain[0]] = chain
    for first, chain in longest.items():
        kinds = "/".join(sorted({_block(graph, n) for n in chain}))
        norms = tuple(edit for n in chain for edit in _norm_before(graph, n))
        relu = tuple(Replace(n, "ReLU") for n in chain)
        yield Problem(
            first, None,
            f"{len(chain)} {kinds} layers in a row ({chain[0]} … {chain[-1]}) with no normalisation or shortcut: "
            f"each passes back at most {'1/4' if kinds == 'Sigmoid' else 'part'} of the gradient, so the first "
            "layers barely learn (vanishing gradients); use ReLU with a normalisation before each (ReLU alone "
            "still fades at this depth with the default initialisation)" + _docs(_block(graph, first)),
            "lint", "warning", "saturating-depth",
            (Fix(f"Use ReLU, with a normalisation before each of the {len(chain)} layers", relu + norms),
             Fix(f"Put a normalisation before each of the {len(chain)} {kinds} layers", norms)))


def _norm_before(graph: Graph, node_id: str) -> tuple:
    """A BatchNorm for features or feature maps, a LayerNorm for sequences, on the wire into ``node_id``;
    the layer before loses its bias when a BatchNorm would undo it (``bias-before-norm``)."""
    edge = graph.edge_into(node_id, "in")
    shape = graph.shapes.inputs(node_id).get("in") or ()
    block = {1: "BatchNorm1d", 3: "BatchNorm2d"}.get(len(shape), "LayerNorm")
    edits: tuple = (InsertOnWire(block, (), edge.src, edge.src_port, node_id, "in"),)
    source = graph.node(edge.src)
    if (block != "LayerNorm" and source.block in BIASED and source.params.get("bias")
            and len(graph.out_edges(edge.src)) == 1):
        edits += (SetParams(edge.src, pairs({"bias": False})),)
    return edits


def missing_activation(graph: Graph, ctx: Context) -> Iterable[Problem]:
    """Two Linears in a row compose into one: the hidden layer adds nothing."""
    for node_id in graph.topological_order():
        if _block(graph, node_id) != "Linear":
            continue
        edge = graph.edge_into(node_id, "in")
        if edge is None:
            continue
        source = edge.src
        while _block(graph, source) in ("Dropout", "Identity") and _only_feeder(graph, source) is not None:
            source = _only_feeder(graph, source)
        if _block(graph, source) != "Linear" or len(graph.out_edges(edge.src)) != 1:
            continue
        yield Problem(
            node_id, "in",
            f"{source} and {node_id} are two Linear layers with no activation between: together they are one "
            "linear map, so the extra layer learns nothing a single Linear could not (XOR stays unsolvable); "
            "put a ReLU or Tanh between them" + _docs("ReLU"),
            "lint", "warning", "no-activation",
            (Fix(f"Insert ReLU before {node_id}", (InsertOnWire("ReLU", (), edge.src, edge.src_port, node_id, "in"),)),))


def bias_before_norm(graph: Graph, ctx: Context) -> Iterable[Problem]:
    """A bias right before a BatchNorm is subtracted again by the norm's mean: parameters that do nothing."""
    for node_id in graph.topological_order():
        if _block(graph, node_id) not in ("BatchNorm1d", "BatchNorm2d"):
            continue
        source = _only_feeder(graph, node_id)
        if source is None or _block(graph, source) not in BIASED:
            continue
        params = graph.node(source).params
        if not params.get("bias", False) or len(graph.out_edges(source)) != 1:
            continue
        yield Problem(
            source, None,
            f"{source}'s bias is undone by {node_id}, which subtracts the batch mean right after: it learns "
            f"nothing; turn the bias off" + _docs(_block(graph, node_id)),
            "lint", "warning", "bias-before-norm",
            (Fix(f"Turn off the bias of {source}", (SetParams(source, pairs({"bias": False})),)),))


def learning_rate(graph: Graph, ctx: Context) -> Iterable[Problem]:
    """A learning rate its optimizer cannot work with."""
    name, lr = ctx.optimizer, ctx.lr
    if name not in LR_TOO_LARGE or lr is None:
        return
    good = LR_GOOD[name]
    fix = (Fix(f"Set the learning rate to {good:g}", (SetTraining(("optimizer", "lr"), good),)),)
    if lr >= LR_TOO_LARGE[name]:
        yield Problem(None, None,
                      f"training.optimizer.lr: {lr:g} is far too large for {name}: each step overshoots, so the "
                      f"loss oscillates or blows up to NaN; {name} usually starts near {good:g} (Check > Find "
                      "learning rate measures one)", "lint", "warning", "lr-too-large", fix)
    elif 0 < lr <= 1e-6:
        yield Problem(None, None,
                      f"training.optimizer.lr: {lr:g} is so small that the weights barely move in a run; {name} "
                      f"usually starts near {good:g}", "lint", "warning", "lr-too-small", fix)


def output_classes(graph: Graph, ctx: Context) -> Iterable[Problem]:
    """Without a data set at hand: the last Linear's width against the classes the settings name."""
    if ctx.classes is not None or ctx.loss != "cross_entropy":
        return  # with a data set, the fit check says it (with the same fix)
    training = graph.training if isinstance(graph.training, Mapping) else {}
    spec = training.get("dataset")
    classes = spec.get("classes") if isinstance(spec, Mapping) else None
    if not isinstance(classes, int) or isinstance(classes, bool) or classes < 2:
        return
    for node_id in ctx.outputs:
        shape = graph.shapes.output(node_id)
        if shape is None or len(shape) != 1 or shape[0] == classes:
            continue
        linear = last_linear(graph, node_id)
        fixes = (Fix(f"Set out_features of {linear} to {classes}", (SetParams(linear, pairs({"out_features": classes})),)),) \
            if linear is not None else ()
        yield Problem(node_id, None, f"the network gives {shape[0]} scores but training.dataset.classes is {classes}",
                      "lint", "error", "output-classes", fixes)


def last_linear(graph: Graph, node_id: str) -> str | None:
    """The Linear that sets an output's width, through blocks that keep it (activations, Dropout)."""
    seen = set()
    while node_id is not None and node_id not in seen:
        seen.add(node_id)
        if _block(graph, node_id) == "Linear":
            return node_id
        if _block(graph, node_id) not in ELEMENTWISE | {"Softmax", "LogSoftmax", "LayerNorm", "BatchNorm1d"}:
            return None
        node_id = _only_feeder(graph, node_id)
    return None


RULES: tuple[Callable[[Graph, Context], Iterable[Problem]], ...] = (
    output_classes, spatial_linear, output_activation, missing_activation, saturating_depth, bias_before_norm,
    learning_rate,
)
