"""How hard property tests try: `make test` runs a quick pass, `make fuzz` a long one.

Use ``@settings(max_examples=examples(40), ...)``: STUDIO_FUZZ=k multiplies every count by k.
"""

from __future__ import annotations

import os


def examples(n: int) -> int:
    """``n`` examples in an ordinary run; ``n * STUDIO_FUZZ`` under `make fuzz`."""
    try:
        factor = max(1, int(os.environ.get("STUDIO_FUZZ", "1")))
    except ValueError:
        factor = 1
    return n * factor
