"""The peak summary a long per-step curve is drawn from."""

from __future__ import annotations

import numpy as np
import pytest

from studio.session.decimate import PeakSeries


def test_short_series_are_drawn_as_they_are():
    s = PeakSeries(cap=16)
    s.extend(np.arange(10.0), np.arange(10.0) ** 2)
    x, y = s.display()
    assert x.tolist() == list(range(10)) and y.tolist() == [i * i for i in range(10)]


def test_long_series_keep_every_bucket_peak_within_the_cap():
    rng = np.random.default_rng(1)
    s = PeakSeries(cap=64)
    ys = rng.normal(size=10_000)
    ys[4321] = 50.0  # one spike: it must be drawn however far the view is zoomed out
    ys[777] = -40.0
    for start in range(0, 10_000, 37):  # fed in uneven pieces, as the trainer reports
        stop = min(start + 37, 10_000)
        s.extend(np.arange(start, stop, dtype=float), ys[start:stop])
        x, y = s.display()
        assert len(x) <= 64 + s.bucket
        assert np.all(np.diff(x) > 0)  # still a function of x, in order
    x, y = s.display()
    assert y.max() == 50.0 and x[y.argmax()] == 4321.0
    assert y.min() == -40.0 and x[y.argmin()] == 777.0
    assert x[-1] == 9999.0 and len(s) == 10_000 and s.y[4321] == 50.0  # the full data is kept too
    # Each bucket's summary is its own min and max.
    k = s.bucket
    whole = 10_000 // k
    buckets = ys[: whole * k].reshape(-1, k)
    summary = y[: 2 * whole].reshape(-1, 2)
    assert np.array_equal(summary.min(axis=1), buckets.min(axis=1))
    assert np.array_equal(summary.max(axis=1), buckets.max(axis=1))


def test_gaps_stay_gaps_and_clear_starts_over():
    s = PeakSeries(cap=8)
    ys = np.ones(40)
    ys[16:32] = np.nan  # a whole bucket of non-finite losses: drawn as a gap, never as a value
    ys[20] = np.nan
    s.extend(np.arange(40.0), ys)
    x, y = s.display()
    assert np.isnan(y).any() and np.nanmax(y) == 1.0
    s.clear()
    assert len(s) == 0 and s.bucket == 1 and s.display()[0].size == 0
    with pytest.raises(ValueError, match="cap"):
        PeakSeries(cap=2)
