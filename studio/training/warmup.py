"""Paying torch's one-time costs before the first run, off the UI thread.

The first optimizer a process builds makes torch import its compiler stack
(``torch._dynamo``, sympy and several hundred modules: about a second on a
small machine), and the first backward pass starts autograd's worker. Done
on the first Train press, that second is added to the run's start and, as
imports hold the interpreter lock in long stretches, it stalls the window
too. ``warm_up`` does the same work on a throwaway parameter; the app calls
it on a background thread once its window is up.
"""

from __future__ import annotations

import gc
import threading

import torch

_done = threading.Event()


def warm_up(freeze: bool = False) -> None:
    """Build an optimizer and run one step on a one-element parameter.

    ``freeze``: afterwards move every object alive into the collector's
    permanent generation, so its full collections (a few hundred ms in a
    process holding torch and Qt) no longer walk start-up objects that live
    until exit anyway.
    """
    if _done.is_set():
        return
    weight = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.Adam([weight], lr=0.1)
    (weight * 2.0).sum().backward()
    optimizer.step()
    if freeze:
        gc.collect()
        gc.freeze()
    _done.set()


def warmed_up() -> bool:
    return _done.is_set()


def warm_up_in_background(freeze: bool = False) -> threading.Thread:
    """``freeze`` collects on the background thread: only where no Qt objects can die there."""
    thread = threading.Thread(target=warm_up, kwargs={"freeze": freeze}, name="torch warm-up", daemon=True)
    thread.start()
    return thread
