"""The declaration every block in the library is made of.

A block is data: a name that mirrors ``torch.nn``, a category, a one-line doc,
its ports, its parameters, a shape rule and a constructor (the call that makes
its module). Shapes never include the batch dimension. Nothing here imports
torch, so the palette can list blocks without paying for it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

Shape = tuple[int, ...]


class ShapeError(ValueError):
    """A shape rule refused its inputs. ``port`` names the input at fault, if one is."""

    def __init__(self, message: str, port: str | None = None):
        # Rules may write "in: expected ..."; the port is kept apart so a
        # Problem can place it once.
        if port and message.startswith(f"{port}: "):
            message = message[len(port) + 2:]
        full = f"{port}: {message}" if port else message
        super().__init__(full)
        self.message = message
        self.port = port


class ParamError(ValueError):
    """A parameter value is out of its declared type, range or choices."""

    def __init__(self, message: str, param: str | None = None):
        super().__init__(message)
        self.message = message
        self.param = param


# Every whole number a block takes becomes a C integer (a size, a stride, a seed):
# anything outside int64 is refused here, with the parameter's name, instead of
# failing deep in torch.
INT_MIN = -(2**63)
INT_MAX = 2**63 - 1
# Real numbers become C doubles, and some scale a size and become integers: beyond
# 2^53 a double no longer holds every whole number, and no block has a use for more.
FLOAT_MAX = 2.0**53

_SURROGATE = re.compile("[\ud800-\udfff]")

# Parameter kinds. "ints" is a tuple of ints (or one int applied to every
# dimension, as torch allows); "shape" is a tuple of positive ints of any length.
PARAM_KINDS = ("int", "float", "bool", "choice", "ints", "shape", "str")


@dataclass(frozen=True)
class Param:
    name: str
    kind: str
    default: Any
    doc: str = ""
    min: float | None = None
    max: float | None = None
    choices: tuple[Any, ...] = ()
    length: int | None = None  # for "ints": how many values a tuple has
    max_count: int | None = None  # for "ints" of any length: at most this many values (each may make a port)
    optional: bool = False  # None is allowed (shown as "auto" / "none")

    def __post_init__(self) -> None:
        if self.kind not in PARAM_KINDS:
            raise ValueError(f"parameter {self.name}: unknown kind {self.kind!r}")

    def coerce(self, value: Any) -> Any:
        """Return ``value`` in canonical form or raise ``ParamError`` saying why."""
        name = self.name
        if value is None:
            if self.optional:
                return None
            raise ParamError(f"{name} must be set", name)
        kind = self.kind
        if kind == "bool":
            if isinstance(value, bool):
                return value
            raise ParamError(f"{name} must be true or false, got {_show(value)}", name)
        if kind == "int":
            value = _as_int(name, value)
            self._check_range(value)
            return value
        if kind == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ParamError(f"{name} must be a number, got {_show(value)}", name)
            given = value
            try:
                value = float(value)
            except OverflowError:  # an int beyond any double
                value = math.inf
            if value != value:
                raise ParamError(f"{name} must be a number, got NaN", name)
            if abs(value) > FLOAT_MAX:
                raise ParamError(f"{name} must be between -2^53 and 2^53 (about 9.0e15), got {_show(given)}", name)
            self._check_range(value)
            return value
        if kind == "choice":
            if value not in self.choices:
                options = ", ".join(repr(c) for c in self.choices)
                raise ParamError(f"{name} must be one of {options}, got {_show(value)}", name)
            return value
        if kind == "str":
            if not isinstance(value, str):
                raise ParamError(f"{name} must be text, got {_show(value)}", name)
            if _SURROGATE.search(value):
                # legal in JSON and in a str, but no file can store it
                raise ParamError(f"{name} holds a lone surrogate, which is not a character: {_show(value)}", name)
            return value
        if kind == "ints":
            if isinstance(value, (list, tuple)):
                values = tuple(_as_int(name, v) for v in value)
                if self.length is not None and len(values) != self.length:
                    raise ParamError(
                        f"{name} needs {self.length} values, got {len(values)}", name
                    )
                if not values:
                    raise ParamError(f"{name} needs at least one value, got none", name)
                if self.max_count is not None and len(values) > self.max_count:
                    raise ParamError(f"{name} takes at most {self.max_count} values, got {len(values)}", name)
            else:
                one = _as_int(name, value)
                values = (one,) * (self.length or 1)
            for v in values:
                self._check_range(v)
            if len(set(values)) == 1 and self.length is not None:
                return values[0]
            return values
        if kind == "shape":
            if not isinstance(value, (list, tuple)) or not value:
                raise ParamError(f"{name} must be a list of sizes, got {_show(value)}", name)
            values = tuple(_as_int(name, v) for v in value)
            for v in values:
                if v < 1 and v != -1:
                    raise ParamError(f"{name} sizes must be positive, got {_show(list(values))}", name)
            return values
        raise AssertionError(kind)

    def _check_range(self, value: float) -> None:
        if self.min is not None and value < self.min:
            raise ParamError(f"{self.name} must be >= {_fmt(self.min)}, got {_fmt(value)}", self.name)
        if self.max is not None and value > self.max:
            raise ParamError(f"{self.name} must be <= {_fmt(self.max)}, got {_fmt(value)}", self.name)

    def to_json(self, value: Any) -> Any:
        """A value as it is written to a graph file (tuples become lists)."""
        if isinstance(value, tuple):
            return list(value)
        return value


def _as_int(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise ParamError(f"{name} must be a whole number, got {_show(value)}", name)
    if isinstance(value, float) and value.is_integer():
        # 16.0 is read as 16; 1e308 is whole too, and refused below by its size
        number = int(value)
    elif isinstance(value, int):
        number = value
    else:
        raise ParamError(f"{name} must be a whole number, got {_show(value)}", name)
    if not INT_MIN <= number <= INT_MAX:
        raise ParamError(
            f"{name} must be a whole number between -2^63 and 2^63-1 (a 64-bit integer), got {_show(value)}", name)
    return number


def _show(value: Any) -> str:
    """A value as a message quotes it: repr (so control characters show escaped), cut short."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 100:
        # str() of a long enough int raises; its size is what matters here
        digits = int(value.bit_length() * math.log10(2)) + 1
        return f"a {'negative ' if value < 0 else ''}number of about {digits} digits"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(x)


