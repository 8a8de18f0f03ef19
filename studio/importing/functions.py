"""Plain calls in the forward (``F.relu``, ``+``, ``torch.cat``, ``x.view``...) as blocks.

``handle(builder, node)`` gives the value an fx ``call_function`` or
``call_method`` node stands for, adding its block; a call with no block is
refused naming the node, what it calls and the module it is called in. Dims
are written as torch counts them (the batch is 0); a call that would mix the
batch into a sample is refused.
"""

from __future__ import annotations

import math
import operator
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import fx

from .values import BATCH, HalfState, Items, Opaque, Port, Seq, States

_REQUIRED = object()


def _bind(builder, node: fx.Node, names: list[tuple[str, Any]], aliases: dict[str, str] | None = None):
    """The call's arguments by name (``names``: (name, default) in positional order)."""
    args, kwargs = builder.arg(node.args), builder.arg(node.kwargs)
    out: dict[str, Any] = {}
    if len(args) > len(names):
        raise builder.refuse(node, f"is called with {len(args)} positional arguments; only "
                                   f"{', '.join(n for n, _ in names)} have a block")
    for (name, _), value in zip(names, args):
        out[name] = value
    for key, value in kwargs.items():
        key = (aliases or {}).get(key, key)
        if key not in {n for n, _ in names}:
            raise builder.refuse(node, f"is called with {key}=..., which its block does not take")
        out[key] = value
    for name, default in names:
        if name not in out:
            if default is _REQUIRED:
                raise builder.refuse(node, f"needs {name}")
            out[name] = default
    return out


def _rank(builder, value, node) -> int:
    """The rank of a tensor with its batch."""
    return len(builder.shape(builder.port(value, node))) + 1


def _dim(builder, node, dim: Any, rank: int, what: str = "dim") -> int:
    if not isinstance(dim, int) or isinstance(dim, bool):
        raise builder.refuse(node, f"takes {what}={dim!r}; its block needs a whole number")
    d = dim + rank if dim < 0 else dim
    if not 0 <= d < rank:
        raise builder.refuse(node, f"{what} {dim} is out of range for a tensor of rank {rank}")
    if d == 0:
        raise builder.refuse(node, "works along dim 0, the batch; a block works within one sample")
    return d


# ---- handlers ------------------------------------------------------------------------

def _unary(block: str, **params: Any) -> Callable:
    """An activation (or dropout) with ``params`` (name -> default) read from the call."""
    def handler(b, node):
        a = _bind(b, node, [("input", _REQUIRED), *params.items(), ("inplace", False)])
        values = {k: a[k] for k in params}
        if block in ("Softmax", "LogSoftmax"):
            values.pop("_stacklevel", None)
            if a.get("dtype") is not None:
                raise b.refuse(node, "casts to another dtype, which its block does not")
            values.pop("dtype", None)
            if values["dim"] is None:
                raise b.refuse(node, "dim=None picks a dimension by the input's rank; give dim")
        if block.startswith("Dropout"):
            values.pop("training", None)  # the block drops while training and passes through in evaluation
        if block == "GELU":
            values["approximate"] = values.get("approximate") or "none"
        return Port(b.add(node, block, values, [("in", a["input"])]))
    return handler


def _pool(block: str, names: list[tuple[str, Any]]) -> Callable:
    def handler(b, node):
        a = _bind(b, node, [("input", _REQUIRED), *names])
        if a.pop("return_indices", False):
            raise b.refuse(node, "return_indices=True; the block returns the pooled values only")
        if a.pop("divisor_override", None) is not None:
            raise b.refuse(node, "divisor_override; the block divides by the window size")
        x = a.pop("input")
        size = a.get("output_size", 1)
        if block.startswith("Adaptive") and (size is None or (isinstance(size, (tuple, list)) and None in size)):
            raise b.refuse(node, "an output_size of None keeps that input size; give both sizes")
        return Port(b.add(node, block, a, [("in", x)]))
    return handler


