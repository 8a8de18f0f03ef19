"""Inputs and structure: where tensors enter, and how they are reshaped and merged."""

from __future__ import annotations

import math
import operator
from functools import reduce

from ..registry import Category, register, register_category
from ..spec import BlockSpec, Constructor, Param, Port, ShapeError
from ._rules import (
    IN, NUM_INPUTS, OUT, dim_index, fmt, nn_class, no_params, numbered_inputs, numbered_outputs, same_shape,
)

C = register_category(Category("Input & structure", color="#3f9d8f", icon="structure.svg")).name


def _input_infer(in_shapes, p):
    return {"out": tuple(p["shape"])}


register(BlockSpec(
    name="Input", category=C,
    doc="A network input: one sample's shape (no batch dimension) and its kind, float values or integer tokens.",
    inputs=(), outputs=OUT,
    params=(
        Param("shape", "shape", (2,), "sample shape without the batch dimension, e.g. [1, 28, 28]"),
        Param("dtype", "choice", "float", "float values, or long (integer token ids) for Embedding",
              choices=("float", "long")),
    ),
    infer=_input_infer, is_input=True, key_params=("shape",),
))


def _flatten_infer(in_shapes, p):
    shape = in_shapes["in"]
    rank = len(shape) + 1
    start = dim_index(p["start_dim"], rank)
    end = dim_index(p["end_dim"], rank)
    if end < start:
        raise ShapeError(f"end_dim {p['end_dim']} comes before start_dim {p['start_dim']} for {fmt(shape)}", "in")
    full = (None, *shape)
    merged = math.prod(full[start:end + 1])
    return {"out": tuple(full[1:start]) + (merged,) + tuple(full[end + 1:])}


def _flatten_constructor(in_shapes, p):
    return Constructor(nn_class("Flatten"), kwargs={"start_dim": p["start_dim"], "end_dim": p["end_dim"]})


register(BlockSpec(
    name="Flatten", category=C,
    doc="Flattens dimensions start_dim..end_dim (counting the batch as 0) into one: [C, H, W] -> [C*H*W].",
    inputs=IN, outputs=OUT,
    params=(
        Param("start_dim", "int", 1, "first dimension to flatten (batch is 0)"),
        Param("end_dim", "int", -1, "last dimension to flatten"),
    ),
    infer=_flatten_infer, constructor=_flatten_constructor, dtypes="any", param_count=no_params,
))


