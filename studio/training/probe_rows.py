"""Rows of the live views through groups.

A probe names a group node by its id (``layer2_0``: its output, the gradient norm over
every parameter inside it) and each of its inner nodes as ``layer2_0.conv1``, nested
groups to any depth (``stage.block.conv1``). A view shows a group as one row until it is
opened; an opened group's inner rows follow it. These helpers say which rows are groups
and which are shown for a set of opened groups.
"""

from __future__ import annotations

from typing import Callable, Iterable

GROUP_SEP = "."  # a group's inner node is named "group.inner" (as its weights are: layer2_0.conv1.weight)


def parents(row: str) -> list[str]:
    """The groups a row lies in, outermost first: ``a.b.c`` -> [``a``, ``a.b``]."""
    parts = row.split(GROUP_SEP)
    return [GROUP_SEP.join(parts[:i]) for i in range(1, len(parts))]


def groups_of(rows: Iterable[str]) -> set[str]:
    """The rows that are groups (some other row lies inside them)."""
    return {p for row in rows for p in parents(row)}


def depth(row: str) -> int:
    return row.count(GROUP_SEP)


def is_shown(row: str, is_open: Callable[[str], bool]) -> bool:
    """A row is shown when every group it lies in is open."""
    return all(is_open(p) for p in parents(row))


def shown_rows(rows: Iterable[str], is_open: Callable[[str], bool]) -> list[str]:
    """``rows`` in the order a person reads them: each group's inner rows right after it."""
    kept = [r for r in rows if is_shown(r, is_open)]
    first = {r: i for i, r in enumerate(kept)}

    def key(row: str) -> tuple:
        # a row sorts under its outermost group's place, then its own within that group
        chain = [*parents(row), row]
        return tuple(first.get(c, first[row]) for c in chain)

    return sorted(kept, key=key)
