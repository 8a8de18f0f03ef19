"""Tracing the user's module with torch.fx, and saying which line could not be traced.

torch.nn's own modules stay whole (fx's default), and so do the block
library's modules (``LSTMLayer``, ``SelfAttention``...), whether imported from
``blocks.library.modules`` or copied into an exported file with the same
source: each is one block.
"""

from __future__ import annotations

import functools
import inspect
import linecache
import operator
import os
import traceback
from dataclasses import dataclass, field
from typing import Any, Sequence

import torch
from torch import fx, nn

from .errors import BadArgument, ImportRefused

# frames in torch or in this package are not the user's line
_OWN_FILES = (os.path.dirname(torch.__file__) + os.sep, os.path.dirname(__file__) + os.sep)


@functools.cache
def _library_sources() -> dict[str, str]:
    from blocks.library import modules

    out = {}
    for name, value in vars(modules).items():
        if inspect.isclass(value) and issubclass(value, nn.Module) and value.__module__ == modules.__name__:
            out[name] = inspect.getsource(value)
    return out


@functools.cache
def _class_kind(cls: type) -> str | None:
    from blocks.library import modules

    sources = _library_sources()
    for klass in cls.__mro__:
        if klass.__module__ == modules.__name__ and klass.__name__ in sources:
            return klass.__name__
    source = sources.get(cls.__name__)
    if source is None:
        return None
    try:
        own = inspect.getsource(cls)
    except (OSError, TypeError):  # defined where there is no source to compare (an exec'd string)
        return None
    return cls.__name__ if own == source else None


def library_kind(module: nn.Module) -> str | None:
    """The block library's class ``module`` is (or an exported copy of, source for source), or None."""
    return _class_kind(type(module))


def _forward_owner(cls: type) -> type:
    for klass in cls.__mro__:
        if "forward" in vars(klass):
            return klass
    return cls


class _Proxy(fx.Proxy):
    """fx's Proxy records ``out += x`` as ``out = out + x``, losing that ``out`` was changed under
    every name it has; these record the in-place operator, which ``inplace`` resolves."""

    def _inplace(self, op, other):
        # named as the operator's plain form, so that `out += x` still becomes node "add"
        return self.tracer.create_proxy("call_function", op, (self, other), {}, name=op.__name__[1:])

    def __iadd__(self, other):
        return self._inplace(operator.iadd, other)

    def __isub__(self, other):
        return self._inplace(operator.isub, other)

    def __imul__(self, other):
        return self._inplace(operator.imul, other)

    def __ifloordiv__(self, other):
        return self._inplace(operator.ifloordiv, other)


@dataclass
class UnitCall:
    """One call of a submodule that is not a leaf (a user's block): the fx nodes its forward made, and
    the forward's argument name of each fx node passed in."""

    path: str
    cls: type
    nodes: list[str]
    arguments: dict[str, str] = field(default_factory=dict)  # fx node name -> argument name


class Tracer(fx.Tracer):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.unit_calls: list[UnitCall] = []  # in the order the calls return (inner ones first)
        self.call_counts: dict[str, int] = {}  # module path -> calls (of submodules that are not leaves)

    def proxy(self, node: fx.Node) -> fx.Proxy:
        return _Proxy(node, self)

    def call_module(self, m: nn.Module, forward, args, kwargs):
        try:
            path = self.path_of_module(m)
        except NameError:  # a module that is no attribute of the model: traced as fx does
            return super().call_module(m, forward, args, kwargs)
        if self.is_leaf_module(m, path):
            return super().call_module(m, forward, args, kwargs)
        self.call_counts[path] = self.call_counts.get(path, 0) + 1
        before = len(self.graph.nodes)
        arguments: dict[str, str] = {}
        try:
            bound = inspect.signature(m.forward).bind(*args, **kwargs)
            for name, value in bound.arguments.items():
                if isinstance(value, fx.Proxy):
                    arguments.setdefault(value.node.name, name)
        except (TypeError, ValueError):
            pass
        out = super().call_module(m, forward, args, kwargs)
        made = [n.name for i, n in enumerate(self.graph.nodes) if i >= before]
        self.unit_calls.append(UnitCall(path, type(m), made, arguments))
        return out

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        if library_kind(m) is not None or super().is_leaf_module(m, module_qualified_name):
            return True
        # a subclass of a torch layer that keeps its forward (class MyConv(nn.Conv2d) with an extra
        # attribute) computes what the layer does: it is that layer
        from .modules import DESCRIBE

        owner = _forward_owner(type(m))
        return owner.__module__.startswith("torch.nn") and owner.__name__ in DESCRIBE


