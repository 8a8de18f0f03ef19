"""Reading a data set's options: declared like block parameters, checked the same way.

Each data set declares its options as ``blocks.Param`` records (type, default,
range or choices, doc), so the UI can draw an editor for them exactly as it does
for block parameters. Every bad value becomes a ``DataError`` naming the option
by its place in the graph file (``training.dataset.<option>``).
"""

from __future__ import annotations

from typing import Any, Mapping

from blocks import Param, ParamError

from .errors import DataError

PLACE = "training.dataset"

# Options every data set with a random validation split takes.
SPLIT = (
    Param("val_fraction", "float", 0.2, "share of the samples held out for validation", min=0.0, max=0.9),
    Param("seed", "int", 0, "seed of the generator and of the train/validation split", min=0),
)
STANDARDIZE = Param(
    "standardize", "choice", "none",
    "scale the inputs with statistics of the training part only: zscore (mean 0, std 1) or minmax (to [0, 1])",
    choices=("none", "zscore", "minmax"),
)
# Image augmentation, applied per batch by Dataset.augment.
AUGMENT = (
    Param("augment_flip", "bool", False, "flip each training image left-right with probability 1/2"),
    Param("augment_shift", "int", 0, "shift each training image by up to this many pixels (zero fill)", min=0, max=16),
    Param("augment_noise", "float", 0.0, "add Gaussian noise of this standard deviation to training inputs",
          min=0.0, max=10.0),
)


def with_defaults(params: tuple[Param, ...], **defaults: Any) -> tuple[Param, ...]:
    """The same declarations with some defaults changed (xor holds out nothing by default)."""
    out = []
    for p in params:
        if p.name in defaults:
            p = Param(p.name, p.kind, defaults[p.name], p.doc, p.min, p.max, p.choices, p.length, p.optional)
        out.append(p)
    return tuple(out)


def read_options(name: str, declared: tuple[Param, ...], spec: Mapping[str, Any]) -> dict[str, Any]:
    """All options of ``spec`` (minus ``name``), defaults filled in, each checked."""
    known = {p.name for p in declared}
    for key in spec:
        if key == "name":
            continue
        if key not in known:
            listing = ", ".join(sorted(known)) or "none"
            raise DataError(f"the data set {name!r} has no option {key!r} (it has: {listing})", f"{PLACE}.{key}")
    values: dict[str, Any] = {}
    for p in declared:
        try:
            values[p.name] = p.coerce(spec.get(p.name, p.default))
        except ParamError as exc:
            raise DataError(exc.message, f"{PLACE}.{p.name}") from None
    return values


def place(option: str) -> str:
    return f"{PLACE}.{option}"