def _resolve_reshape(shape, target):
    n = math.prod(shape)
    if list(target).count(-1) > 1:
        raise ShapeError(f"shape {fmt(target)} may hold at most one -1", "in")
    known = math.prod(d for d in target if d != -1)
    if -1 in target:
        if known == 0 or n % known:
            raise ShapeError(f"in: cannot reshape {fmt(shape)} ({n} values) into {fmt(target)}", "in")
        return tuple(n // known if d == -1 else d for d in target)
    if known != n:
        raise ShapeError(f"in: cannot reshape {fmt(shape)} ({n} values) into {fmt(target)} ({known} values)", "in")
    return tuple(target)


def _reshape_infer(in_shapes, p):
    return {"out": _resolve_reshape(in_shapes["in"], p["shape"])}


def _reshape_emit(g, args, in_shapes, p):
    out = _resolve_reshape(in_shapes["in"], p["shape"])
    return g.call_method("reshape", (args[0], -1, *out))


register(BlockSpec(
    name="Reshape", category=C,
    doc="Gives the sample a new shape with the same number of values; one size may be -1 (inferred).",
    inputs=IN, outputs=OUT,
    params=(Param("shape", "shape", (-1,), "new sample shape without the batch dimension"),),
    infer=_reshape_infer, emit=_reshape_emit, key_params=("shape",), dtypes="any",
))


def _identity_emit(g, args, in_shapes, p):
    return args[0]


register(BlockSpec(
    name="Identity", category=C, doc="Passes its input through unchanged: y = x.",
    inputs=IN, outputs=OUT, params=(), infer=same_shape, emit=_identity_emit, dtypes="any",
))


def _broadcast(in_shapes, what):
    shapes = list(in_shapes.items())
    out = list(shapes[0][1])
    first, first_shape = shapes[0]
    for port, shape in shapes[1:]:
        # Equal ranks only: with the batch in front, torch would align [B, 5] under [B, 4, 5]
        # by its trailing sizes and pair the batch with a feature size.
        if len(shape) != len(first_shape):
            raise ShapeError(
                f"{port}: cannot {what} {fmt(shape)} to {first} {fmt(first_shape)}: ranks differ"
                " (Reshape one so both have the same rank; sizes of 1 broadcast)", port)
        merged = []
        for x, y in zip(out, shape):
            if x != y and 1 not in (x, y):
                raise ShapeError(f"{port}: cannot {what} {fmt(shape)} to {first} {fmt(first_shape)}", port)
            merged.append(max(x, y))
        out = merged
    return {"out": tuple(out)}


def _chain(op):
    def emit(g, args, in_shapes, p):
        return reduce(lambda a, b: g.call_function(op, (a, b)), args)
    return emit


register(BlockSpec(
    name="Add", category=C,
    doc="Element-wise sum of its inputs, y = x1 + x2 + ...; shapes must match or broadcast (residual connections).",
    inputs=(), outputs=OUT, params=(NUM_INPUTS,),
    infer=lambda s, p: _broadcast(s, "add"), emit=_chain(operator.add), dynamic_inputs=numbered_inputs,
))

register(BlockSpec(
    name="Multiply", category=C,
    doc="Element-wise product of its inputs, y = x1 * x2 * ... (gates); shapes must match or broadcast.",
    inputs=(), outputs=OUT, params=(NUM_INPUTS,),
    infer=lambda s, p: _broadcast(s, "multiply"), emit=_chain(operator.mul), dynamic_inputs=numbered_inputs,
))


def _concat_infer(in_shapes, p):
    items = list(in_shapes.items())
    first_port, first = items[0]
    d = dim_index(p["dim"], len(first) + 1, first_port) - 1
    total = 0
    for port, shape in items:
        if len(shape) != len(first):
            raise ShapeError(f"{port}: rank of {fmt(shape)} differs from {first_port} {fmt(first)}", port)
        for i, (a, b) in enumerate(zip(shape, first)):
            if i != d and a != b:
                raise ShapeError(
                    f"{port}: {fmt(shape)} differs from {first_port} {fmt(first)} outside dim {p['dim']}", port)
        total += shape[d]
    out = list(first)
    out[d] = total
    return {"out": tuple(out)}


def _concat_emit(g, args, in_shapes, p):
    import torch
    return g.call_function(torch.cat, (list(args),), {"dim": p["dim"]})


register(BlockSpec(
    name="Concat", category=C,
    doc="Joins its inputs along dim (batch is 0; 1 is channels or features), in port order.",
    inputs=(), outputs=OUT, params=(NUM_INPUTS, Param("dim", "int", 1, "dimension to join along (batch is 0)")),
    infer=_concat_infer, emit=_concat_emit, dynamic_inputs=numbered_inputs, key_params=("dim",), dtypes="any",
))


# ---- rearranging and reducing dimensions ----------------------------------------
# Dimensions count the batch as 0, as in torch, and never name it: these blocks
# compile to the plain tensor methods (``x.permute(0, 2, 1)``).

def _permute_order(shape, dims):
    rank = len(shape)
    if sorted(dims) != list(range(1, rank + 1)):
        raise ShapeError(
            f"in: dims {fmt(dims)} must be a permutation of 1..{rank}, each dimension of {fmt(shape)} once "
            f"(the batch is 0 and stays first), e.g. {fmt(range(rank, 0, -1))}", "in")
    return dims


def _permute_infer(in_shapes, p):
    shape = in_shapes["in"]
    dims = _permute_order(shape, p["dims"])
    return {"out": tuple(shape[d - 1] for d in dims)}


def _permute_emit(g, args, in_shapes, p):
    return g.call_method("permute", (args[0], 0, *p["dims"]))


register(BlockSpec(
    name="Permute", category=C,
    doc="Reorders the sample's dimensions, y = x.permute(0, *dims); [L, F] with dims [2, 1] -> [F, L].",
    inputs=IN, outputs=OUT,
    params=(Param("dims", "ints", (2, 1), "the new order of the dimensions, counting the batch as 0: "
                  "a permutation of 1..rank", min=1),),
    infer=_permute_infer, emit=_permute_emit, key_params=("dims",), dtypes="any",
))


def _transpose_infer(in_shapes, p):
    shape = in_shapes["in"]
    a = dim_index(p["dim0"], len(shape) + 1) - 1
    b = dim_index(p["dim1"], len(shape) + 1) - 1
    out = list(shape)
    out[a], out[b] = out[b], out[a]
    return {"out": tuple(out)}


def _transpose_emit(g, args, in_shapes, p):
    return g.call_method("transpose", (args[0], p["dim0"], p["dim1"]))


register(BlockSpec(
    name="Transpose", category=C,
    doc="Swaps two dimensions, y = x.transpose(dim0, dim1) (batch is 0, negatives count from the end).",
    inputs=IN, outputs=OUT,
    params=(
        Param("dim0", "int", 1, "first dimension to swap (batch is 0, never swapped)"),
        Param("dim1", "int", 2, "second dimension to swap"),
    ),
    infer=_transpose_infer, emit=_transpose_emit, key_params=("dim0", "dim1"), dtypes="any",
))


def _reduced(shape, p):
    """The sample's indexes that ``dims`` names (each once), checked."""
    rank = len(shape) + 1
    seen: dict[int, int] = {}
    for dim in p["dims"]:
        d = dim_index(dim, rank)
        if d in seen:
            raise ShapeError(f"in: dims {fmt(p['dims'])} name dimension {d} twice ({seen[d]} and {dim}) "
                             f"for {fmt(shape)}", "in")
        seen[d] = dim
    return {d - 1 for d in seen}


def _reduce_infer(in_shapes, p):
    shape = in_shapes["in"]
    gone = _reduced(shape, p)
    if p["keepdim"]:
        return {"out": tuple(1 if i in gone else s for i, s in enumerate(shape))}
    return {"out": tuple(s for i, s in enumerate(shape) if i not in gone)}


def _reduce_emit(method):
    def emit(g, args, in_shapes, p):
        dims = p["dims"]
        dim = dims[0] if len(dims) == 1 else tuple(dims)
        kwargs = {"keepdim": True} if p["keepdim"] else {}
        return g.call_method(method, (args[0], dim), kwargs)
    return emit


for _name, _method, _doc in (
    ("Mean", "mean", "Averages over dims, y = x.mean(dims); global average pooling is dims [2, 3] of [C, H, W]."),
    ("Sum", "sum", "Adds up over dims, y = x.sum(dims) (batch is 0 and never reduced)."),
):
    register(BlockSpec(
        name=_name, category=C, doc=_doc, inputs=IN, outputs=OUT,
        params=(
            Param("dims", "ints", (-1,), "dimensions to reduce, counting the batch as 0 (negatives count from the end)"),
            Param("keepdim", "bool", False, "keep each reduced dimension with size 1"),
        ),
        infer=_reduce_infer, emit=_reduce_emit(_method), key_params=("dims",),
    ))


def _squeeze_infer(in_shapes, p):
    shape = in_shapes["in"]
    d = dim_index(p["dim"], len(shape) + 1) - 1
    if shape[d] != 1:
        return {"out": shape}  # as torch: squeezing a size other than 1 changes nothing
    return {"out": shape[:d] + shape[d + 1:]}


def _squeeze_emit(g, args, in_shapes, p):
    return g.call_method("squeeze", (args[0], p["dim"]))


register(BlockSpec(
    name="Squeeze", category=C,
    doc="Removes dimension dim when its size is 1, y = x.squeeze(dim) (batch is 0); [C, 1] -> [C].",
    inputs=IN, outputs=OUT,
    params=(Param("dim", "int", -1, "dimension to remove, counting the batch as 0; a size other than 1 stays"),),
    infer=_squeeze_infer, emit=_squeeze_emit, key_params=("dim",), dtypes="any",
))


def _unsqueeze_infer(in_shapes, p):
    shape = in_shapes["in"]
    rank = len(shape) + 2  # with the batch, after the new dimension
    dim = p["dim"]
    d = dim + rank if dim < 0 else dim
    if not 0 <= d < rank:
        raise ShapeError(f"in: dim {dim} is out of range for {fmt(shape)}: the result has rank {rank} "
                         f"with the batch, so dim runs from 1 to {rank - 1} (or {-rank + 1} to -1)", "in")
    if d == 0:
        raise ShapeError(f"in: dim {dim} would put the new dimension before the batch (dim 0); choose "
                         f"1 to {rank - 1} (or {-rank + 1} to -1)", "in")
    return {"out": shape[:d - 1] + (1,) + shape[d - 1:]}


def _unsqueeze_emit(g, args, in_shapes, p):
    return g.call_method("unsqueeze", (args[0], p["dim"]))


register(BlockSpec(
    name="Unsqueeze", category=C,
    doc="Inserts a dimension of size 1 at dim, y = x.unsqueeze(dim) (batch is 0); [L] -> [1, L].",
    inputs=IN, outputs=OUT,
    params=(Param("dim", "int", 1, "where the new dimension goes in the result, counting the batch as 0"),),
    infer=_unsqueeze_infer, emit=_unsqueeze_emit, key_params=("dim",), dtypes="any",
))


# ---- cutting into pieces -----------------------------------------------------------
# One output port per piece; the emitted call returns a tuple, each port reads its item.

def _pieces(g, call, count):
    return tuple(g.call_function(operator.getitem, (call, i)) for i in range(count))


def _split_infer(in_shapes, p):
    shape, sizes = in_shapes["in"], p["sizes"]
    d = dim_index(p["dim"], len(shape) + 1) - 1
    if sum(sizes) != shape[d]:
        raise ShapeError(
            f"in: sizes {fmt(sizes)} add up to {sum(sizes)}, but dim {p['dim']} of {fmt(shape)} has size {shape[d]}; "
            f"make them add up to {shape[d]}", "in")
    return {f"out{i}": shape[:d] + (size,) + shape[d + 1:] for i, size in enumerate(sizes, 1)}


def _split_emit(g, args, in_shapes, p):
    call = g.call_method("split", (args[0], list(p["sizes"])), {"dim": p["dim"]})
    return _pieces(g, call, len(p["sizes"]))


register(BlockSpec(
    name="Split", category=C,
    doc="Cuts the input along dim into pieces of the given sizes, x.split(sizes, dim); one output per piece.",
    inputs=IN, outputs=(), params=(
        Param("sizes", "ints", (1, 1), "size of each piece along dim, in order; they add up to that dim's size",
              min=1, max_count=16),
        Param("dim", "int", 1, "dimension to cut along (batch is 0)"),
    ),
    infer=_split_infer, emit=_split_emit,
    dynamic_outputs=numbered_outputs(lambda p: len(p["sizes"]), "`out1` ... `out<number of sizes>`"),
    key_params=("sizes", "dim"), dtypes="any",
))


def _chunk_sizes(n, chunks):
    """torch.chunk's pieces: ceil(n / chunks) each, the last one smaller; there can be fewer than chunks."""
    each = -(-n // chunks)
    return [each] * (n // each) + ([n % each] if n % each else [])


def _chunk_infer(in_shapes, p):
    shape, chunks = in_shapes["in"], p["chunks"]
    d = dim_index(p["dim"], len(shape) + 1) - 1
    sizes = _chunk_sizes(shape[d], chunks)
    if len(sizes) != chunks:
        raise ShapeError(
            f"in: torch.chunk cuts dim {p['dim']} of {fmt(shape)} (size {shape[d]}) into {len(sizes)} pieces "
            f"{fmt(sizes)}, not {chunks}; choose chunks that divides {shape[d]}, or use Split with the sizes you want",
            "in")
    return {f"out{i}": shape[:d] + (size,) + shape[d + 1:] for i, size in enumerate(sizes, 1)}


def _chunk_emit(g, args, in_shapes, p):
    call = g.call_method("chunk", (args[0], p["chunks"]), {"dim": p["dim"]})
    return _pieces(g, call, p["chunks"])


register(BlockSpec(
    name="Chunk", category=C,
    doc="Cuts the input along dim into chunks pieces of ceil(size / chunks), the last smaller, x.chunk(chunks, dim).",
    inputs=IN, outputs=(), params=(
        Param("chunks", "int", 2, "how many pieces, one output each", min=1, max=16),
        Param("dim", "int", 1, "dimension to cut along (batch is 0)"),
    ),
    infer=_chunk_infer, emit=_chunk_emit,
    dynamic_outputs=numbered_outputs(lambda p: p["chunks"], "`out1` ... `out<chunks>`"),
    key_params=("chunks", "dim"), dtypes="any",
))


# ---- matrix product ------------------------------------------------------------------

def _matmul_infer(in_shapes, p):
    a, b = in_shapes["a"], in_shapes["b"]
    for port, shape in (("a", a), ("b", b)):
        if len(shape) < 2:
            raise ShapeError(
                f"{port}: expected a matrix [..., rows, columns], got {fmt(shape)}; Unsqueeze a vector "
                "to a matrix first (the batch is in front, so a vector would be taken for a matrix with it)", port)
    if len(a) != len(b):
        raise ShapeError(f"b: a {fmt(a)} @ b {fmt(b)}: ranks differ (Unsqueeze or Reshape one so both have "
                         "the same rank; leading sizes of 1 broadcast)", "b")
    if a[-1] != b[-2]:
        raise ShapeError(f"b: a {fmt(a)} @ b {fmt(b)}: a's last size {a[-1]} must equal b's second-to-last {b[-2]}",
                         "b")
    lead = []
    for x, y in zip(a[:-2], b[:-2]):
        if x != y and 1 not in (x, y):
            raise ShapeError(f"b: a {fmt(a)} @ b {fmt(b)}: leading sizes {x} and {y} differ (and neither is 1)", "b")
        lead.append(max(x, y))
    return {"out": (*lead, a[-2], b[-1])}


def _matmul_emit(g, args, in_shapes, p):
    import torch
    return g.call_function(torch.matmul, tuple(args))


register(BlockSpec(
    name="MatMul", category=C,
    doc="Matrix product, y = a @ b per sample (torch.matmul); [..., n, k] @ [..., k, m] -> [..., n, m].",
    inputs=(Port("a", "left matrix [..., n, k]"), Port("b", "right matrix [..., k, m]")), outputs=OUT, params=(),
    infer=_matmul_infer, emit=_matmul_emit,
))
