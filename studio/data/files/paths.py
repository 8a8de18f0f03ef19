"""Finding the user's file: relative to the graph file's folder, named as they wrote it."""

from __future__ import annotations

from pathlib import Path

from ..errors import DataError
from ..options import place


def resolve(path: str, base_dir: Path, want_dir: bool = False) -> tuple[Path, str]:
    """The absolute path and the name to show in messages (as written in the spec)."""
    if not path:
        raise DataError("needs the path of the data (relative to the graph file's folder)", place("path"))
    full = Path(path).expanduser()
    if not full.is_absolute():
        full = base_dir / full
    if want_dir:
        if not full.is_dir():
            raise DataError(f"no folder {path!r} (looked for {full})", place("path"))
    elif not full.is_file():
        raise DataError(f"no file {path!r} (looked for {full})", place("path"))
    return full, path