def _binary(block: str, op_names: tuple[str, str] = ("input", "other")) -> Callable:
    def handler(b, node):
        a = _bind(b, node, [(op_names[0], _REQUIRED), (op_names[1], _REQUIRED), ("alpha", 1)])
        if a["alpha"] != 1:
            raise b.refuse(node, f"scales by alpha={a['alpha']}, which its block does not")
        left, right = a[op_names[0]], a[op_names[1]]
        if _is_int(left) and _is_int(right):  # sizes worked out for a view: plain numbers
            return _SIZE_OPS[block](left, right)
        if block == "Multiply":
            folded = _fold_scale(b, node, left, right)
            if folded is not None:
                return folded
        for value in (left, right):
            if not isinstance(value, (Port, Seq)):
                raise b.no_block(node, f"one operand is {_what(value)}; blocks combine two tensors")
        ports = ("a", "b") if block == "MatMul" else ("in1", "in2")
        params = {} if block == "MatMul" else {"num_inputs": 2}
        return Port(b.add(node, block, params, [(ports[0], left), (ports[1], right)]))
    return handler


_SIZE_OPS = {"Add": operator.add, "Multiply": operator.mul}
_SCALABLE = ("Embedding", "Linear")  # blocks whose output is linear in their weights (and bias)


def _fold_scale(b, node, left, right, divide: bool = False) -> Port | None:
    """``embed(x) * math.sqrt(d)``: a constant times the output of an Embedding or Linear that
    nothing else reads is that layer with its weights scaled; None when it is not that."""
    pairs = [(left, right, node.args[0]), (right, left, node.args[1] if len(node.args) > 1 else None)]
    for tensor, factor, source in pairs[:1] if divide else pairs:
        if not isinstance(tensor, Port) or isinstance(factor, bool) or not isinstance(factor, (int, float)):
            continue
        if not isinstance(source, fx.Node) or len(source.users) != 1 or tensor.node in b.scales:
            continue
        if b.graph.node(tensor.node).block not in _SCALABLE or not math.isfinite(factor) or factor == 0:
            continue
        b.scales[tensor.node] = 1.0 / float(factor) if divide else float(factor)
        return tensor
    return None


def _divide(b, node):
    args = b.arg(node.args)
    if len(args) == 2 and _is_int(args[0]) and _is_int(args[1]):
        return args[0] / args[1]
    folded = _fold_scale(b, node, args[0], args[1], divide=True) if len(args) == 2 else None
    if folded is None:
        raise b.no_block(node, "a division (only a constant dividing the output of an Embedding or Linear "
                               "that nothing else reads goes into its weights)")
    return folded


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _what(value: Any) -> str:
    from .values import describe

    return describe(value)


def _int_op(op) -> Callable:
    def handler(b, node):
        left, right = b.arg(node.args)
        if _is_int(left) and _is_int(right):
            return op(left, right)
        raise b.no_block(node, "arithmetic on a tensor or on the batch size")
    return handler


def _cat(b, node):
    a = _bind(b, node, [("tensors", _REQUIRED), ("dim", 0)])
    tensors = a["tensors"]
    if not isinstance(tensors, (list, tuple)) or not tensors:
        raise b.refuse(node, "takes no list of tensors")
    if len(tensors) == 2 and all(isinstance(t, HalfState) for t in tensors):
        return _final_states(b, node, tensors, a["dim"])
    d = _dim(b, node, a["dim"], _rank(b, tensors[0], node))
    if len(tensors) > 16:
        raise b.refuse(node, f"joins {len(tensors)} tensors; the Concat block takes at most 16")
    inputs = [(f"in{i + 1}", t) for i, t in enumerate(tensors)]
    return Port(b.add(node, "Concat", {"num_inputs": len(tensors), "dim": d}, inputs))


def _final_states(b, node, halves, dim) -> Port:
    """``torch.cat((h[-2], h[-1]), dim=1)``: a bidirectional layer's final states, its "last" output."""
    first, second = halves
    if first.node != second.node or not first.forward or second.forward or dim not in (1, -1):
        raise b.refuse(node, "joins final states other than torch.cat((h[-2], h[-1]), dim=1) of one layer, "
                             "which no block gives")
    b.decide(first.node, "last", node)
    return Port(first.node)


def _flatten(b, node):
    a = _bind(b, node, [("input", _REQUIRED), ("start_dim", 0), ("end_dim", -1)])
    rank = _rank(b, a["input"], node)
    start = _dim(b, node, a["start_dim"], rank, "start_dim")
    end = a["end_dim"] + rank if a["end_dim"] < 0 else a["end_dim"]
    return Port(b.add(node, "Flatten", {"start_dim": start, "end_dim": end if end != rank - 1 else -1},
                      [("in", a["input"])]))


