"""A first run that learns: the training settings a data set suggests.

A new graph's settings are the library's defaults (Adam at lr 0.001, 10
epochs, batches of 32), which suit no toy set in particular: XOR's four points
are one step per epoch, and ten steps at that rate leave a learner at 50%.
When a data set is chosen on a graph whose settings a person never touched,
the data set's suggested settings (its catalogue entry's ``suggested``) come
with it, in the same undoable edit. Settings a person chose are never
replaced.
"""

from __future__ import annotations

import copy
from typing import Any, Mapping

from studio.data.catalog import info


def suggested(name: str | None) -> dict[str, Any]:
    """The settings data set ``name`` suggests ({} for none, or an unknown name)."""
    if not name:
        return {}
    try:
        return copy.deepcopy(dict(info(name).suggested))
    except Exception:  # an unknown name suggests nothing; loading it reports the problem
        return {}


def untouched(training: Mapping[str, Any]) -> bool:
    """Whether the settings are the defaults, or what the chosen data set suggested: none a person chose."""
    settings = {k: v for k, v in training.items() if k != "dataset"}
    dataset = training.get("dataset")
    name = dataset.get("name") if isinstance(dataset, Mapping) else None
    return not settings or settings == suggested(name)


def with_dataset(training: Mapping[str, Any], spec: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
    """``training`` with data set ``spec``, and the data set's suggested settings where the
    settings were untouched. Returns the new settings and whether suggestions were applied."""
    new = copy.deepcopy(dict(training))
    if untouched(training):
        new = {k: v for k, v in new.items() if k == "dataset"}
        new.update(suggested(spec.get("name")))
        applied = bool(suggested(spec.get("name")))
    else:
        applied = False
    new["dataset"] = copy.deepcopy(dict(spec))
    return new, applied


def describe(settings: Mapping[str, Any]) -> str:
    """The suggested settings in words, e.g. 'adam, lr 0.05, batch 4, 100 epochs'."""
    parts = []
    opt = settings.get("optimizer") or {}
    if opt.get("name"):
        parts.append(str(opt["name"]))
    if "lr" in opt:
        parts.append(f"lr {opt['lr']:g}")
    if "batch_size" in settings:
        parts.append(f"batch {settings['batch_size']}")
    if "epochs" in settings:
        parts.append(f"{settings['epochs']} epochs")
    if settings.get("weight_decay"):
        parts.append(f"weight decay {settings['weight_decay']:g}")
    return ", ".join(parts)
