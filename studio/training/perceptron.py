"""Rosenblatt's perceptron rule (1958), for a network that is one Linear layer with one output.

The output is a step, y_hat = [w.x + b > 0], so there is no gradient to follow. Instead,
sample by sample, the weights move towards a point the perceptron got wrong:

    w <- w + lr (y - y_hat) x,    b <- b + lr (y - y_hat)

A right answer (y = y_hat) changes nothing. On data one straight line separates (AND, OR)
it stops making mistakes after finitely many updates; on XOR it never does.

A graph selects it with ``training.optimizer.name: "perceptron"``. The rest of a run is the
supervised one: the data on the device, validation, accuracy, the decision-boundary probe.
The loss it reports is the share of samples misclassified (during the epoch, as each sample
was met; over the validation part at the epoch's end), and its training accuracy the share
met right: 1 minus that loss.
"""

from __future__ import annotations

from dataclasses import replace

import torch
from torch import nn

from .config import TrainingConfig
from .errors import TrainingSetupError
from .recipe import Evaluation
from .supervised import Supervised

HEADLINE = "the perceptron rule cannot train this graph"


def check_single_linear(graph) -> str:
    """The id of the one Linear(out_features=1) the graph is made of, or TrainingSetupError naming
    the node that keeps it from being a perceptron."""
    layers = [graph.node(n) for n in graph.topological_order() if not graph.node(n).spec.is_input]
    linears = [n for n in layers if n.block == "Linear"]
    others = [n for n in layers if n.block != "Linear"]
    if others or len(linears) != 1:
        extra = others[0] if others else (linears[1] if len(linears) > 1 else None)
        found = f"node {extra.id!r} ({extra.block}) is more than that" if extra else "the graph has no Linear node"
        raise TrainingSetupError([f"{extra.id if extra else 'graph'}: the perceptron rule trains one Linear layer "
                                  f"with one output, fed by the Input; {found}. Remove it, or choose another "
                                  "optimizer (training.optimizer.name)"], HEADLINE)
    linear = linears[0]
    out = linear.params.get("out_features")
    if out != 1:
        raise TrainingSetupError([f"{linear.id}: the perceptron rule needs one output, y_hat = [w.x + b > 0]; "
                                  f"{linear.id} has out_features {out}. Set out_features to 1"], HEADLINE)
    return linear.id


class PerceptronRule(Supervised):
    def __init__(self, model: nn.Module, dataset, graph, cfg: TrainingConfig, device: torch.device, task: str):
        linear_id = check_single_linear(graph)
        if task != "classification" or dataset.num_classes != 2:
            what = f"{dataset.num_classes} classes" if task == "classification" else f"a {task} task"
            raise TrainingSetupError([f"training.optimizer.name: the perceptron rule learns two classes (0 and 1); "
                                      f"the data set {dataset.name!r} gives {what}"], HEADLINE)
        # One output against 0/1 targets is read as a logit: accuracy and the boundary take out > 0 as
        # class 1, which is y_hat. The SGD below only holds the learning rate (the schedule sets it,
        # checkpoints keep it); the rule itself is applied in step().
        plain = replace(cfg, loss="bce_with_logits",
                        optimizer=replace(cfg.optimizer, name="sgd", momentum=0.0, nesterov=False))
        super().__init__(model, dataset, graph, plain, device, task)
        self.linear: nn.Linear = model.submodule_of(linear_id)
        self.predictions = None  # the rule counts its own mistakes, sample by sample
        self.mistakes = torch.zeros((), device=device)

    def begin_epoch(self, epoch: int) -> None:
        super().begin_epoch(epoch)
        self.mistakes = torch.zeros((), device=self.device)

    def step(self, i: int) -> torch.Tensor:
        start, end = self.bounds[i]
        idx = self.perm[start:end]
        x = self.fetch(self.x[0][idx]).reshape(end - start, -1)
        y = self.fetch(self.y[idx]).reshape(-1)
        lr = self.update.optimizer.param_groups[0]["lr"]
        mistakes = rule_pass(self.linear.weight, self.linear.bias, x, y, lr)
        self.mistakes += mistakes
        return mistakes / (end - start)

    def _train_right(self) -> tuple[torch.Tensor, int]:
        # the training accuracy is the share met right as the epoch went: 1 - the epoch's loss
        return self.samples_per_epoch - self.mistakes, self.samples_per_epoch

    def evaluate(self) -> Evaluation:
        ev = super().evaluate()
        if ev.val_acc is not None:  # the same measure as training's: the share misclassified
            ev.val_loss = 1.0 - ev.val_acc
        return ev


def rule_pass(weight: torch.Tensor, bias: torch.Tensor | None, x: torch.Tensor, y: torch.Tensor,
              lr: float) -> torch.Tensor:
    """The perceptron rule over the samples ``x`` [n, features] in order, in place on ``weight``
    [1, features] and ``bias`` [1]; returns the number of mistakes made (a device tensor)."""
    mistakes = torch.zeros((), device=x.device)
    w = weight[0]
    with torch.no_grad():
        for xi, yi in zip(x, y):
            z = w @ xi + (bias[0] if bias is not None else 0.0)
            error = yi - (z > 0).to(x.dtype)  # y - y_hat: +1, 0 or -1
            w.add_(xi * (lr * error))
            if bias is not None:
                bias.add_(lr * error)
            mistakes += error.abs()
    return mistakes