@dataclass(frozen=True)
class Port:
    name: str
    doc: str = ""
    optional: bool = False


@dataclass(frozen=True, eq=False)
class Constructor:
    """A module as the call that makes it: ``cls(*args, **kwargs)``.

    The compiler calls ``make()``; the Python export writes the same call as
    source, so a compiled module and its exported code cannot disagree.
    ``shown`` names keyword arguments the source spells out even where they
    equal the constructor's default (``mode='nearest'`` says more than nothing).
    """

    cls: type
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    shown: tuple[str, ...] = ()

    def make(self) -> Any:
        return self.cls(*self.args, **self.kwargs)


InferFn = Callable[[Mapping[str, Shape], Mapping[str, Any]], Mapping[str, Shape]]
ConstructorFn = Callable[[Mapping[str, Shape], Mapping[str, Any]], Constructor]
CountFn = Callable[[Mapping[str, Shape], Mapping[str, Any]], "int | None"]
PortsFn = Callable[[Mapping[str, Any]], Sequence[Port]]


@dataclass(frozen=True)
class BlockSpec:
    """One layer type.

    ``infer(in_shapes, params) -> out_shapes`` raises ``ShapeError``.
    ``constructor(in_shapes, params)`` returns the ``Constructor`` of a
    ``torch.nn.Module`` whose forward takes the inputs in port order and
    returns one tensor per output port (a tuple when there are several);
    ``make`` builds that module.
    ``emit``, when set, marks a block with no weights of its own that compiles
    to plain calls instead of a submodule (``x + y``, ``torch.cat``):
    ``emit(fx_graph, args, in_shapes, params)`` adds fx nodes for the inputs
    ``args`` (in port order) and returns the output node (a tuple of nodes
    when there are several outputs).
    ``dtypes`` says what a block's inputs hold (see the field); the graph checks it as
    it wires, as it checks shapes.
    ``param_count(in_shapes, params)``, when set, is the number of learnable parameters of
    the module ``make`` builds, worked out without building it (so without torch); None
    where it cannot say, and then the module is built to count them. A test holds every
    declared count to the built module's.
    Blocks whose inputs depend on a parameter (Add with ``num_inputs``) give
    ``dynamic_inputs``; blocks whose outputs do (Split with ``sizes``) give
    ``dynamic_outputs``. Either may carry a ``shown`` attribute, how the block
    reference lists those ports ("`out1` ... `out<len(sizes)>`").
    """

    name: str
    category: str
    doc: str
    inputs: tuple[Port, ...]
    outputs: tuple[Port, ...]
    params: tuple[Param, ...]
    infer: InferFn
    constructor: ConstructorFn | None = None
    emit: Callable[..., Any] | None = None
    dynamic_inputs: PortsFn | None = None
    dynamic_outputs: PortsFn | None = None
    aliases: tuple[str, ...] = ()
    key_params: tuple[str, ...] = field(default=())  # shown on the node face
    is_input: bool = False
    # What its inputs hold: "float" values (most layers), "ids" (integer token ids, as Embedding
    # takes; it gives floats) or "any" (it moves values about and gives what it was given).
    dtypes: str = "float"
    param_count: CountFn | None = None

    def make(self, in_shapes: Mapping[str, Shape], params: Mapping[str, Any]) -> Any:
        """The block's module for these input shapes and parameters."""
        if self.constructor is None:
            raise TypeError(f"block {self.name} compiles to plain calls and has no module")
        return self.constructor(in_shapes, params).make()

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def input_ports(self, params: Mapping[str, Any]) -> tuple[Port, ...]:
        if self.dynamic_inputs is not None:
            return tuple(self.dynamic_inputs(params))
        return self.inputs

    def output_ports(self, params: Mapping[str, Any]) -> tuple[Port, ...]:
        if self.dynamic_outputs is not None:
            return tuple(self.dynamic_outputs(params))
        return self.outputs

    def coerce_params(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """All parameters, defaults filled in, each checked; raises ``ParamError``."""
        names = {p.name for p in self.params}
        for key in params:
            if key not in names:
                known = ", ".join(sorted(names)) or "none"
                raise ParamError(f"{self.name} has no parameter {_show(key)} (it has: {known})", key)
        out = {}
        for p in self.params:
            out[p.name] = p.coerce(params.get(p.name, p.default))
        return out
