"""A graph file's reach: the folder it lives in, plus what the user has granted.

A graph file may come from a stranger. The paths it names (its data, its
checkpoints) resolve inside the graph's folder; an absolute path, a `~`, a
`..` that climbs out, or a link that points out is refused unless the user
granted that place (`studio train --allow-outside PATH`, or a confirmation in
the app). Links are followed before the check, so a link inside the folder
that points at `/etc` is outside too.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


class OutsideFolder(ValueError):
    """A path a graph file names lies outside the graph's folder and was not granted."""

    def __init__(self, written: str, resolved: Path, folder: Path, place: str = ""):
        self.written = written
        self.resolved = resolved
        self.folder = folder
        self.place = place
        super().__init__(
            f"{written!r} is outside the graph's folder ({folder}); a graph file reaches only its own folder. "
            f"If you trust it, allow it with --allow-outside {_shell_word(str(resolved))} "
            "(in the app: confirm when asked)")


@dataclass(frozen=True)
class Reach:
    """Where a graph file's paths may point: ``folder`` and everything under it,
    plus each granted path (a file, or a folder and everything under it)."""

    folder: Path
    granted: tuple[Path, ...] = field(default=())

    @classmethod
    def of(cls, base: "Reach | str | os.PathLike | None", granted: tuple | list = ()) -> "Reach":
        """``base`` as a Reach (a plain folder reaches only itself; None is the working folder)."""
        if isinstance(base, Reach):
            return base.grant(*granted) if granted else base
        folder = Path(base) if base is not None else Path.cwd()
        return cls(_real(folder), tuple(_real(Path(g).expanduser()) for g in granted))

    def grant(self, *paths: "str | os.PathLike") -> "Reach":
        """A reach that also takes ``paths``."""
        extra = tuple(_real(Path(p).expanduser()) for p in paths)
        return Reach(self.folder, self.granted + tuple(p for p in extra if p not in self.granted))

    def full(self, written: "str | os.PathLike") -> Path:
        """Where ``written`` points, links followed (relative paths from the folder)."""
        p = Path(os.fspath(written)).expanduser()
        if not p.is_absolute():
            p = self.folder / p
        return _real(p)

    def allows(self, full: Path) -> bool:
        full = _real(full)
        return any(_within(full, root) for root in (self.folder, *self.granted))

    def resolve(self, written: "str | os.PathLike", place: str = "") -> Path:
        """The real path ``written`` names, or ``OutsideFolder`` if the graph may not reach it."""
        full = self.full(written)
        if not self.allows(full):
            raise OutsideFolder(os.fspath(written), full, self.folder, place)
        return full


def _real(p: Path) -> Path:
    # realpath resolves links in the part that exists and keeps the rest as written (normalised).
    return Path(os.path.realpath(p))


def _within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _shell_word(text: str) -> str:
    safe = all(c.isalnum() or c in "/._-+,:@%" for c in text)
    return text if safe and text else "'" + text.replace("'", "'\"'\"'") + "'"
