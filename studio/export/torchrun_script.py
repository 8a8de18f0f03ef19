"""The training script that ``export_torchrun_script`` writes, as a module that runs as it is.

The exported file is this module's code with two changes (``torchrun.script_template``):

- the imports from ``studio.training`` give way to the source of what they import, so the
  script schedules the learning rate, builds and steps the optimizer (with L1 and gradient
  clipping) and computes the loss with the trainer's own code, copied from its one place;
- the stand-ins for the graph's values (the ``__MARKER__`` names) are dropped, and
  ``source_text.fill`` writes each marker below them as a literal or a checked name, in
  one pass.

The stand-ins make an empty network; tests set ``MODEL``, ``INPUTS``, ``LOSS`` and
``TRAINING`` as an export would and call the functions here directly. Below the stand-ins,
nothing may name this package: the exported script needs only torch and numpy.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from studio.training.losses import Objective, TargetMismatch
from studio.training.optim import optimizer_step, scheduled_lr, torch_optimizer

# Stand-ins for the graph's values; the export drops them and fills in the markers.
__NAME__ = "network"
__CLASS__ = nn.Identity
__INPUTS__ = [("x", "float")]
__LOSS__ = None
__TRAINING__ = {
    "optimizer": {"name": "adam", "lr": 0.001, "momentum": 0.0, "nesterov": False, "betas": (0.9, 0.999),
                  "eps": 1e-08, "alpha": 0.99},
    "schedule": {"name": "constant", "step_size": 10, "gamma": 0.1, "min_lr": 0.0, "warmup_epochs": 1.0,
                 "max_lr": None, "pct_start": 0.3, "div_factor": 25.0, "final_div_factor": 10000.0},
    "batch_size": 32,
    "epochs": 10,
    "weight_decay": 0.0,
    "l1": 0.0,
    "grad_clip": None,
    "seed": 0,
}
__WEIGHTS__ = "model.pt"


# ---- training ----------------------------------------------------------------

GRAPH_NAME = __NAME__  # the name of the graph this script was exported from
MODEL = __CLASS__
INPUTS = __INPUTS__  # (array name, dtype) per forward argument
LOSS = __LOSS__  # None: cross_entropy for integer targets, else mse
TRAINING = __TRAINING__


def lr_at(step, steps_per_epoch, epochs):
    """The learning rate at a step, as Studio's trainer schedules it."""
    return scheduled_lr(TRAINING["schedule"], TRAINING["optimizer"]["lr"], epochs, steps_per_epoch, step)


def make_optimizer(params):
    """The optimizer Studio's trainer makes, with the graph's settings."""
    return torch_optimizer(params, TRAINING["weight_decay"], **TRAINING["optimizer"])


def make_objective(loss_name, model, sample_inputs, y, path):
    """The trainer's loss for this model's output against ``y``; a mismatch ends the run, saying why."""
    with torch.no_grad():  # a small batch in eval mode, as the trainer sizes the output
        model.eval()
        sample = model(*sample_inputs)
        model.train()
    try:
        return Objective(loss_name, sample.shape, y, path)
    except TargetMismatch as exc:
        raise SystemExit(str(exc)) from None


def loss_fn(objective, out, y):
    """The batch's loss, and its sums for the epoch's figures: [loss times samples, right, counted]."""
    loss = objective.loss(out, y)
    if objective.has_accuracy:
        right, counted = objective.correct(out, y)
    else:
        right = counted = torch.zeros((), device=out.device)
    return loss, torch.stack([loss.detach().double() * len(y), right.double(), counted.double()])


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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", help=".npz file with the arrays listed above")
    parser.add_argument("--epochs", type=int, default=TRAINING["epochs"])
    parser.add_argument("--batch-size", type=int, default=TRAINING["batch_size"], help="global batch")
    parser.add_argument("--out", default=__WEIGHTS__, help="where rank 0 saves the trained state_dict")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument("--json", action="store_true", help="print one JSON object per epoch")
    args = parser.parse_args(argv)

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
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = make_optimizer(params)

    xs, y = load(args.data)
    val = load(args.data, "_val")
    loss_name = LOSS or ("mse" if y.is_floating_point() else "cross_entropy")
    if loss_name == "cross_entropy":
        y = y.long()
    objective = make_objective(loss_name, model, [x[:2].to(device) for x in xs], y, args.data)
    y = objective.prepare(y)
    if val is not None:
        val_y = val[1].long() if loss_name == "cross_entropy" else val[1]
        val = val[0], objective.prepare(val_y)
    n = len(y)
    per_rank = max(1, args.batch_size // world)
    steps = -(-(-(-n // world)) // per_rank)
    step = 0
    for epoch in range(1, args.epochs + 1):
        started = time.perf_counter()
        net.train()
        idx = shard(n, epoch, rank, world, TRAINING["seed"])
        totals = torch.zeros(3, dtype=torch.float64, device=device)  # loss sum, right, counted
        for i in range(0, len(idx), per_rank):
            batch = idx[i:i + per_rank]
            inputs = [x[batch].to(device) for x in xs]
            target = y[batch].to(device)
            for group in optimizer.param_groups:
                group["lr"] = lr_at(step, steps, args.epochs)
            loss, sums = loss_fn(objective, net(*inputs), target)
            optimizer_step(optimizer, params, loss, TRAINING["l1"], TRAINING["grad_clip"])
            step += 1
            totals += sums
        if distributed:  # every rank's sums, so rank 0 reports the whole epoch
            all_reduce(totals)
        loss_sum, right, counted = totals.tolist()
        row = {"epoch": epoch, "loss": loss_sum / (len(idx) * world)}
        if objective.has_accuracy:
            row["accuracy"] = right / max(1.0, counted)
        if val is not None:
            row.update(evaluate(net, val, objective, rank, world, distributed, device))
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
def evaluate(net, val, objective, rank, world, distributed, device):
    xs, y = val
    net.eval()
    idx = torch.arange(rank, len(y), world)  # unpadded: every validation sample counted once
    totals = torch.zeros(3, dtype=torch.float64, device=device)
    for i in range(0, len(idx), 256):
        batch = idx[i:i + 256]
        totals += loss_fn(objective, net(*[x[batch].to(device) for x in xs]), y[batch].to(device))[1]
    if distributed:
        all_reduce(totals)
    loss_sum, right, counted = totals.tolist()
    out = {"val_loss": loss_sum / len(y)}
    if objective.has_accuracy:
        out["val_accuracy"] = right / max(1.0, counted)
    return out


if __name__ == "__main__":
    main()
