"""Export files written as one unit, so a failed export changes nothing.

Each file is written to a temporary file beside its target; only when every
one has been written are they renamed over their targets. Whatever goes wrong
(a full disk, a target that is a folder, Ctrl+C), the targets keep their old
content and no temporary file is left behind.
"""

from __future__ import annotations

import errno
import os
import secrets
from pathlib import Path
from typing import Callable, Mapping

Writer = Callable[[Path], None]


def temporary_path(target: Path) -> Path:
    """A new hidden name beside ``target``, ending in its suffix (``torch.export.save`` wants ``.pt2``)."""
    # a short stem keeps the name within the file system's limit whatever the target's length
    return target.with_name(f".{target.stem[:40]}.{secrets.token_hex(4)}.tmp{target.suffix[:16]}")


def write_files(writers: Mapping[Path, Writer]) -> list[Path]:
    """Call each writer with a temporary path beside its target, then rename all; returns the targets.

    Raises what a writer or the file system raised, with every target as it was."""
    for target in writers:
        # a rename over a folder fails; found now, before any target has been replaced
        if target.is_dir():
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(target))
    temps: dict[Path, Path] = {}
    try:
        for target, write in writers.items():
            tmp = temporary_path(target)
            # created first with the mode a plain open() of the target would give (umask honoured)
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666))
            temps[target] = tmp
            try:
                write(tmp)
            except RuntimeError as exc:  # torch reports a file it could not write as a RuntimeError
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise OSError(errno.EIO, reason, str(target)) from exc
            if target.exists():
                os.chmod(tmp, target.stat().st_mode & 0o7777)
        for target, tmp in temps.items():
            os.replace(tmp, target)
    except BaseException:
        for tmp in temps.values():
            try:
                os.unlink(tmp)
            except OSError:
                pass
        raise
    return list(writers)

