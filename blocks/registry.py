"""The registry of block types, keyed by a stable name, with aliases for renamed ones."""

from __future__ import annotations

from .spec import BlockSpec

_BLOCKS: dict[str, BlockSpec] = {}
_ALIASES: dict[str, str] = {}

# Category order as the palette shows it.
CATEGORIES = (
    "Input & structure",
    "Dense",
    "Activation",
    "Convolution",
    "Sequence",
    "Graph",
)


class UnknownBlockError(KeyError):
    def __init__(self, name: str):
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        return f"unknown block {self.name!r}"


def register(spec: BlockSpec) -> BlockSpec:
    """Add a block; a name or alias that is already taken is refused."""
    for name in (spec.name, *spec.aliases):
        if name in _BLOCKS or name in _ALIASES:
            raise ValueError(f"block name {name!r} is already registered")
    if spec.category not in CATEGORIES:
        raise ValueError(f"block {spec.name}: unknown category {spec.category!r}")
    _BLOCKS[spec.name] = spec
    for alias in spec.aliases:
        _ALIASES[alias] = spec.name
    return spec


def get(name: str) -> BlockSpec:
    _load()
    spec = _BLOCKS.get(name) or _BLOCKS.get(_ALIASES.get(name, ""))
    if spec is None:
        raise UnknownBlockError(name)
    return spec


def exists(name: str) -> bool:
    _load()
    return name in _BLOCKS or name in _ALIASES


def all_blocks() -> list[BlockSpec]:
    """Every block, in palette order: by category, then as declared."""
    _load()
    order = {c: i for i, c in enumerate(CATEGORIES)}
    return sorted(_BLOCKS.values(), key=lambda s: order[s.category])


_loaded = False


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    from . import library  # noqa: F401  (registers every block on import)
