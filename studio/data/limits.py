"""How much a data set may take, checked before anything large is allocated.

A graph file may come from a stranger: a 109 kB PNG that decodes to 900
million pixels, a CSV whose id column would be one-hot encoded into 30,000
features, options asking for billions of samples. Each is refused with a
message naming the place and the numbers, before the memory is taken.
"""

from __future__ import annotations

import os

from .errors import DataError

# A text column becomes one feature per distinct value: more than this is an id or free text.
MAX_ONE_HOT_VALUES = 1000
# Pixels of one image, as Pillow's own default limit (Image.MAX_IMAGE_PIXELS): larger is refused.
MAX_IMAGE_PIXELS = 89_478_485
# The data a set holds may take at most this share of the memory that is free when it loads:
# loading briefly holds a second copy (the training and validation parts).
MEMORY_SHARE = 0.5
# Memory a CSV cell takes while the table is read (a Python string and its slot in a column).
CSV_CELL_BYTES = 80
# A text file is read whole: at most this many bytes.
MAX_TEXT_BYTES = 256 * 2**20
# When the free memory cannot be told, assume this much.
ASSUMED_FREE = 4 * 2**30


def available_memory() -> int:
    """Bytes of memory free for new allocations (MemAvailable on Linux)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return ASSUMED_FREE


def memory_budget() -> int:
    """Bytes one data set may take."""
    return int(available_memory() * MEMORY_SHARE)


def size_text(nbytes: float) -> str:
    """Bytes for people: 1.2 GB, 340 MB, 12 kB."""
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if nbytes >= scale:
            return f"{nbytes / scale:.1f} {unit}"
    return f"{int(nbytes)} bytes"


def check_memory(nbytes: int, what: str, place: str, hint: str = "") -> None:
    """Refuse ``what`` (e.g. "50 images x 3 x 4096 x 4096 x 4 bytes") needing ``nbytes`` beyond the budget."""
    budget = memory_budget()
    if nbytes > budget:
        raise DataError(
            f"{what} = {size_text(nbytes)} in memory, more than a data set may take "
            f"({size_text(budget)}: {int(MEMORY_SHARE * 100)}% of the {size_text(available_memory())} free)"
            + (f"; {hint}" if hint else ""), place)
