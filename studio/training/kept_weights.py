"""Copies of the networks' weights a run can fall back on: those after its last good
epoch (a step that fails puts them back, so a failed run keeps usable weights) and,
for early stopping, those of its best epoch.

The copies are made once and refreshed in place each epoch (one ``_foreach_copy_``
for all tensors): a state dict cloned per epoch allocated every tensor again, which
cost a small network 1-2 % of its run.
"""

from __future__ import annotations

from typing import Mapping

import torch
from torch import nn


class _Copy:
    """One copy of every network's state (parameters and buffers), refreshed in place."""

    def __init__(self, networks: Mapping[str, nn.Module]):
        self.keys = {name: list(net.state_dict().keys()) for name, net in networks.items()}
        self.tensors = [v.detach().clone() for net in networks.values() for v in net.state_dict().values()]

    def take(self, sources: list[torch.Tensor]) -> None:
        if self.tensors:
            torch._foreach_copy_(self.tensors, sources)

    def state(self, name: str, start: int) -> dict[str, torch.Tensor]:
        keys = self.keys[name]
        return dict(zip(keys, self.tensors[start:start + len(keys)]))


class KeptWeights:
    """The weights of ``networks`` as they are now, after ``epoch`` epochs."""

    def __init__(self, networks: Mapping[str, nn.Module], epoch: int):
        self.networks = networks
        # the live tensors (aliases of the parameters and buffers, which training changes in place)
        self.sources = [v.detach() for net in networks.values() for v in net.state_dict().values()]
        self.good = _Copy(networks)
        self.good_epoch = epoch
        self.best: _Copy | None = None

    def epoch_done(self, epoch: int, keep_as_best: bool) -> None:
        """``epoch`` ended well; ``keep_as_best``: it is the best so far, and the best is kept."""
        self.good.take(self.sources)
        self.good_epoch = epoch
        if keep_as_best:
            if self.best is None:
                self.best = _Copy(self.networks)
            else:
                self.best.take(self.sources)

    def restore_good(self) -> None:
        self._restore(self.good)

    def restore_best(self) -> bool:
        """Put the best epoch's weights back, where they were kept; whether they were."""
        if self.best is None:
            return False
        self._restore(self.best)
        return True

    def _restore(self, kept: _Copy) -> None:
        start = 0
        for name, net in self.networks.items():
            net.load_state_dict(kept.state(name, start))
            start += len(kept.keys[name])

    def message(self) -> str:
        return kept_message(self.good_epoch)


def kept_message(epoch: int) -> str:
    """Which weights a failed run leaves (those after ``epoch`` epochs), as its message says it."""
    if epoch == 0:
        return "The weights from before training were kept."
    return f"The weights of epoch {epoch} were kept."
