"""Node classification: the whole graph is one sample, and masks choose which
nodes train and which validate. One step per epoch, on every node at once.

Training accuracy is counted from that step's own outputs (training mode, the
weights before its update), as the supervised recipe counts it; the epoch's end
runs the graph again only for the validation nodes' loss and accuracy."""

from __future__ import annotations

import torch
from torch import nn

from .config import TrainingConfig
from .events import ProbeEvent
from .losses import Objective
from .monitor import TRAINING_LOSS, VALIDATION_LOSS
from .probes import activation_stats, grad_norms, record_outputs, set_mode
from .recipe import Evaluation, Recipe, ReportCounter, Update, autocast, place
from .supervised import TrainingDataError, check_single_output, ordered_inputs, output_label


class NodeClassification(Recipe):
    def __init__(self, model: nn.Module, dataset, graph, cfg: TrainingConfig, device: torch.device):
        check_single_output(model)
        self.cfg = cfg
        self.device = device
        self.model = model.to(device)
        self.networks = {"model": self.model}
        train, val = dataset.train, dataset.val
        if train.targets is None or train.mask is None:
            raise TrainingDataError(f"data set {dataset.name!r} has no node labels and training mask")
        order = ordered_inputs(model, dataset, graph)
        self.inputs = tuple(place(train.inputs[i], device) for i in order)
        self.amp = autocast(cfg, device)
        with torch.no_grad(), self.amp():
            self.model.eval()
            out = self.model(*self.inputs)
            self.model.train()
        self.classes = out.shape[-1]
        labels = train.targets.reshape(-1)
        loss_name = cfg.resolved_loss(True, "node_classification")
        self.objective = Objective(loss_name, torch.Size((labels.shape[0], self.classes)), labels,
                                   output_label(model))
        self.y = place(self.objective.prepare(labels), device)
        self.train_idx = place(train.mask.reshape(-1).nonzero().squeeze(1), device)
        self.val_idx = None
        if val is not None and val.mask is not None and bool(val.mask.any()):
            self.val_idx = place(val.mask.reshape(-1).nonzero().squeeze(1), device)
            self.counter = ReportCounter(self.objective, self.y[self.val_idx], dataset.class_names)
        self.steps_per_epoch = 1
        self.samples_per_epoch = int(self.train_idx.numel())
        self.update = Update(self.model.parameters(), cfg, device)
        self.goal = VALIDATION_LOSS if self.val_idx is not None else TRAINING_LOSS
        self.updates = [self.update]
        self.train_right: tuple[torch.Tensor, torch.Tensor] | None = None  # of the latest step

    def _logits(self) -> torch.Tensor:
        return self.model(*self.inputs).reshape(-1, self.classes)

    def begin_epoch(self, epoch: int) -> None:
        pass  # every step sees every node: nothing to shuffle

    def step(self, i: int) -> torch.Tensor:
        with self.amp():
            logits = self._logits()
            loss = self.objective.loss(logits[self.train_idx], self.y[self.train_idx])
        self.train_right = self.objective.correct(logits.detach()[self.train_idx], self.y[self.train_idx])
        self.update(loss)
        return loss.detach()

    def evaluate(self) -> Evaluation:
        obj = self.objective
        parts = list(self.train_right) if self.train_right is not None else []
        trained = len(parts)
        if self.val_idx is not None:
            set_mode(self.model, False)
            with torch.no_grad(), self.amp():
                logits = self._logits().float()
                parts.append(obj.loss(logits[self.val_idx], self.y[self.val_idx]))
                parts += list(obj.correct(logits[self.val_idx], self.y[self.val_idx]))
                self.counter.begin()
                self.counter.add(logits[self.val_idx], self.y[self.val_idx])  # the validation nodes only
            set_mode(self.model, True)
        if not parts:
            return Evaluation()
        values = torch.stack([p.float() for p in parts])
        if self.val_idx is not None and self.counter.vector() is not None:  # read back in the same transfer
            values = torch.cat((values, self.counter.vector()))
        values = values.tolist()
        ev = Evaluation()
        if trained:
            ev.train_acc = values[0] / max(values[1], 1.0)
        if self.val_idx is not None and self.counter.vector() is not None:
            ev.report = self.counter.report(values[len(parts):])
        if self.val_idx is not None:
            ev.val_loss = values[trained]
            ev.val_acc = values[trained + 1] / max(values[trained + 2], 1.0)
        return ev

    def probe(self, probes, step: int, epoch: int) -> ProbeEvent:
        self.model.eval()
        try:
            acts = activation_stats(record_outputs(self.model, self.inputs), probes.bins) if probes.activations else {}
            grads = grad_norms(self.networks) if probes.gradients else {}
        finally:
            self.model.train()
        return ProbeEvent(step, epoch, acts, grads)
