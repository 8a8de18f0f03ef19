import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


import gc

import pytest


@pytest.fixture(autouse=True)
def _collect_like_the_app():
    # Once a run has started, the app collects garbage only from the window's thread, on a timer
    # (studio/ui/collector.py). Tests between event loops do the same, so cycles do not pile up.
    yield
    if not gc.isenabled():
        threshold, counts = gc.get_threshold(), gc.get_count()
        if counts[0] > threshold[0]:
            gc.collect(2 if counts[2] > threshold[2] else 1 if counts[1] > threshold[1] else 0)
