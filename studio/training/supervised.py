"""Supervised training: classification, regression and sequence tasks
(per-position token classes, per-step forecasts).

The data set sits on the device whole; each epoch draws a permutation and a
batch is an index slice of it, so a step is gather, forward, loss, backward,
optimizer step, and nothing else.

Training accuracy is counted from the steps' own outputs: each step keeps its
outputs (a reference, no op), or where an epoch's outputs would take more than
``KEEP_OUTPUTS_BYTES`` writes its predictions (one ``argmax``) into a buffer on
the device; the epoch's end compares them with the targets in the epoch's order
and reads the count back with the validation figures. It is the accuracy of the
epoch as it trained (training mode, the weights of each moment), as Keras and
Lightning report it, and costs no extra forward pass.
"""

from __future__ import annotations

import torch
from torch import nn

from .config import TrainingConfig
from .events import ProbeEvent
from .losses import IGNORE, Objective
from .model import input_nodes, output_nodes
from .monitor import TRAINING_LOSS, VALIDATION_LOSS
from .probes import (activation_stats, attention_maps, boundary, embedding_points, function_curve, function_range,
                     grad_norms, grid_range, record_outputs, set_mode, two_values)
from .recipe import (Evaluation, Recipe, ReportCounter, Update, autocast, batch_bounds, image_layout, in_layout,
                     permutation, place)

EVAL_BATCH = 4096
# an epoch's outputs kept for its training accuracy, at most (above it, one argmax per step)
KEEP_OUTPUTS_BYTES = 64 * 2**20


class TrainingDataError(ValueError):
    pass


def ordered_inputs(model: nn.Module, dataset, graph) -> list[int]:
    """Positions of the data set's inputs in the order the network takes them
    (matched as ``studio.data.match_inputs`` matches them: by name, then in order)."""
    from studio.data import match_inputs

    pairs = dict(match_inputs(dataset, graph))
    position = {d.name: i for i, d in enumerate(dataset.inputs)}
    wanted = input_nodes(model)
    missing = [n for n in wanted if n not in pairs]
    if missing or len(wanted) != len(dataset.inputs):
        names = ", ".join(d.name for d in dataset.inputs)
        raise TrainingDataError(f"the network takes {len(wanted)} input(s) ({', '.join(wanted)}), "
                                f"the data set gives {len(dataset.inputs)} ({names})")
    return [position[pairs[n].name] for n in wanted]


def fits_on_device(nbytes: int, device: torch.device) -> bool:
    """Whether the data may live on the device whole: always on the CPU (and MPS,
    whose memory is the host's); on CUDA when it takes at most half the free memory."""
    if device.type != "cuda":
        return True
    free, _ = torch.cuda.mem_get_info(device)
    return nbytes <= free // 2


def _nbytes(*splits) -> int:
    total = 0
    for split in splits:
        if split is None:
            continue
        for t in (*split.inputs, split.targets):
            if t is not None:
                total += t.numel() * t.element_size()
    return total


def output_label(model: nn.Module) -> str:
    outs = output_nodes(model)
    return ".".join(outs[0]) if len(outs) == 1 else "output"


def target_units(dataset, task: str) -> tuple[float, float] | None:
    """(shift, scale) back to the targets' own units, where the data set scaled them with the
    inputs (a forecast's later values of one series); None where targets were left as they were."""
    scaler = getattr(dataset, "scaler", None)
    if task != "sequence" or scaler is None or scaler.shift.numel() != 1:
        return None
    return float(scaler.shift.reshape(())), float(scaler.scale.reshape(()))


def check_single_output(model: nn.Module) -> None:
    outs = output_nodes(model)
    if len(outs) > 1:
        names = ", ".join(f"{n}.{p}" for n, p in outs)
        raise TrainingDataError(f"the network has {len(outs)} unconnected outputs ({names}); "
                                "supervised training needs exactly one")


