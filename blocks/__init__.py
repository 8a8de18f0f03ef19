"""The block library: one declarative entry per layer type (see ``blocks.spec``)."""

from .registry import CATEGORIES, UnknownBlockError, all_blocks, exists, get, register
from .spec import BlockSpec, Param, ParamError, Port, Shape, ShapeError

__all__ = [
    "BlockSpec", "CATEGORIES", "Param", "ParamError", "Port", "Shape", "ShapeError",
    "UnknownBlockError", "all_blocks", "exists", "get", "register",
]
