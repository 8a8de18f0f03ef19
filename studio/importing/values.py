"""What an fx value stands for while the forward becomes blocks.

A tensor is a block's output port (``Port``). Some values are not tensors a
block gives but become one by how the forward uses them: a recurrent layer's
sequence (``Seq``: its last step makes the block's ``output`` "last") and its
final states (``States``). The batch size read for a view (``BATCH``), sizes
known from the shapes (plain ints) and tuples of these (``Items``) carry no
block at all; ``Opaque`` is what no block gives (attention weights, a cell
state), refused where it is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, eq=False)
class Port:
    node: str
    port: str = "out"


@dataclass(frozen=True, eq=False)
class Seq:
    node: str  # a recurrent block, its ``output`` still to be decided by the use


@dataclass(frozen=True, eq=False)
class States:
    node: str  # h_n of a recurrent block: per layer and direction


@dataclass(frozen=True, eq=False)
class HalfState:
    node: str  # h_n[-2] or h_n[-1] of a bidirectional block: joined in that order, its "last" output
    forward: bool


@dataclass(frozen=True, eq=False)
class Opaque:
    what: str


@dataclass(frozen=True, eq=False)
class Items:
    items: tuple[Any, ...]


class _Batch:
    def __repr__(self) -> str:
        return "the batch size"


BATCH = _Batch()


def describe(value: Any) -> str:
    """How a message names a value that is not a tensor."""
    if value is BATCH:
        return "the batch size (only view or reshape may read it)"
    if isinstance(value, Opaque):
        return value.what
    if isinstance(value, States):
        return f"the final states of {value.node} (only their last layer's, h[-1], has a block)"
    if isinstance(value, HalfState):
        return (f"one direction's final state of {value.node} (torch.cat((h[-2], h[-1]), dim=1) of the two "
                "has a block)")
    if isinstance(value, Items):
        return "a tuple"
    if isinstance(value, (dict, list, tuple)) and _holds_tensors(value):
        return f"a {'dict' if isinstance(value, dict) else 'list' if isinstance(value, list) else 'tuple'} of tensors"
    return f"the constant {value!r}"


def _holds_tensors(value: Any) -> bool:
    items = value.values() if isinstance(value, dict) else value
    return any(isinstance(v, (Port, Seq, States, HalfState, Opaque)) or (
        isinstance(v, (dict, list, tuple)) and _holds_tensors(v)) for v in items)
