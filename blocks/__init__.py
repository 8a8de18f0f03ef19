"""The block library: one declarative entry per layer type (see ``blocks.spec``)."""

from .registry import (
    Category, UnknownBlockError, all_blocks, categories, category, exists, get, register, register_category,
)
from .spec import BlockSpec, Constructor, Param, ParamError, Port, Shape, ShapeError

__all__ = [
    "BlockSpec", "Category", "Constructor", "Param", "ParamError", "Port", "Shape", "ShapeError",
    "UnknownBlockError", "all_blocks", "categories", "category", "exists", "get", "register",
    "register_category",
]
