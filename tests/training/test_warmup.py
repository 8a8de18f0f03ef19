"""Warming torch up before the first run."""

from __future__ import annotations

import gc
import time

from studio.training import warmup


def test_warm_up_runs_once_and_can_freeze_the_heap():
    gc.unfreeze()
    warmup._done.clear()
    thread = warmup.warm_up_in_background(freeze=True)
    thread.join(60)
    try:
        assert warmup.warmed_up() and not thread.is_alive()
        assert gc.get_freeze_count() > 0  # start-up objects are out of the collector's way
        started = time.perf_counter()
        warmup.warm_up(freeze=True)  # a second call does nothing
        assert time.perf_counter() - started < 0.01
    finally:
        gc.unfreeze()