def trace(model: nn.Module, input_names: Sequence[str] | None, count: int, class_name: str) -> fx.GraphModule:
    """The model traced; arguments past the ``count`` given shapes take their defaults."""
    params = list(inspect.signature(model.forward).parameters.values())
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
        raise ImportRefused(f"{class_name}.forward takes *args or **kwargs; name each input as an argument")
    if count > len(params):
        raise BadArgument(f"--input-shape given {count} times, but {class_name}.forward takes "
                          f"{len(params)} input(s): {', '.join(p.name for p in params) or 'none'}")
    concrete: dict[str, Any] = {}
    for p in params[count:]:
        if p.default is p.empty:
            raise BadArgument(f"--input-shape given {count} time(s), but {class_name}.forward also needs "
                              f"{p.name!r} (one --input-shape per input, in order: "
                              f"{', '.join(q.name for q in params)})")
        concrete[p.name] = p.default
    tracer = Tracer()
    try:
        graph = tracer.trace(model, concrete_args=concrete or None)
    except Exception as exc:
        raise ImportRefused(_untraceable(exc, class_name)) from None
    gm = fx.GraphModule(tracer.root, graph, class_name)
    gm.meta["unit_calls"] = tracer.unit_calls
    gm.meta["call_counts"] = tracer.call_counts
    return gm


def _untraceable(exc: BaseException, class_name: str) -> str:
    where = _user_line(exc)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    # fx's message about iterating also speaks of control flow: it is looked for first
    if "iterated" in text or "iterate" in text:
        why = ("a loop (or a * unpacking) runs over a tensor or over its x.size(), which tracing does not "
               "know: loop over a Python range or a ModuleList, and flatten with torch.flatten(x, 1) or "
               "x.view(x.size(0), -1)")
    elif "control flow" in text or "bool" in text:
        why = ("a Python if, while or assert reads a tensor (its values, or its size or x.dim()), which "
               "tracing does not know: compute both branches and pick with torch.where, or decide in __init__")
    elif "slice indices" in text or "__index__" in text:
        why = ("a size read from the input (x.size(1), x.shape[1]) is used as a number (to slice a buffer, to "
               "make a tensor), which tracing does not know; for a sinusoidal position table use Studio's "
               "PositionalEncoding (from blocks.library.modules import PositionalEncoding), which is a block")
    elif "len(" in text or "'len'" in text or "len" in text.split():
        why = "len() of a tensor, which tracing does not know; use x.size(0) for the batch (or the size you know)"
    else:
        why = f"{type(exc).__name__}: {text}"
    head = f"{class_name}.forward cannot be traced"
    return f"{where}: {head}: {why}" if where else f"{head}: {why}"


def _user_line(exc: BaseException) -> str | None:
    """``file:line: `code``` of the last frame in the user's code (not torch's, not ours)."""
    found = None
    for frame in traceback.extract_tb(exc.__traceback__):
        name = frame.filename
        if name.startswith(_OWN_FILES) or name.startswith("<"):
            continue
        found = frame
    if found is None:
        return None
    code = (found.line or linecache.getline(found.filename, found.lineno)).strip()
    return f"{found.filename}:{found.lineno}: `{code}`" if code else f"{found.filename}:{found.lineno}"
