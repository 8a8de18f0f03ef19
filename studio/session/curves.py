"""A run's curves as data: every step's loss and its smoothing, the learning rate, and the
per-epoch losses and accuracies, with where overfitting began.

The x axis is in epochs (a step at 2.5 is halfway through the third), so per-step and per-epoch
series share one axis. ``add`` takes a batch of the trainer's events in a few array operations.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

from studio.training.events import EpochEvent, StepsEvent

from .buffer import GrowingBuffer
from .decimate import PeakSeries
from .overfitting import ema, overfit_epoch

SMOOTHING = 0.95


class LossCurves:
    def __init__(self) -> None:
        # Per-step series: all the data; a view draws a peak-preserving summary of a few thousand points.
        self.steps = PeakSeries()
        self.smooth = PeakSeries(cap=1024)  # a smooth curve needs fewer points than a spiky one
        self.lrs = PeakSeries(cap=1024)
        self.train_loss = GrowingBuffer(64)
        self.val_loss = GrowingBuffer(64)
        self.train_acc = GrowingBuffer(64)
        self.val_acc = GrowingBuffer(64)
        self._ema_state = (0.0, 0)
        self.overfit_at: int | None = None

    def clear(self) -> None:
        for b in (self.steps, self.smooth, self.lrs, self.train_loss, self.val_loss, self.train_acc, self.val_acc):
            b.clear()
        self._ema_state = (0.0, 0)
        self.overfit_at = None

    def add(self, events: Iterable[object]) -> tuple[bool, bool]:
        """Take what the curves hold from a batch of events; (steps added, epochs added)."""
        steps = [ev for ev in events if isinstance(ev, StepsEvent)]
        epochs = [ev for ev in events if isinstance(ev, EpochEvent)]
        if steps:
            self._add_steps(steps)
        for ev in epochs:
            self._add_epoch(ev)
        if epochs:
            n = min(len(self.train_loss), len(self.val_loss))
            self.overfit_at = overfit_epoch(list(self.train_loss.y[:n]), list(self.val_loss.y[:n])) if n else None
        return bool(steps), bool(epochs)

    @property
    def steps_seen(self) -> int:
        return len(self.steps)

    def _add_steps(self, events: list[StepsEvent]) -> None:
        losses, lrs, lr_keep = [], [], []
        counts = np.empty(len(events), dtype=np.int64)
        firsts = np.empty(len(events), dtype=np.float64)
        spes = np.empty(len(events), dtype=np.float64)
        for i, ev in enumerate(events):
            n = counts[i] = len(ev.losses)
            firsts[i] = ev.first_step + 1
            spes[i] = max(1, ev.steps_per_epoch)
            losses.extend(ev.losses)
            m = min(n, len(ev.lrs))
            lrs.extend(ev.lrs[:m])
            lr_keep.append((n, m))
        # Step i of a report is at (first_step + 1 + i) / steps_per_epoch epochs.
        starts = np.repeat(np.cumsum(counts) - counts, counts)
        x = (np.repeat(firsts, counts) + np.arange(counts.sum()) - starts) / np.repeat(spes, counts)
        y = np.asarray(losses, dtype=np.float64)
        finite = np.isfinite(y)
        y[~finite] = np.nan  # a gap in the line; infinities would wreck the axis
        self.steps.extend(x, y)
        smooth, self._ema_state = ema(y[finite].tolist(), SMOOTHING, self._ema_state)
        self.smooth.extend(x[finite], smooth)
        if lrs:
            keep = np.concatenate([np.arange(n) < m for n, m in lr_keep])  # reports may carry fewer rates
            self.lrs.extend(x[keep], lrs)

    def _add_epoch(self, ev: EpochEvent) -> None:
        x = float(ev.epoch)
        self.train_loss.append(x, ev.train_loss)
        if ev.val_loss is not None:
            self.val_loss.append(x, ev.val_loss)
        if ev.train_acc is not None:
            self.train_acc.append(x, ev.train_acc)
        if ev.val_acc is not None:
            self.val_acc.append(x, ev.val_acc)
        if not self.steps_seen:
            self.lrs.append(x, ev.lr)

    def summary(self) -> str:
        """The last epoch in words, and where overfitting began; empty before the first epoch."""
        if not len(self.train_loss):
            return ""
        epoch = int(self.train_loss.x[-1])
        parts = [f"Epoch {epoch}: train loss {self.train_loss.y[-1]:.4f}"]
        if len(self.val_loss):
            gap = self.val_loss.y[-1] - self.train_loss.y[-1]
            parts.append(f"validation {self.val_loss.y[-1]:.4f} (gap {gap:+.4f})")
        if len(self.train_acc):
            parts.append(f"train accuracy {self.train_acc.y[-1]:.1%}")
        if len(self.val_acc):
            parts.append(f"validation accuracy {self.val_acc.y[-1]:.1%}")
        text = ", ".join(parts) + "."
        if self.overfit_at is not None:
            text += (f" Overfitting: validation loss was best at epoch {self.overfit_at} and has risen since,"
                     " while training loss keeps falling.")
        return text

    EPOCH_CURVES = ("train_loss", "val_loss", "train_acc", "val_acc")

    def __getitem__(self, name: str) -> tuple[list[float], list[float]]:
        """A per-epoch curve by name (``EPOCH_CURVES``), as (epochs, values)."""
        if name not in self.EPOCH_CURVES:
            raise KeyError(name)
        buf = getattr(self, name)
        return buf.x.tolist(), buf.y.tolist()

    def get(self, name: str, default: tuple[list[float], list[float]] = ([], [])) -> tuple[list[float], list[float]]:
        return self[name] if name in self.EPOCH_CURVES else default
