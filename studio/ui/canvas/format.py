"""How numbers, shapes and parameter values read on the canvas."""

from __future__ import annotations

from typing import Any, Sequence


def shape_text(shape: Sequence[int] | None) -> str:
    if shape is None:
        return "?"
    return "[" + ", ".join(str(d) for d in shape) + "]"


def count_text(n: int | None) -> str:
    """1234 -> '1.2k', 11_689_512 -> '11.7M'."""
    if n is None:
        return ""
    for size, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if n >= size:
            value = n / size
            return f"{value:.1f}{unit}" if value < 100 else f"{value:.0f}{unit}"
    return str(n)


def value_text(value: Any) -> str:
    if value is None:
        return "auto"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (tuple, list)):
        return "×".join(str(v) for v in value) if value else "[]"
    return str(value)


# Short names on the node face, so four key parameters fit one line.
SHORT_NAMES = {
    "out_channels": "out", "out_features": "out", "kernel_size": "k", "stride": "s", "padding": "p",
    "dilation": "d", "scale_factor": "×", "output_size": "size", "num_inputs": "n",
    "negative_slope": "slope",
}


def key_params_text(params: dict, names: Sequence[str]) -> str:
    parts = []
    for name in names:
        short = SHORT_NAMES.get(name, name)
        sep = "" if short == "×" else " "
        parts.append(f"{short}{sep}{value_text(params.get(name))}")
    return "  ".join(parts)
