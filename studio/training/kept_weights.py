"""Copies of the networks' weights a run can fall back on: those after its last good
epoch (a step that fails puts them back, so a failed run keeps usable weights) and,
for early stopping, those of its best epoch."""

from __future__ import annotations

from typing import Mapping

import torch
from torch import nn

State = dict[str, dict[str, torch.Tensor]]


def snapshot(networks: Mapping[str, nn.Module]) -> State:
    return {name: {k: v.detach().clone() for k, v in net.state_dict().items()} for name, net in networks.items()}


class KeptWeights:
    """The weights of ``networks`` as they are now, after ``epoch`` epochs."""

    def __init__(self, networks: Mapping[str, nn.Module], epoch: int):
        self.networks = networks
        self.good = snapshot(networks)
        self.good_epoch = epoch
        self.best: State | None = None

    def epoch_done(self, epoch: int, keep_as_best: bool) -> None:
        """``epoch`` ended well; ``keep_as_best``: it is the best so far, and the best is kept."""
        self.good, self.good_epoch = snapshot(self.networks), epoch
        if keep_as_best:
            self.best = self.good

    def restore_good(self) -> None:
        self._restore(self.good)

    def restore_best(self) -> bool:
        """Put the best epoch's weights back, where they were kept; whether they were."""
        if self.best is None:
            return False
        self._restore(self.best)
        return True

    def _restore(self, state: State) -> None:
        for name, net in self.networks.items():
            net.load_state_dict(state[name])

    def message(self) -> str:
        return kept_message(self.good_epoch)


def kept_message(epoch: int) -> str:
    """Which weights a failed run leaves (those after ``epoch`` epochs), as its message says it."""
    if epoch == 0:
        return "The weights from before training were kept."
    return f"The weights of epoch {epoch} were kept."
