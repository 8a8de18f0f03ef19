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

The template is filled in one pass (``source_text.fill``); every value from the
graph file goes in as a literal or a checked name, and the docstring shows the
graph's name and the script's name only where they read literally there.
"""

from __future__ import annotations

from pathlib import Path

from studio.graph import Graph
from studio.training import TrainingConfig
from studio.training.config import DEFAULT_LOSS

from .errors import ExportError
from .python_source import ModelSource
from .source_text import MARKER, check_parses, checked_node_id, doc_text, fill, identifier, literal, module_names

_TEMPLATE = '''\
#!/usr/bin/env python
"""__TITLE__: distributed training script exported from Studio.

    torchrun --nproc_per_node=N __SCRIPT__ DATA.npz [--epochs E] [--out WEIGHTS.pt]
    python __SCRIPT__ DATA.npz             (one process, no torchrun)

DATA.npz holds, S samples each:
__ARRAYS__
  and optionally the same arrays with a "_val" suffix: a validation split.

The graph's batch_size (__BATCH__) is the global batch, split over the processes;
each process trains on its own share of every epoch's shuffled order. The
backend is nccl on CUDA and gloo on the CPU. Rank 0 prints one line per epoch
and saves the weights (a state_dict whose keys match Studio's compiled module).
"""

import argparse
import json
import math
import os
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel


# ---- the model, exported from Studio ----------------------------------------


__MODEL__


# ---- training ----------------------------------------------------------------

GRAPH_NAME = __NAME__  # the name of the graph this script was exported from
MODEL = __CLASS__
INPUTS = __INPUTS__  # (array name, dtype) per forward argument
LOSS = __LOSS__  # None: cross_entropy for integer targets, else mse
TRAINING = __TRAINING__


def lr_at(step, steps_per_epoch, epochs):
    """The learning rate at a step, as Studio schedules it."""
    s, base = TRAINING["schedule"], TRAINING["optimizer"]["lr"]
    epoch, total = step // steps_per_epoch, max(1, epochs * steps_per_epoch)
    gamma = s["gamma"] if s["gamma"] is not None else (0.95 if s["name"] == "exponential" else 0.1)

    def cosine(low, high, t):
        return low + (high - low) * 0.5 * (1.0 + math.cos(math.pi * t))

    if s["name"] == "step":
        return base * gamma ** (epoch // s["step_size"])
    if s["name"] == "exponential":
        return base * gamma ** epoch
    if s["name"] == "cosine":
        return cosine(s["min_lr"], base, min(step, total) / total)
    if s["name"] == "warmup_cosine":
        warm = min(total, round(s["warmup_epochs"] * steps_per_epoch))
        if step < warm:
            return base * (step + 1) / warm
        rest = max(1, total - warm)
        return cosine(s["min_lr"], base, min(step - warm, rest) / rest)
    if s["name"] == "one_cycle":
        peak = s["max_lr"] if s["max_lr"] is not None else base
        start = peak / s["div_factor"]
        end = start / s["final_div_factor"]
        up = max(1, round(s["pct_start"] * total))
        if step < up:
            return cosine(peak, start, step / up)
        down = max(1, total - up)
        return cosine(end, peak, min(step - up, down) / down)
    return base


def make_optimizer(params):
    o, wd = TRAINING["optimizer"], TRAINING["weight_decay"]
    if o["name"] == "sgd":
        return torch.optim.SGD(params, lr=o["lr"], momentum=o["momentum"], nesterov=o["nesterov"], weight_decay=wd)
    if o["name"] == "adam":
        return torch.optim.Adam(params, lr=o["lr"], betas=tuple(o["betas"]), eps=o["eps"], weight_decay=wd)
    if o["name"] == "adamw":
        return torch.optim.AdamW(params, lr=o["lr"], betas=tuple(o["betas"]), eps=o["eps"], weight_decay=wd)
    return torch.optim.RMSprop(params, lr=o["lr"], alpha=o["alpha"], eps=o["eps"], momentum=o["momentum"],
                               weight_decay=wd)


def loss_fn(name, out, y):
    """The loss and, for classification, the number of right predictions."""
    if name == "cross_entropy":
        if out.dim() > 2 and out.shape[:-1] == y.shape:  # scores last: [B, L, C] against [B, L]
            out, y = out.reshape(-1, out.shape[-1]), y.reshape(-1)
        return F.cross_entropy(out, y), (out.argmax(1) == y).sum()
    y = y.reshape(out.shape).to(out.dtype)
    if name == "bce_with_logits":
        return F.binary_cross_entropy_with_logits(out, y), ((out > 0) == (y > 0.5)).sum()
    if name == "mse":
        return F.mse_loss(out, y), None
    return F.l1_loss(out, y), None


def load(path, suffix=""):
    data = np.load(path)
    names = [name + suffix for name, _ in INPUTS] + ["y" + suffix]
    missing = [n for n in names if n not in data.files]
    if missing:
        if suffix:
            return None
        raise SystemExit(f"{path}: missing arrays {missing} (it has {data.files}); see this script's docstring")
    xs = [torch.as_tensor(data[name + suffix]).to(torch.long if kind == "long" else torch.float32)
          for name, kind in INPUTS]
    y = torch.as_tensor(data["y" + suffix])
    if any(len(x) != len(y) for x in xs):
        raise SystemExit(f"{path}: inputs and y{suffix} hold different numbers of samples")
    return xs, y


# Every finished collective stays referenced here until the process exits. Otherwise a gloo worker
# thread may drop the last reference to it after this thread has moved on; freeing its tensors (made
# in Python) then needs the GIL, and a thread that waits for the GIL while the interpreter shuts
# down aborts the process ("terminate called without an active exception").
FINISHED = []


def all_reduce(tensor):
    """Sum ``tensor`` over every rank, in place."""
    work = dist.all_reduce(tensor, async_op=True)
    work.wait()
    FINISHED.append(work)


def shard(n, epoch, rank, world, seed, shuffle=True):
    """This rank's sample indices for an epoch, as DistributedSampler gives them."""
    if shuffle:
        order = torch.randperm(n, generator=torch.Generator().manual_seed(seed * 1_000_003 + epoch))
    else:
        order = torch.arange(n)
    total = -(-n // world) * world  # padded so every rank gets as many samples
    order = order.repeat(-(-total // n))[:total]
    return order[rank::world]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", help=".npz file with the arrays listed above")
    parser.add_argument("--epochs", type=int, default=TRAINING["epochs"])
    parser.add_argument("--batch-size", type=int, default=TRAINING["batch_size"], help="global batch")
    parser.add_argument("--out", default=__WEIGHTS__, help="where rank 0 saves the trained state_dict")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument("--json", action="store_true", help="print one JSON object per epoch")
    args = parser.parse_args()

    distributed = "RANK" in os.environ and "WORLD_SIZE" in os.environ
    rank = int(os.environ.get("RANK", 0))
    world = int(os.environ.get("WORLD_SIZE", 1))
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    cuda = torch.cuda.is_available() and args.device != "cpu"
    device = torch.device(f"cuda:{local_rank}" if cuda else "cpu")
    if cuda:
        torch.cuda.set_device(device)
    if distributed:
        dist.init_process_group("nccl" if cuda else "gloo")

    torch.manual_seed(TRAINING["seed"])  # the same initial weights on every rank
    model = MODEL().to(device)
    net = DistributedDataParallel(model, device_ids=[local_rank] if cuda else None) if distributed else model
    optimizer = make_optimizer([p for p in model.parameters() if p.requires_grad])
    params = [p for p in model.parameters() if p.requires_grad]

    xs, y = load(args.data)
    val = load(args.data, "_val")
    loss_name = LOSS or ("mse" if y.is_floating_point() else "cross_entropy")
    if loss_name == "cross_entropy":
        y = y.long()
    n = len(y)
    per_rank = max(1, args.batch_size // world)
    steps = -(-(-(-n // world)) // per_rank)
    step = 0
    for epoch in range(1, args.epochs + 1):
        started = time.perf_counter()
        net.train()
        idx = shard(n, epoch, rank, world, TRAINING["seed"])
        totals = torch.zeros(3, dtype=torch.float64)  # loss sum, right, counted
        for i in range(0, len(idx), per_rank):
            batch = idx[i:i + per_rank]
            inputs = [x[batch].to(device) for x in xs]
            target = y[batch].to(device)
            for group in optimizer.param_groups:
                group["lr"] = lr_at(step, steps, args.epochs)
            out = net(*inputs)
            loss, right = loss_fn(loss_name, out, target)
            optimizer.zero_grad(set_to_none=True)
            full = loss
            if TRAINING["l1"]:
                full = loss + TRAINING["l1"] * torch.stack([p.abs().sum() for p in params]).sum()
            full.backward()
            if TRAINING["grad_clip"] is not None:
                torch.nn.utils.clip_grad_norm_(params, TRAINING["grad_clip"])
            optimizer.step()
            step += 1
            totals += torch.tensor([loss.item() * len(batch), 0 if right is None else right.item(),
                                    target.numel()], dtype=torch.float64)
        if distributed:  # every rank's sums, so rank 0 reports the whole epoch
            totals = totals.to(device)
            all_reduce(totals)
        row = {"epoch": epoch, "loss": totals[0].item() / (len(idx) * world)}
        if loss_name in ("cross_entropy", "bce_with_logits"):
            row["accuracy"] = totals[1].item() / max(1.0, totals[2].item())
        if val is not None:
            row.update(evaluate(net, val, loss_name, rank, world, distributed, device))
        row["lr"] = optimizer.param_groups[0]["lr"]
        row["seconds"] = round(time.perf_counter() - started, 3)
        if rank == 0:
            if args.json:
                print(json.dumps(row), flush=True)
            else:
                print("  ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()),
                      flush=True)
    if rank == 0 and args.out:
        torch.save(model.state_dict(), args.out)
        print(f"saved {args.out}", flush=True)
    if distributed:
        dist.destroy_process_group()


@torch.no_grad()
def evaluate(net, val, loss_name, rank, world, distributed, device):
    xs, y = val
    if loss_name == "cross_entropy":
        y = y.long()
    net.eval()
    idx = torch.arange(rank, len(y), world)  # unpadded: every validation sample counted once
    totals = torch.zeros(3, dtype=torch.float64)
    for i in range(0, len(idx), 256):
        batch = idx[i:i + 256]
        target = y[batch].to(device)
        loss, right = loss_fn(loss_name, net(*[x[batch].to(device) for x in xs]), target)
        totals += torch.tensor([loss.item() * len(batch), 0 if right is None else right.item(), target.numel()],
                               dtype=torch.float64)
    if distributed:
        totals = totals.to(device)
        all_reduce(totals)
    out = {"val_loss": totals[0].item() / len(y)}
    if loss_name in ("cross_entropy", "bce_with_logits"):
        out["val_accuracy"] = totals[1].item() / max(1.0, totals[2].item())
    return out


if __name__ == "__main__":
    main()
'''


def export_torchrun_script(graph: Graph, graph_path: str | Path | None = None) -> str:
    """The training script's source; ``graph_path`` (the graph file) names the script and its weights."""
    cfg = TrainingConfig.from_dict(graph.training)
    task = cfg.task
    dataset_task = (cfg.dataset or {}).get("task")
    if task in ("gan", "node_classification") or cfg.gan.generator is not None:
        raise ExportError(f"training.task {task}: the torchrun script trains one supervised network; "
                          "GAN and node-classification runs train in Studio")
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
    training = {
        "optimizer": cfg.optimizer.__dict__ | {"betas": list(cfg.optimizer.betas)},
        "schedule": dict(cfg.schedule.__dict__),
        "batch_size": cfg.batch_size,
        "epochs": cfg.epochs,
        "weight_decay": cfg.weight_decay,
        "l1": cfg.l1,
        "grad_clip": cfg.grad_clip,
        "seed": cfg.seed,
    }
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
        "__TRAINING__": _pretty(training),
        "__WEIGHTS__": literal(f"{stem}.pt"),
    })
    return check_parses(text, f"train_{stem}.py")


def _pretty(d: dict) -> str:
    lines = ["{"]
    for k, v in d.items():
        lines.append(f"    {literal(k)}: {literal(v)},")
    lines.append("}")
    return "\n".join(lines)


# Names the script binds around the model classes; a class named after the graph avoids them.
SCRIPT_NAMES = frozenset(module_names(MARKER.sub("None", _TEMPLATE)))
