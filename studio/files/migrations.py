"""File versions and the steps that bring an older file up to date.

``MIGRATIONS[n]`` turns a version-``n`` document (plain JSON data) into a
version ``n + 1`` one. Loading applies the steps in turn, so a file written by
any earlier studio opens in this one. Renamed block types need no step: the
block registry maps their old names through ``aliases``.
"""

from __future__ import annotations

import copy
from typing import Any, Callable, Mapping

from .errors import GraphFileError

FORMAT = "studio-graph"
VERSION = 2  # the version this studio writes

Document = dict[str, Any]
Migration = Callable[[Document], Document]

def _v1_to_v2(doc: Document) -> Document:
    # Version 2 carries group definitions; a version 1 file has none.
    out = {}
    for key, value in doc.items():
        out[key] = value
        if key == "description":
            out["definitions"] = []
    out.setdefault("definitions", [])
    return out


MIGRATIONS: dict[int, Migration] = {1: _v1_to_v2}


def migrate(
    doc: Document,
    version: int,
    source: str,
    *,
    migrations: Mapping[int, Migration] | None = None,
    current: int | None = None,
) -> Document:
    """``doc`` (of ``version``) brought up to ``current`` (default: ``VERSION``) by the
    steps in ``migrations`` (default: ``MIGRATIONS``); the caller's copy is left alone."""
    migrations = MIGRATIONS if migrations is None else migrations
    current = VERSION if current is None else current
    if version == current:
        return doc
    doc = copy.deepcopy(doc)
    for v in range(version, current):
        step = migrations.get(v)
        if step is None:
            raise GraphFileError(source, "version", f"no way to upgrade a version {v} file to version {v + 1}")
        try:
            doc = step(doc)
        except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
            # Old files are as open-ended as new ones; a step that trips must not crash the app.
            raise GraphFileError(
                source, None, f"cannot upgrade this version {v} file to version {v + 1}: {exc!r}"
            ) from exc
        doc["version"] = v + 1
    return doc
