"""In-place operations as the values they leave behind.

torch.fx records ``out += identity``, ``F.relu(h, inplace=True)``,
``nn.ReLU(inplace=True)(h)`` and ``h.relu_()`` as calls that return a new
value, but in torch the tensor they change is changed under every name that
holds it: a shortcut kept before ``relu(inplace=True)`` holds the ReLU's
result. Blocks never share memory, so every later read of the changed tensor,
under any of its names, is rewired to read the call's result. A change made
through a view (``x.view(...)``, ``x[...]``) that another shape of the same
memory is read after is refused: no block gives that.
"""

from __future__ import annotations

import inspect
import itertools
import operator
from typing import Any

from torch import fx, nn

from .errors import ImportRefused

_INPLACE_OPERATORS = {operator.iadd, operator.isub, operator.imul, operator.itruediv, operator.imatmul,
                      operator.ipow, operator.ifloordiv, operator.imod, operator.iand, operator.ior, operator.ixor,
                      operator.ilshift, operator.irshift}
# calls whose result is the input tensor itself (evaluation mode): the same values under another name
_SAME_METHODS = {"contiguous"}
_SAME_MODULES = (nn.Identity, nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout)
# calls whose result shares the input's memory in another shape
_VIEW_METHODS = {"view", "view_as", "reshape", "reshape_as", "flatten", "transpose", "permute", "squeeze",
                 "unsqueeze", "t", "narrow", "expand", "expand_as", "unflatten", "chunk", "split", "unbind",
                 "select", "swapaxes", "swapdims", "movedim", "diagonal", "as_strided", "__getitem__"}
_SIZE_METHODS = {"size", "dim", "numel", "ndimension", "nelement"}


def resolve_inplace(gm: fx.GraphModule) -> None:
    """Rewire, in ``gm``'s graph, each read after an in-place change to the call that made it."""
    order = {n: i for i, n in enumerate(gm.graph.nodes)}
    memory: dict[fx.Node, int] = {}  # node -> the memory it holds (shared by aliases and views)
    values: dict[fx.Node, int] = {}  # node -> the values it holds (shared by aliases only)
    ids = itertools.count()
    pieces: dict[int, tuple[fx.Node, Any]] = {}  # values -> (the chunk/split call, which piece): disjoint
    sizes: set[fx.Node] = set()
    for node in list(gm.graph.nodes):
        if _is_size(node, sizes):
            sizes.add(node)
            continue
        changed = _changed(gm, node)
        if isinstance(changed, fx.Node) and changed not in sizes:
            mem = memory.setdefault(changed, next(ids))
            val = values.setdefault(changed, next(ids))
            later = order[node]
            for other in [n for n, m in memory.items() if m == mem and n is not node]:
                readers = [u for u in other.users if order.get(u, -1) > later]
                if not readers:
                    continue
                if values.get(other) != val:
                    mine, theirs = pieces.get(val), pieces.get(values.get(other, -1))
                    if mine and theirs and mine[0] is theirs[0] and mine[1] != theirs[1]:
                        continue  # another piece of the same chunk or split: other memory
                    raise ImportRefused(
                        f"node {node.name!r}: {_what(gm, node)} changes {changed.name} in place, and "
                        f"{readers[0].name} reads {other.name}, another shape of the same memory, afterwards; "
                        "blocks never share memory: make the change out of place (x = x + y, inplace=False)")
                for reader in readers:
                    reader.replace_input_with(other, node)
            memory[node], values[node] = mem, val
            continue
        source = _shares(gm, node)
        if source is not None:
            base, same = source
            mem = memory.setdefault(base, next(ids))
            memory[node] = mem
            values[node] = values.setdefault(base, next(ids)) if same else next(ids)
            if node.target is operator.getitem and _splits(base):
                pieces[values[node]] = (base, node.args[1])


def _splits(node: fx.Node) -> bool:
    """Whether ``node`` cuts a tensor into pieces that hold disjoint memory."""
    name = node.target if node.op == "call_method" else getattr(node.target, "__name__", "")
    return node.op in ("call_method", "call_function") and name in ("chunk", "split", "unbind", "tensor_split")


def _changed(gm: fx.GraphModule, node: fx.Node) -> Any:
    """The argument ``node`` changes in place, or None."""
    first = node.args[0] if node.args else next(iter(node.kwargs.values()), None)
    if node.op == "call_method":
        name = str(node.target)
        return first if name.endswith("_") and not name.startswith("_") else None
    if node.op == "call_module":
        return first if getattr(gm.get_submodule(str(node.target)), "inplace", False) is True else None
    if node.op != "call_function":
        return None
    if node.target in _INPLACE_OPERATORS:
        return first
    name = getattr(node.target, "__name__", "")
    if name.endswith("_") and not name.startswith("_"):  # torch.relu_, F.leaky_relu_
        return first
    return first if _inplace_flag(node) else None


def _inplace_flag(node: fx.Node) -> bool:
    if node.kwargs.get("inplace") is True:
        return True
    try:
        bound = inspect.signature(node.target).bind(*node.args, **node.kwargs)
    except (TypeError, ValueError):  # a builtin without a signature, or a call it would refuse
        return False
    return bound.arguments.get("inplace") is True


def _shares(gm: fx.GraphModule, node: fx.Node) -> tuple[fx.Node, bool] | None:
    """(the node whose memory ``node`` holds, whether with the same values), or None."""
    first = node.args[0] if node.args else None
    if not isinstance(first, fx.Node):
        return None
    if node.op == "call_method":
        if node.target in _SAME_METHODS:
            return first, True
        return (first, False) if node.target in _VIEW_METHODS else None
    if node.op == "call_module":
        module = gm.get_submodule(str(node.target))
        if isinstance(module, _SAME_MODULES):
            return first, True
        return (first, False) if isinstance(module, (nn.Flatten, nn.Unflatten)) else None
    if node.op == "call_function":
        name = getattr(node.target, "__name__", "")
        if name == "dropout" or name == "dropout2d":
            return first, True
        if node.target is operator.getitem and (first.op == "call_module" or (
                first.target is operator.getitem and first.args and getattr(first.args[0], "op", "") == "call_module")):
            return None  # an item of a layer's (output, state) tuple: a tensor of its own
        if node.target is operator.getitem or name in _VIEW_METHODS:
            return first, False
    return None


def _is_size(node: fx.Node, sizes: set[fx.Node]) -> bool:
    """Whether ``node`` is a size (``x.size(1)``, ``x.shape[0] * 2``): a Python number, never changed in place."""
    if node.op == "call_method" and node.target in _SIZE_METHODS:
        return True
    if node.op == "call_function" and node.target is getattr and len(node.args) > 1 and node.args[1] in (
            "shape", "ndim"):
        return True
    if node.op == "call_function" and getattr(node.target, "__module__", None) in ("_operator", "operator"):
        inputs = [a for a in node.all_input_nodes]
        return bool(inputs) and inputs[0] in sizes
    return False


def _what(gm: fx.GraphModule, node: fx.Node) -> str:
    if node.op == "call_module":
        return f"module {node.target} ({type(gm.get_submodule(str(node.target))).__name__})"
    if node.op == "call_method":
        return f"Tensor.{node.target}"
    return getattr(node.target, "__name__", str(node.target))