class Supervised(Recipe):
    def __init__(self, model: nn.Module, dataset, graph, cfg: TrainingConfig, device: torch.device, task: str):
        check_single_output(model)
        self.cfg = cfg
        self.device = device
        self.model = model.to(device)
        self.networks = {"model": self.model}
        order = ordered_inputs(model, dataset, graph)
        train, val = dataset.train, dataset.val
        if train.targets is None:
            raise TrainingDataError(f"data set {dataset.name!r} has no targets to learn from")
        # data that fits lives on the device whole; larger sets stay in host memory
        # and each batch is gathered there and copied over
        self.streaming = not fits_on_device(_nbytes(train, val), device)
        self.home = torch.device("cpu") if self.streaming else device
        self.x = tuple(place(train.inputs[i], self.home) for i in order)
        # images through convolutions on a GPU: channels-last, weights and data alike (data that
        # streams is laid out a batch at a time, on the device)
        self.layout = image_layout(self.model, self.x, device)
        if self.layout is not None:
            self.model.to(memory_format=self.layout)
            if not self.streaming:
                self.x = tuple(in_layout(t, self.layout) for t in self.x)
        self.n = len(train)
        self.amp = autocast(cfg, device)
        with torch.no_grad(), self.amp():
            self.model.eval()
            sample_out = self.model(*(self.fetch(t[:2]) for t in self.x))
            self.model.train()
        loss_name = cfg.resolved_loss(not train.targets.is_floating_point(), task)
        self.objective = Objective(loss_name, sample_out.shape, train.targets, output_label(model))
        self.y = place(self.objective.prepare(train.targets), self.home)
        self.val_x = self.val_y = None
        if val is not None and len(val) > 0 and val.targets is not None:
            self.val_x = tuple(place(val.inputs[i], self.home) for i in order)
            if not self.streaming:
                self.val_x = tuple(in_layout(t, self.layout) for t in self.val_x)
            self.val_y = place(self.objective.prepare(val.targets), self.home)
            if self.objective.name == "cross_entropy" and bool((self.val_y == IGNORE).any()):
                self.objective.has_ignored = True
        self.counter = None
        if self.val_y is not None:
            self.counter = ReportCounter(self.objective, self.val_y, dataset.class_names, target_units(dataset, task))
        self.bounds = batch_bounds(self.n, cfg.batch_size)
        self.steps_per_epoch = len(self.bounds)
        self.samples_per_epoch = self.bounds[-1][1]
        self.update = Update(self.model.parameters(), cfg, device)
        self.updates = [self.update]
        self.goal = VALIDATION_LOSS if self.val_x is not None else TRAINING_LOSS
        self.mixed = cfg.precision != "fp32" and device.type == "cuda"
        self.augment = dataset.augment if getattr(dataset, "augmentation", None) is not None else None
        self.outputs: list[torch.Tensor] | None = None  # this epoch's step outputs, detached
        self.predictions = None
        if self.objective.has_accuracy:
            per_epoch = self.samples_per_epoch * sample_out[0].numel() * sample_out.element_size()
            # an output that is a view into a larger tensor (the last step of a sequence) would keep
            # all of that alive: such outputs are counted a step at a time
            own = sample_out.untyped_storage().nbytes() <= sample_out.numel() * sample_out.element_size()
            if per_epoch <= KEEP_OUTPUTS_BYTES and own:
                self.outputs = []
            else:
                self.predictions = self._prediction_buffer(sample_out)
        self.val_count = self.objective.counted(self.val_y) if self.val_y is not None else 0
        probe_from = self.val_x if self.val_x is not None else self.x
        self.probe_x = tuple(self.fetch(t[: cfg.probes.batch]) for t in probe_from)
        self.probe_y = self.fetch((self.val_y if self.val_x is not None else self.y)[: cfg.probes.batch])
        self.box = None
        self.task = task
        self.vocab = getattr(dataset, "vocab", None)  # token texts for the attention and embedding probes
        if (task == "classification" and len(self.x) == 1 and self.x[0].dim() == 2
                and self.x[0].shape[1] == 2 and self.x[0].is_floating_point()):
            self.box = grid_range(self.x[0])
        self.span = None  # one number from one number: the network's function is drawn over this range
        if (task == "regression" and len(self.x) == 1 and tuple(self.x[0].shape[1:]) == (1,)
                and self.x[0].is_floating_point() and tuple(sample_out.shape[1:]) == (1,)):
            self.span = function_range(self.x[0])
        self.perm = None
        self.loss_fn = self.objective.plain_loss() or self.objective.loss
        self.plain = len(self.x) == 1 and self.augment is None and not self.mixed and not self.streaming

    def _prediction_buffer(self, sample_out: torch.Tensor) -> list[torch.Tensor]:
        """One view per step into a buffer of the epoch's predictions, on the device: a step writes
        its batch's with ``out=``, so counting costs one op a step and nothing is allocated."""
        obj = self.objective
        if obj.name == "cross_entropy":  # class ids, shaped like the targets
            shape, dtype = tuple(self.y.shape[1:]), torch.long
        else:  # bce_with_logits: out > 0, shaped like the outputs (and the targets laid out for them)
            shape, dtype = tuple(sample_out.shape[1:]), torch.bool
        self.predicted = torch.empty((self.samples_per_epoch, *shape), dtype=dtype, device=self.device)
        return [self.predicted[start:end] for start, end in self.bounds]

    def _predict_into(self, out: torch.Tensor, i: int) -> None:
        obj = self.objective
        if obj.name == "cross_entropy":
            torch.argmax(out.detach(), dim=obj.class_dim, out=self.predictions[i])
        else:
            torch.gt(out.detach(), 0, out=self.predictions[i])

    def _epoch_predictions(self) -> torch.Tensor | None:
        """The epoch's predictions, in its order: from the outputs its steps kept, or the buffer they wrote."""
        if self.outputs is None:
            return self.predicted if self.predictions is not None else None
        if len(self.outputs) != self.steps_per_epoch:
            return None
        out = torch.cat(self.outputs)
        self.outputs.clear()
        if self.objective.name == "cross_entropy":
            return out.argmax(dim=self.objective.class_dim)
        return out > 0

    def _train_right(self) -> tuple[torch.Tensor, torch.Tensor | int] | None:
        """The epoch's right predictions and how many counted (device tensors or a number), from the
        predictions of its steps; None where nothing was counted."""
        if self.perm is None:
            return None
        predicted = self._epoch_predictions()
        if predicted is None:
            return None
        obj = self.objective
        targets = self.fetch(self.y[self.perm[: self.samples_per_epoch]])
        if obj.name == "cross_entropy":
            hits = predicted == targets
            if obj.has_ignored:
                counted = targets != IGNORE
                return (hits & counted).sum(), counted.sum()
            return hits.sum(), targets.numel()
        return (predicted == (targets > 0.5)).sum(), targets.numel()

    def fetch(self, t: torch.Tensor) -> torch.Tensor:
        """A batch on the device: itself when the data lives there, else copied
        over from pinned host memory without waiting."""
        if not self.streaming:
            return t
        if self.device.type == "cuda":
            t = t.pin_memory()
        return in_layout(t.to(self.device, non_blocking=True), self.layout)

    # ---- training --------------------------------------------------------
    def begin_epoch(self, epoch: int) -> None:
        self.perm = permutation(self.n, self.cfg.seed, epoch, self.home)
        if self.outputs is not None:
            self.outputs.clear()

    def step(self, i: int) -> torch.Tensor:
        start, end = self.bounds[i]
        idx = self.perm[start:end]
        if self.plain:  # the common case, with nothing to decide per step
            out = self.model(self.x[0][idx])
            loss = self.loss_fn(out, self.y[idx])
            if self.outputs is not None:
                self.outputs.append(out.detach())
            elif self.predictions is not None:
                self._predict_into(out, i)
            self.update(loss)
            return loss.detach()
        xs = [self.fetch(t[idx]) for t in self.x]
        if self.augment is not None:
            xs[0] = self.augment(xs[0])
        if self.mixed:
            with self.amp():
                out = self.model(*xs)
                loss = self.objective.loss(out, self.fetch(self.y[idx]))
        else:
            out = self.model(*xs)
            loss = self.objective.loss(out, self.fetch(self.y[idx]))
        if self.outputs is not None:
            self.outputs.append(out.detach())
        elif self.predictions is not None:
            self._predict_into(out, i)
        self.update(loss)
        return loss.detach()

    # ---- measuring -------------------------------------------------------
    def evaluate(self) -> Evaluation:
        obj = self.objective
        counter = self.counter
        if self.val_x is not None:
            set_mode(self.model, False)
        parts: list[torch.Tensor] = []
        with torch.no_grad(), self.amp():
            train_right = self._train_right()
            train_count = None
            if train_right is not None:
                parts.append(train_right[0])
                if isinstance(train_right[1], torch.Tensor):
                    parts.append(train_right[1])
                else:
                    train_count = train_right[1]
            # a confusion matrix holds the right answers on its diagonal: one argmax serves both
            right_counted = obj.has_accuracy and not counter.has_matrix if counter is not None else False
            if self.val_x is not None:
                counter.begin()
                n = len(self.val_y)
                if n <= EVAL_BATCH and not self.streaming:
                    out = self.model(*self.val_x)
                    parts.append(obj.loss(out, self.val_y))
                    if right_counted:
                        parts.append(obj.right(out, self.val_y))
                    counter.add(out, self.val_y)
                else:
                    loss_sum = torch.zeros((), device=self.device)
                    right_sum = torch.zeros((), device=self.device)
                    for start in range(0, n, EVAL_BATCH):
                        xs = tuple(self.fetch(t[start:start + EVAL_BATCH]) for t in self.val_x)
                        ys = self.fetch(self.val_y[start:start + EVAL_BATCH])
                        out = self.model(*xs)
                        loss_sum += obj.loss(out, ys).float() * ys.shape[0]
                        if right_counted:
                            right_sum += obj.right(out, ys)
                        counter.add(out, ys, start)
                    parts.append(loss_sum / n)
                    if right_counted:
                        parts.append(right_sum)
                set_mode(self.model, True)
        if not parts:
            return Evaluation()
        # the report's counts come back in the same transfer as the loss and accuracy
        counted = counter.vector() if counter is not None and self.val_x is not None else None
        flat = [p.float().reshape(1) for p in parts]
        values = torch.cat(flat + [counted.float()] if counted is not None else flat).tolist()
        ev = Evaluation()
        if counted is not None:
            counts = values[len(parts):]
            ev.report = counter.report(counts)
        if train_right is not None:
            right = values.pop(0)
            count = values.pop(0) if train_count is None else train_count
            ev.train_acc = right / max(count, 1)
        if self.val_x is not None:
            ev.val_loss = values[0]
            if right_counted:
                ev.val_acc = values[1] / max(self.val_count, 1)
            elif obj.has_accuracy and counted is not None:
                c = counter.classes
                ev.val_acc = sum(counts[k * (c + 1)] for k in range(c)) / max(self.val_count, 1)
        return ev

    def probe(self, probes, step: int, epoch: int) -> ProbeEvent:
        set_mode(self.model, False)
        try:
            acts = {}
            if probes.activations:
                xs = tuple(t[: probes.batch] for t in self.probe_x)  # fewer at a cheaper level
                acts = activation_stats(record_outputs(self.model, xs), probes.bins)
            grads = grad_norms(self.networks) if probes.gradients else {}
            grid = None
            if probes.boundary and self.box is not None:
                grid = boundary(self.model, self.box, probes.grid, self.objective.name, self.device)
            samples = {}
            if probes.samples and self.task == "sequence":
                with torch.no_grad():
                    pred = self.objective.predict(self.model(*(t[:1] for t in self.probe_x)))
                samples = {"predicted": pred[0].float().cpu().numpy(),
                           "true": self.probe_y[0].float().cpu().numpy()}
            curve = None
            if probes.boundary and self.span is not None:  # 4 points per grid row: a smooth line
                curve = function_curve(self.model, self.span, 4 * probes.grid, self.device)
            attention = attention_maps(self.model, self.probe_x, self.vocab)
            embeddings = embedding_points(self.model, self.vocab)
        finally:
            set_mode(self.model, True)
        return ProbeEvent(step, epoch, acts, grads, grid, samples, attention=attention, embeddings=embeddings,
                          function=curve, point=two_values(self.model))
