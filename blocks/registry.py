"""The registry of block types, keyed by a stable name, with aliases for renamed ones,
and of the categories the palette groups them in."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .spec import BlockSpec

_BLOCKS: dict[str, BlockSpec] = {}
_ALIASES: dict[str, str] = {}
_CATEGORIES: dict[str, Category] = {}

_HEX_COLOR = re.compile(r"#[0-9a-fA-F]{6}")


@dataclass(frozen=True)
class Category:
    """A palette group: its name, the accent colour of its nodes ("#rrggbb") and its
    icon, a file name in assets/icons. Plain data, so the library stays free of Qt."""

    name: str
    color: str
    icon: str

    def __post_init__(self) -> None:
        if not _HEX_COLOR.fullmatch(self.color):
            raise ValueError(f"category {self.name}: color must be #rrggbb, got {self.color!r}")


class UnknownBlockError(KeyError):
    def __init__(self, name: str):
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        return f"unknown block {self.name!r}"


def register_category(category: Category) -> Category:
    """Add a category; the palette shows categories in the order they are registered."""
    if category.name in _CATEGORIES:
        raise ValueError(f"category {category.name!r} is already registered")
    _CATEGORIES[category.name] = category
    return category


def register(spec: BlockSpec) -> BlockSpec:
    """Add a block; a name or alias that is already taken is refused."""
    for name in (spec.name, *spec.aliases):
        if name in _BLOCKS or name in _ALIASES:
            raise ValueError(f"block name {name!r} is already registered")
    if spec.category not in _CATEGORIES:
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
    order = {c: i for i, c in enumerate(_CATEGORIES)}
    return sorted(_BLOCKS.values(), key=lambda s: order[s.category])


def categories() -> list[Category]:
    """Every category, in palette order."""
    _load()
    return list(_CATEGORIES.values())


def category(name: str) -> Category | None:
    """The category called ``name``, or None when there is none."""
    _load()
    return _CATEGORIES.get(name)


_loaded = False


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    from . import library  # noqa: F401  (registers every category and block on import)
