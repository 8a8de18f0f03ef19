"""Python identifiers for node ids: attribute names and value names.

Node ids are already identifiers, but some cannot stand where the compiled
code puts them: ``self.class`` is a syntax error, a submodule called
``training`` or ``forward`` would replace the module's own attribute, and a
value called ``input`` or ``self`` would shadow a builtin or the module. Such
ids get torch.fx's treatment: a ``_1``, ``_2``... suffix, chosen so that it
takes no other node's name.
"""

from __future__ import annotations

import builtins
import keyword
from typing import Iterable

# Names the generated code itself needs, beyond keywords and builtins.
_CODE_NAMES = {"self", "torch", "inf", "nan", "device", "NoneType", "operator", "getattr"}


def illegal_value_names() -> set[str]:
    names = set(keyword.kwlist) | set(dir(builtins)) | _CODE_NAMES
    try:  # whatever else this torch.fx refuses to print as a variable
        from torch.fx import graph as fx_graph

        names |= set(getattr(fx_graph, "_illegal_names", {}))
    except ImportError:  # pragma: no cover - torch is a hard dependency
        pass
    return names


def reserved_attributes(module_cls: type, *args, **kwargs) -> set[str]:
    """Every attribute an instance of ``module_cls`` has before any submodule is added."""
    instance = module_cls(*args, **kwargs)
    return set(dir(instance)) | set(vars(instance)) | set(keyword.kwlist)


class Namer:
    """Hands out unique identifiers, preferring each wanted name as it is.

    ``claim`` the names that are fine as they are first, so that a renamed
    clash (``training`` -> ``training_1``) never takes a name another node
    already owns.
    """

    def __init__(self, forbidden: Iterable[str]) -> None:
        self._forbidden = set(forbidden)
        self._used: set[str] = set()

    def is_free(self, name: str) -> bool:
        return name.isidentifier() and name not in self._forbidden and name not in self._used

    def claim(self, name: str) -> str:
        """``name`` itself if free, else the first free ``name_N``."""
        base = name if name.isidentifier() else "_" + "".join(c if c.isalnum() else "_" for c in name)
        candidate, n = base, 0
        while not self.is_free(candidate):
            n += 1
            candidate = f"{base}_{n}"
        self._used.add(candidate)
        return candidate

    def reserve(self, names: Iterable[str]) -> None:
        self._used.update(names)


def assign(wanted: list[str], forbidden: Iterable[str], taken: Iterable[str] = ()) -> dict[str, str]:
    """A unique identifier for each wanted name, in order; names that are fine keep themselves."""
    namer = Namer(forbidden)
    namer.reserve(taken)
    out: dict[str, str] = {}
    for name in wanted:  # the names that need no change go first, so renames avoid them
        if namer.is_free(name):
            out[name] = namer.claim(name)
    for name in wanted:
        if name not in out:
            out[name] = namer.claim(name)
    return {name: out[name] for name in wanted}