def _view(b, node):
    args = b.arg(node.args)
    kwargs = b.arg(node.kwargs)
    x = args[0]
    sizes = list(args[1:]) or list(kwargs.get("shape") or kwargs.get("size") or ())
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list, Items)):
        sizes = list(sizes[0].items if isinstance(sizes[0], Items) else sizes[0])
    src = b.port(x, node)
    sample = b.shape(src)
    if not sizes:
        raise b.refuse(node, "gives no shape")
    first, rest = sizes[0], sizes[1:]
    for size in rest:
        if not _is_int(size):
            raise b.refuse(node, f"takes {_what(size)} as a size past the batch; give sizes known from "
                                 "the input's shape")
    values = math.prod(sample)
    if first is BATCH:
        target = list(rest)
    elif first == -1 and -1 not in rest:
        target = list(rest)
        if math.prod(target) != values:
            raise b.refuse(node, f"view(-1, {', '.join(map(str, rest))}) would change the batch size: a sample "
                                 f"{list(sample)} holds {values} values, not {math.prod(target)}; write "
                                 "x.view(x.size(0), ...)")
    else:
        raise b.refuse(node, "does not keep the batch size; write x.view(x.size(0), ...) or x.view(-1, N) "
                             "with N the values of one sample")
    if not target:
        raise b.refuse(node, "leaves each sample no dimension")
    if len(target) == 1 and target[0] in (-1, values):
        return Port(b.add(node, "Flatten", {"start_dim": 1, "end_dim": -1}, [("in", src)]))
    return Port(b.add(node, "Reshape", {"shape": target}, [("in", src)]))


def _reduce(block: str) -> Callable:
    def handler(b, node):
        a = _bind(b, node, [("input", _REQUIRED), ("dim", None), ("keepdim", False), ("dtype", None)])
        if a["dtype"] is not None:
            raise b.refuse(node, "casts to another dtype, which its block does not")
        if a["dim"] is None:
            raise b.refuse(node, "reduces over every dimension, the batch included; give dim")
        rank = _rank(b, a["input"], node)
        dims = a["dim"] if isinstance(a["dim"], (tuple, list)) else [a["dim"]]
        dims = [_dim(b, node, d, rank) for d in dims]
        return Port(b.add(node, block, {"dims": dims, "keepdim": bool(a["keepdim"])}, [("in", a["input"])]))
    return handler


def _dims_of(b, node) -> tuple[Any, list[Any]]:
    args = b.arg(node.args)
    kwargs = b.arg(node.kwargs)
    x, dims = args[0], list(args[1:]) or list(kwargs.get("dims") or ())
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = list(dims[0])
    return x, dims


def _permute(b, node):
    x, dims = _dims_of(b, node)
    rank = _rank(b, x, node)
    if len(dims) != rank or not all(_is_int(d) for d in dims):
        raise b.refuse(node, f"takes {dims}; a permutation of all {rank} dimensions is needed")
    dims = [d + rank if d < 0 else d for d in dims]
    if dims[0] != 0:
        raise b.refuse(node, "moves the batch dimension; a block keeps it first (x.permute(0, ...))")
    return Port(b.add(node, "Permute", {"dims": dims[1:]}, [("in", x)]))


def _transpose(b, node):
    a = _bind(b, node, [("input", _REQUIRED), ("dim0", _REQUIRED), ("dim1", _REQUIRED)])
    rank = _rank(b, a["input"], node)
    d0, d1 = _dim(b, node, a["dim0"], rank, "dim0"), _dim(b, node, a["dim1"], rank, "dim1")
    return Port(b.add(node, "Transpose", {"dim0": d0, "dim1": d1}, [("in", a["input"])]))


def _squeeze(b, node):
    a = _bind(b, node, [("input", _REQUIRED), ("dim", None)])
    if a["dim"] is None or isinstance(a["dim"], (tuple, list)):
        raise b.refuse(node, "squeezes every size-1 dimension (the batch of one included); give one dim")
    d = _dim(b, node, a["dim"], _rank(b, a["input"], node))
    return Port(b.add(node, "Squeeze", {"dim": d}, [("in", a["input"])]))


def _unsqueeze(b, node):
    a = _bind(b, node, [("input", _REQUIRED), ("dim", _REQUIRED)])
    d = _dim(b, node, a["dim"], _rank(b, a["input"], node) + 1)
    return Port(b.add(node, "Unsqueeze", {"dim": d}, [("in", a["input"])]))


