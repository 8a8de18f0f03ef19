"""Counting how often a function is called, for tests that say a check runs once."""

from __future__ import annotations

from typing import Any


def counting(monkeypatch, **places: tuple[Any, str]) -> dict[str, int]:
    """Wrap each ``name=(owner, attribute)`` so that its calls are counted, under ``name``, in the
    returned dict; the real function still runs."""
    calls = dict.fromkeys(places, 0)
    for name, (owner, attribute) in places.items():
        real = getattr(owner, attribute)

        def counted(*args, _name=name, _real=real, **kwargs):
            calls[_name] += 1
            return _real(*args, **kwargs)

        monkeypatch.setattr(owner, attribute, counted)
    return calls
