"""Finding the user's file: inside the graph file's reach, named as they wrote it.

A graph file may come from a stranger, so a data path reaches only the graph's
folder and what the user granted (``studio.files.reach``): ``/etc/passwd``,
``~/x``, ``../..`` and links that point out are refused with
``DataOutsideFolder``. Only regular files are read: a FIFO would block the
reader forever and a device (``/dev/zero``) never ends.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from studio.files.reach import OutsideFolder, Reach

from ..errors import DataError, DataOutsideFolder
from ..options import place

_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder"))


def kind_of(mode: int) -> str:
    """What a file that is not a regular file is, for messages."""
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def reach_of(base: "Reach | str | os.PathLike | None") -> Reach:
    """A data set's base as a Reach: a plain folder reaches itself with nothing granted."""
    try:
        return Reach.of(base)
    except (ValueError, OSError) as exc:
        raise DataError(f"the graph's folder {base!r} cannot be used ({exc})") from None


def resolve(path: str, base: "Reach | str | os.PathLike | None", want_dir: bool = False) -> tuple[Path, str]:
    """The real path (links followed, inside the reach) and the name to show in messages (as written)."""
    if not path:
        raise DataError("needs the path of the data (relative to the graph file's folder)", place("path"))
    reach = reach_of(base)
    try:
        full = reach.resolve(path, place("path"))
    except OutsideFolder as exc:
        raise DataOutsideFolder(exc) from None
    except ValueError as exc:  # a NUL character
        raise DataError(f"{path!r} is not a usable path ({exc})", place("path")) from None
    try:
        mode = os.stat(full).st_mode
    except (FileNotFoundError, NotADirectoryError):
        raise DataError(f"no {'folder' if want_dir else 'file'} {path!r} (looked for {full})", place("path")) from None
    except OSError as exc:
        raise DataError(f"cannot read {path!r} ({exc.strerror or exc})", place("path")) from None
    if want_dir:
        if not stat.S_ISDIR(mode):
            raise DataError(f"{path!r} is {kind_of(mode) if not stat.S_ISREG(mode) else 'a file'}, not a folder "
                            f"(looked for {full})", place("path"))
    elif not stat.S_ISREG(mode):
        raise DataError(f"{path!r} is {kind_of(mode)}, not a regular file; data is read only from regular files "
                        f"(looked for {full})", place("path"))
    return full, path


def open_regular(full: "str | os.PathLike", shown: str) -> tuple[BinaryIO, int]:
    """``full`` opened for reading, with its size, if it is a regular file.

    Opened without blocking and checked on the open file, so a FIFO put in
    place after ``resolve`` looked is refused rather than waited on.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(full, flags)
    except OSError as exc:
        raise DataError(f"cannot open the file ({exc.strerror or exc})", shown) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise DataError(f"the file is {kind_of(info.st_mode)}, not a regular file; "
                            "data is read only from regular files", shown)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb"), info.st_size

