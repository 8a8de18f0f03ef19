"""Does a data set fit a graph? Checked before training, naming both sides."""

from __future__ import annotations

from typing import TYPE_CHECKING

from studio.graph import Problem
from studio.graph.fixes import Fix, SetParams, pairs

from .dataset import DataInput, Dataset

if TYPE_CHECKING:
    from studio.graph import Graph


def _shape(shape) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"


def _gives(ds: Dataset, given: DataInput) -> str:
    """How a person names what a data input gives: features, images, tokens..."""
    shape = given.shape
    if given.dtype == "long":
        return f"{_shape(shape)} token ids"
    if len(shape) == 1:
        return f"[{shape[0]}] features"
    if len(shape) == 3:
        return f"images {_shape(shape)}"
    return f"samples {_shape(shape)}"


def input_nodes(graph: "Graph") -> list[str]:
    return [n for n in graph.topological_order() if graph.node(n).spec.is_input]


def output_nodes(graph: "Graph") -> list[str]:
    """Nodes whose results nothing else uses: the network's outputs."""
    return [n for n in graph.topological_order()
            if not graph.node(n).spec.is_input and not graph.out_edges(n)]


def match_inputs(ds: Dataset, graph: "Graph") -> list[tuple[str, DataInput]]:
    """Pairs (Input node id, data input): by name where an Input's id or label is
    a data input's name, the rest in document order."""
    nodes = input_nodes(graph)
    by_name = {d.name: d for d in ds.inputs}
    pairs: dict[str, DataInput] = {}
    for n in nodes:
        node = graph.node(n)
        for key in (node.id, node.label):
            if key in by_name and by_name[key] not in pairs.values():
                pairs[n] = by_name[key]
                break
    rest = [d for d in ds.inputs if d not in pairs.values()]
    for n in nodes:
        if n not in pairs and rest:
            pairs[n] = rest.pop(0)
    return [(n, pairs[n]) for n in nodes if n in pairs]


def check_fits(ds: Dataset, graph: "Graph") -> list[Problem]:
    """Problems (kind "data") that keep ``ds`` from training ``graph``; empty when it fits.

    Checks the number of Input nodes against the data inputs, each Input's
    shape and dtype, that a classification set trains on more than one class,
    and the output's shape against classes or targets. Nodes
    whose shapes are unknown (the graph has its own errors) are not compared.
    """
    if ds.task == "gan":
        return _check_gan(ds, graph)
    problems: list[Problem] = []
    inputs = input_nodes(graph)
    if len(inputs) != len(ds.inputs):
        names = ", ".join(f"{d.name} {_shape(d.shape)}" for d in ds.inputs)
        have = ", ".join(inputs) or "none"
        problems.append(Problem(
            None, None,
            f"the graph has {len(inputs)} Input node(s) ({have}) but the data set {ds.name!r} gives "
            f"{len(ds.inputs)} input(s) ({names})", "data"))
    for node_id, given in match_inputs(ds, graph):
        problems += _check_input(ds, graph, node_id, given)
    problems += _check_classes(ds)

    outputs = output_nodes(graph)
    if not outputs:
        problems.append(Problem(None, None, "the graph has no output: nothing follows its Input", "data"))
        return problems
    if len(outputs) > 1:
        problems.append(Problem(
            None, None, f"the graph has {len(outputs)} outputs ({', '.join(outputs)}); "
            f"training on {ds.name!r} needs exactly one", "data"))
        return problems
    last = outputs[0]
    got = graph.shapes.output(last)
    if got is not None and not output_fits(ds, tuple(got)):
        # the doctor adds the fix (the Linear that sets the width), knowing which blocks keep it
        code = "output-classes" if ds.is_classification else "output-shape"
        problems.append(Problem(last, "out", _output_message(ds, graph.node(last).title, tuple(got)), "data",
                                code=code))
    return problems


def _labelled_by(ds: Dataset) -> str:
    """What holds the labels, as the person named it: a CSV column, an npz array, or the set itself."""
    if ds.name == "csv" and ds.extra.get("target"):
        return f"the data set 'csv' (label column {ds.extra['target']!r})"
    if ds.name == "npz":
        return f"the data set 'npz' (label array {ds.spec.get('y', 'y')!r})"
    return f"the data set {ds.name!r}"