def _chunk(b, node):
    a = _bind(b, node, [("input", _REQUIRED), ("chunks", _REQUIRED), ("dim", 0)])
    rank = _rank(b, a["input"], node)
    d = _dim(b, node, a["dim"], rank)
    size = b.shape(b.port(a["input"], node))[d - 1]
    chunks = a["chunks"]
    pieces = -(-size // -(-size // chunks)) if _is_int(chunks) and chunks > 0 else 0
    if pieces != chunks:
        raise b.refuse(node, f"cuts size {size} into {pieces} pieces, not {chunks}; the Chunk block gives "
                             f"{chunks} outputs")
    node_id = b.add(node, "Chunk", {"chunks": chunks, "dim": d}, [("in", a["input"])])
    return Items(tuple(Port(node_id, f"out{i + 1}") for i in range(chunks)))


def _split(b, node):
    a = _bind(b, node, [("input", _REQUIRED), ("split_size_or_sections", _REQUIRED), ("dim", 0)],
              {"split_size": "split_size_or_sections", "tensor": "input"})
    rank = _rank(b, a["input"], node)
    d = _dim(b, node, a["dim"], rank)
    size = b.shape(b.port(a["input"], node))[d - 1]
    split = a["split_size_or_sections"]
    if _is_int(split):
        sizes = [split] * (size // split) + ([size % split] if size % split else [])
    else:
        sizes = list(split)
    node_id = b.add(node, "Split", {"sizes": sizes, "dim": d}, [("in", a["input"])])
    return Items(tuple(Port(node_id, f"out{i + 1}") for i in range(len(sizes))))


def _size(b, node):
    a = _bind(b, node, [("input", _REQUIRED), ("dim", None)])
    sample = b.shape(b.port(a["input"], node))
    full = (BATCH, *sample)
    if a["dim"] is None:
        return Items(full)
    dim = a["dim"] + len(full) if a["dim"] < 0 else a["dim"]
    return full[dim]


def _getattr(b, node):
    x, name = b.arg(node.args)
    if name == "shape" and isinstance(x, (Port, Seq)):
        return Items((BATCH, *b.shape(b.port(x, node))))
    if name == "ndim" and isinstance(x, (Port, Seq)):
        return len(b.shape(b.port(x, node))) + 1
    raise b.no_block(node, f"reads .{name}")


def _getitem(b, node):
    value, index = b.arg(node.args)
    if isinstance(value, Items):
        if isinstance(index, slice):
            return Items(value.items[index])
        if _is_int(index):
            return value.items[index]
    if isinstance(value, Opaque):
        return value
    if isinstance(value, Seq) and _is_last_step(index):
        if b.bidirectional.get(value.node):
            raise b.refuse(node, f"takes the last step of bidirectional {value.node}: its backward half there "
                                 "is not a final state, and no block gives it")
        b.decide(value.node, "last", node)
        return Port(value.node)
    if isinstance(value, States) and _is_int(index):
        both = b.bidirectional.get(value.node)
        layers = b.graph.node(value.node).params["num_layers"] * (2 if both else 1)
        if index in (-1, layers - 1) and not both:
            b.decide(value.node, "last", node)
            return Port(value.node)
        if both and index in (-2, -1, layers - 2, layers - 1):  # the last layer's two directions
            return HalfState(value.node, forward=index in (-2, layers - 2))
    raise b.no_block(node, "indexing a tensor; only a recurrent layer's last step (out[:, -1]) or final "
                           "state (h[-1]) has one")


def _is_last_step(index: Any) -> bool:
    full = slice(None, None, None)
    return isinstance(index, tuple) and len(index) in (2, 3) and index[0] == full and index[1] == -1 and (
        len(index) == 2 or index[2] == full)


def _same(b, node):
    return b.arg(node.args)[0]  # .contiguous(): the same values


_ACTIVATIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "relu": ("ReLU", {}), "relu6": ("ReLU6", {}), "hardswish": ("Hardswish", {}),
    "hardsigmoid": ("Hardsigmoid", {}), "sigmoid": ("Sigmoid", {}), "tanh": ("Tanh", {}), "silu": ("SiLU", {}),
    "gelu": ("GELU", {"approximate": "none"}), "elu": ("ELU", {"alpha": 1.0}),
    "leaky_relu": ("LeakyReLU", {"negative_slope": 0.01}), "softplus": ("Softplus", {"beta": 1.0, "threshold": 20.0}),
    "softmax": ("Softmax", {"dim": None, "_stacklevel": 3, "dtype": None}),
    "log_softmax": ("LogSoftmax", {"dim": None, "_stacklevel": 3, "dtype": None}),
    "dropout": ("Dropout", {"p": 0.5, "training": True}), "dropout2d": ("Dropout2d", {"p": 0.5, "training": True}),
}

_FUNCTIONS: dict[Any, Callable] = {
    operator.add: _binary("Add"), operator.iadd: _binary("Add"), torch.add: _binary("Add"),
    operator.mul: _binary("Multiply"), operator.imul: _binary("Multiply"), torch.mul: _binary("Multiply"),
    operator.matmul: _binary("MatMul"), torch.matmul: _binary("MatMul"),
    torch.bmm: _binary("MatMul", ("input", "mat2")),
    operator.floordiv: _int_op(operator.floordiv), operator.sub: _int_op(operator.sub),
    operator.truediv: _divide, operator.itruediv: _divide, torch.div: _divide, torch.true_divide: _divide,
    operator.ifloordiv: _int_op(operator.floordiv), operator.isub: _int_op(operator.sub),
    torch.cat: _cat, torch.concat: _cat, torch.concatenate: _cat,
    torch.flatten: _flatten, torch.reshape: _view,
    torch.mean: _reduce("Mean"), torch.sum: _reduce("Sum"),
    torch.permute: _permute, torch.transpose: _transpose, torch.squeeze: _squeeze, torch.unsqueeze: _unsqueeze,
    torch.chunk: _chunk, torch.split: _split,
    operator.getitem: _getitem, getattr: _getattr,
    F.adaptive_avg_pool2d: _pool("AdaptiveAvgPool2d", [("output_size", 1)]),
    F.adaptive_max_pool2d: _pool("AdaptiveMaxPool2d", [("output_size", 1), ("return_indices", False)]),
    F.max_pool1d: _pool("MaxPool1d", [("kernel_size", _REQUIRED), ("stride", None), ("padding", 0),
                                      ("dilation", 1), ("ceil_mode", False), ("return_indices", False)]),
    F.avg_pool1d: _pool("AvgPool1d", [("kernel_size", _REQUIRED), ("stride", None), ("padding", 0),
                                      ("ceil_mode", False), ("count_include_pad", True)]),
    F.max_pool2d: _pool("MaxPool2d", [("kernel_size", _REQUIRED), ("stride", None), ("padding", 0),
                                      ("dilation", 1), ("ceil_mode", False), ("return_indices", False)]),
    F.avg_pool2d: _pool("AvgPool2d", [("kernel_size", _REQUIRED), ("stride", None), ("padding", 0),
                                      ("ceil_mode", False), ("count_include_pad", True),
                                      ("divisor_override", None)]),
}
for _name, (_block, _params) in _ACTIVATIONS.items():
    for _space in (F, torch):
        _fn = getattr(_space, _name, None)
        if _fn is not None and _fn not in _FUNCTIONS:
            _FUNCTIONS[_fn] = _unary(_block, **_params)

_METHODS: dict[str, Callable] = {
    "add": _binary("Add"), "mul": _binary("Multiply"), "matmul": _binary("MatMul"), "div": _divide,
    "flatten": _flatten, "view": _view, "reshape": _view, "contiguous": _same,
    "mean": _reduce("Mean"), "sum": _reduce("Sum"),
    "permute": _permute, "transpose": _transpose, "squeeze": _squeeze, "unsqueeze": _unsqueeze,
    "chunk": _chunk, "split": _split, "size": _size,
    "relu": _unary("ReLU"), "sigmoid": _unary("Sigmoid"), "tanh": _unary("Tanh"),
    "softmax": _unary("Softmax", dim=None, dtype=None), "log_softmax": _unary("LogSoftmax", dim=None, dtype=None),
}
# in place (x.relu_(), out.add_(y)): the same block; inplace.resolve_inplace rewires later reads of x
for _name in ("add", "mul", "relu", "sigmoid", "tanh"):
    _METHODS[_name + "_"] = _METHODS[_name]
for _name in ("relu", "sigmoid", "tanh", "elu", "leaky_relu"):
    for _space in (F, torch):
        _fn = getattr(_space, _name + "_", None)
        if _fn is not None and _fn not in _FUNCTIONS:
            _FUNCTIONS[_fn] = _FUNCTIONS[getattr(F, _name)]


def handle(builder, node: fx.Node) -> Any:
    if node.op == "call_method":
        handler = _METHODS.get(str(node.target))
    else:
        try:
            handler = _FUNCTIONS.get(node.target)
        except TypeError:  # an unhashable target
            handler = None
    if handler is None:
        raise builder.no_block(node)
    return handler(builder, node)
