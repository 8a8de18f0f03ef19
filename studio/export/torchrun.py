"""A standalone training script for ``torchrun`` (DistributedDataParallel).

The script embeds the exported model source (``export_python``) and the
graph's training settings (optimizer, learning rate and schedule, epochs,
batch size, loss, weight decay, L1, gradient clipping, seed), and trains on an
``.npz`` file given on its command line:

- ``x``: the samples, ``[S, *input shape]`` (float32, or integers for token
  inputs). A network with several inputs takes one array per Input node,
  named after the node id (``x`` and ``adj`` for a graph network).
- ``y``: the targets, ``[S]`` integer class ids for cross-entropy, or values
  shaped like the output for mse, l1 and bce_with_logits.
- ``x_val`` / ``y_val`` (or ``<input>_val``), optional: a validation split,
  evaluated after every epoch.

Each process takes its share of every epoch's shuffled sample order, as
``DistributedSampler`` does (padded so every rank runs the same number of
steps); the graph's ``batch_size`` is the global batch, split over the
processes. gloo on the CPU, nccl on CUDA. Run without ``torchrun`` it trains
in one process.

Single-network supervised graphs only: a GAN or a node-classification task
(which trains on masked nodes of one graph) is refused with ``ExportError``.

The script is real code, ``torchrun_script``; ``torchrun_template`` makes the
template from it, copying in the trainer's loss, optimizer and schedule from
their one source. The template is filled in one pass (``source_text.fill``);
every value from the graph file goes in as a literal or a checked name, and the
docstring shows the graph's name and the script's name only where they read
literally there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from studio.graph import Graph
from studio.training import TrainingConfig
from studio.training.config import DEFAULT_LOSS
from studio.training.optim import optimizer_settings, schedule_settings

from .errors import ExportError
from .python_source import ModelSource
from .source_text import MARKER, check_parses, checked_node_id, doc_text, fill, identifier, literal, module_names
from .torchrun_template import script_template

_TEMPLATE = script_template()


def training_settings(cfg: TrainingConfig) -> dict[str, Any]:
    """The settings the script trains with, as the trainer's own helpers read them."""
    return {
        "optimizer": optimizer_settings(cfg.optimizer),
        "schedule": schedule_settings(cfg.schedule),
        "batch_size": cfg.batch_size,
        "epochs": cfg.epochs,
        "weight_decay": cfg.weight_decay,
        "l1": cfg.l1,
        "grad_clip": cfg.grad_clip,
        "seed": cfg.seed,
    }


def export_torchrun_script(graph: Graph, graph_path: str | Path | None = None) -> str:
    """The training script's source; ``graph_path`` (the graph file) names the script and its weights."""
    cfg = TrainingConfig.from_dict(graph.training)
    task = cfg.task
    dataset_task = (cfg.dataset or {}).get("task")
    if task in ("gan", "node_classification") or cfg.gan.generator is not None:
        raise ExportError(f"training.task {task}: the torchrun script trains one supervised network; "
                          "GAN and node-classification runs train in Studio")
    if cfg.optimizer.name == "perceptron":
        raise ExportError("training.optimizer.name perceptron: the torchrun script trains by gradient; "
                          "the perceptron rule trains in Studio (choose sgd or adam to export a script)")
    src = ModelSource(graph, SCRIPT_NAMES)
    if len(src.networks) != 1:
        raise ExportError(f"the graph holds {len(src.networks)} separate networks "
                          f"({', '.join(src.networks)}); the torchrun script trains one")
    (key, net), = src.networks.items()
    if len(net.output_nodes) != 1:
        outs = ", ".join(f"{n}.{p}" for n, p in net.output_nodes)
        raise ExportError(f"the network has {len(net.output_nodes)} outputs ({outs}); the torchrun script "
                          "trains a network with one output")
    loss = cfg.loss if cfg.loss != "auto" else DEFAULT_LOSS.get(task if task != "auto" else dataset_task or "")
    stem = Path(graph_path).stem if graph_path else "model"
    inputs = []
    for node_id in net.input_nodes:
        name = "x" if len(net.input_nodes) == 1 else checked_node_id(node_id)
        inputs.append((name, graph.node(node_id).params.get("dtype", "float")))
    arrays = []
    for (name, kind), node_id in zip(inputs, net.input_nodes):
        shape = ", ".join(str(int(d)) for d in graph.node(node_id).params["shape"])
        kind_doc = "integer token ids" if kind == "long" else "float32"
        arrays.append(f"  {name:<6} [S, {shape}] {kind_doc}  (input {checked_node_id(node_id)})")
    out_node, out_port = net.output_nodes[0]
    out_shape = ", ".join(str(int(d)) for d in graph.shapes.output(out_node, out_port))
    target = {
        "cross_entropy": "integer class ids",
        None: "integer class ids (cross_entropy) or values like the output (mse)",
    }.get(loss, f"values shaped like the output [S, {out_shape}] ({doc_text(loss, fallback='the loss')})")
    arrays.append(f"  {'y':<6} [S, ...] {target}; the output is [S, {out_shape}]")
    missing = [line for line in src.imports() if line and line not in _TEMPLATE.splitlines()]
    if missing:
        raise AssertionError(f"the model needs imports the script template lacks: {missing}")
    text = fill(_TEMPLATE, {
        # docstring: only text that reads literally there
        "__TITLE__": doc_text(graph.name, stem, fallback="A network"),
        "__SCRIPT__": doc_text(f"train_{stem}.py", fallback="train.py"),
        "__ARRAYS__": "\n".join(arrays),
        "__BATCH__": str(int(cfg.batch_size)),
        # code: literals and checked names
        "__MODEL__": src.body(),
        "__NAME__": literal(graph.name),
        "__CLASS__": identifier(src.names[key], "class name"),
        "__INPUTS__": literal(inputs),
        "__LOSS__": literal(loss),
        "__TRAINING__": _pretty(training_settings(cfg)),
        "__WEIGHTS__": literal(f"{stem}.pt"),
    })
    return check_parses(text, f"train_{stem}.py")


def _pretty(d: dict, indent: str = "") -> str:
    """``literal(d)`` with one key a line, nested dicts too."""
    lines = ["{"]
    for k, v in d.items():
        value = _pretty(v, indent + "    ") if type(v) is dict else literal(v)
        lines.append(f"{indent}    {literal(k)}: {value},")
    lines.append(indent + "}")
    return "\n".join(lines)


# Names the script binds around the model classes; a class named after the graph avoids them.
SCRIPT_NAMES = frozenset(module_names(MARKER.sub("None", _TEMPLATE)))