def _check_classes(ds: Dataset) -> list[Problem]:
    """A classification set whose training part holds one class: nothing to tell apart."""
    import torch

    part = ds.train
    if not ds.is_classification or part is None or part.targets is None:
        return []
    labels = part.targets
    if part.mask is not None:
        labels = labels[:, part.mask] if labels.dim() > 1 else labels[part.mask]
    present = torch.unique(labels).tolist()
    if len(present) != 1:
        return []
    names = ds.class_names
    only = names[present[0]] if 0 <= present[0] < len(names) else str(present[0])
    where = (f"{_labelled_by(ds)} holds one class only ({only!r})" if len(names) <= 1 else
             f"the training part of {_labelled_by(ds)} holds one class only ({only!r}; the other classes fell "
             "in the validation part)")
    return [Problem(None, None,
                    f"{where}: there is nothing to tell apart, and always answering {only!r} would score 100%; "
                    "a classifier needs examples of at least two classes", "data")]


def output_fits(ds: Dataset, got: tuple[int, ...]) -> bool:
    want = tuple(ds.output_shape)
    if got == want:
        return True
    # Two classes may also be one logit (bce_with_logits): [1] for [2], [L, 1] for [L, 2].
    binary = ds.is_classification and len(ds.class_names) == 2
    return binary and got == want[:-1] + (1,)


def _check_input(ds: Dataset, graph: "Graph", node_id: str, given: DataInput) -> list[Problem]:
    node = graph.node(node_id)
    out = []
    takes = tuple(node.params.get("shape", ()))
    if takes != tuple(given.shape):
        out.append(Problem(node_id, None,
                           f"Input {node.title} takes {_shape(takes)} but the data set {ds.name!r} gives "
                           f"{_gives(ds, given)}" + _named(ds, given), "data", code="input-shape",
                           fixes=(Fix(f"Set the shape of {node_id} to {_shape(given.shape)}",
                                      (SetParams(node_id, pairs({"shape": list(given.shape)})),)),)))
    dtype = node.params.get("dtype", "float")
    if dtype != given.dtype:
        what = {"long": "integer token ids (dtype long)", "float": "float values (dtype float)"}
        out.append(Problem(node_id, None,
                           f"Input {node.title} takes {what[dtype]} but the data set {ds.name!r} gives "
                           f"{what[given.dtype]}" + _named(ds, given), "data", code="input-dtype",
                           fixes=(Fix(f"Set the dtype of {node_id} to {given.dtype}",
                                      (SetParams(node_id, pairs({"dtype": given.dtype})),)),)))
    return out


def _named(ds: Dataset, given: DataInput) -> str:
    return f" as {given.name}" if len(ds.inputs) > 1 else ""


def _output_message(ds: Dataset, title: str, got: tuple[int, ...]) -> str:
    want = tuple(ds.output_shape)
    if ds.is_classification:
        k = len(ds.class_names)
        if len(got) == 1 and len(want) == 1:
            binary = " (give 2 scores, or 1 logit for bce_with_logits)" if k == 2 else ""
            return f"the last node {title} gives {got[0]} outputs but {ds.name!r} has {k} classes{binary}"
        return (f"the last node {title} gives {_shape(got)} but {ds.name!r} needs {_shape(want)} "
                f"(a score for each of {k} classes in the last dimension)")
    return f"the last node {title} gives {_shape(got)} but the targets of {ds.name!r} are {_shape(want)}"


def _check_gan(ds: Dataset, graph: "Graph") -> list[Problem]:
    # A GAN graph holds a generator (ending in one sample's shape) and a
    # discriminator (an Input taking one sample, ending in one score).
    sample = tuple(ds.input_shape)
    problems = []
    inputs = input_nodes(graph)
    if not any(tuple(graph.node(n).params.get("shape", ())) == sample for n in inputs):
        have = ", ".join(f"{graph.node(n).title} {_shape(graph.node(n).params.get('shape', ()))}"
                         for n in inputs) or "none"
        problems.append(Problem(None, None,
                                f"no Input takes a sample of {ds.name!r} {_shape(sample)} for the discriminator "
                                f"(Inputs: {have})", "data"))
    outs = output_nodes(graph)
    shapes = {n: graph.shapes.output(n) for n in outs}
    if all(s is not None for s in shapes.values()) and not any(tuple(s) == sample for s in shapes.values()):
        have = ", ".join(f"{graph.node(n).title} {_shape(s)}" for n, s in shapes.items()) or "none"
        problems.append(Problem(None, None,
                                f"no generator output gives a sample of {ds.name!r} {_shape(sample)} "
                                f"(outputs: {have})", "data"))
    return problems
