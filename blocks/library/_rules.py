"""Small helpers the block declarations share: ports, shape checks, conv arithmetic,
and the classes constructors name (imported only when a module is built)."""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping, Sequence

from ..spec import Constructor, Param, Port, Shape, ShapeError

IN = (Port("in", "input tensor"),)
OUT = (Port("out", "output tensor"),)


def fmt(shape: Sequence[int]) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"


def only(in_shapes: Mapping[str, Shape], port: str = "in") -> Shape:
    return in_shapes[port]


def need_rank(shape: Shape, ranks: Sequence[int], what: str, port: str = "in") -> None:
    """Refuse an input whose rank is not one of ``ranks``; ``what`` says which layout, e.g. "[C, H, W]"."""
    if len(shape) not in ranks:
        raise ShapeError(f"{port}: expected {what}, got {fmt(shape)}", port)


def pair(value: Any, n: int) -> tuple[int, ...]:
    if isinstance(value, (tuple, list)):
        return tuple(value)
    return (value,) * n


def conv_out(size: int, kernel: int, stride: int, padding: int, dilation: int, ceil: bool = False) -> int:
    """torch's output length for convolution and pooling along one dimension."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    if ceil:
        out = math.ceil(span / stride) + 1
        # torch drops a last window that would start inside the right padding
        if (out - 1) * stride >= size + padding:
            out -= 1
        return out
    return span // stride + 1


def spatial(in_size: Sequence[int], params: Mapping[str, Any], n: int, *, pool: bool = False) -> Shape:
    kernel = pair(params["kernel_size"], n)
    stride_value = params.get("stride")
    stride = kernel if stride_value is None else pair(stride_value, n)
    padding = pair(params.get("padding", 0), n)
    dilation = pair(params.get("dilation", 1), n)
    ceil = bool(params.get("ceil_mode", False))
    if pool:
        for k, p in zip(kernel, padding):
            if p > k // 2:
                raise ShapeError(f"padding {p} must be at most half of kernel_size {k}", "in")
    out = tuple(
        conv_out(s, k, st, p, d, ceil) for s, k, st, p, d in zip(in_size, kernel, stride, padding, dilation)
    )
    if any(o < 1 for o in out):
        raise ShapeError(
            f"in: input {fmt(in_size)} is smaller than kernel_size {fmt(kernel)}"
            f" (dilation {fmt(dilation)}, padding {fmt(padding)})",
            "in",
        )
    return out


def dim_index(dim: int, rank_with_batch: int, port: str = "in") -> int:
    """A torch-style dim (counting the batch dimension) as an index into the full shape."""
    d = dim + rank_with_batch if dim < 0 else dim
    if not 0 <= d < rank_with_batch:
        raise ShapeError(f"dim {dim} is out of range for a tensor of rank {rank_with_batch} (with batch)", port)
    if d == 0:
        raise ShapeError("dim 0 is the batch dimension; choose a dimension of the sample", port)
    return d


def same_shape(in_shapes: Mapping[str, Shape], params: Mapping[str, Any]) -> dict[str, Shape]:
    return {"out": only(in_shapes)}


def nn_class(name: str) -> type:
    """``torch.nn.<name>``; torch is imported here, when a module is first built, not when blocks load."""
    import torch.nn as nn
    return getattr(nn, name)


def library_class(name: str) -> type:
    """One of the modules torch.nn lacks, from ``blocks.library.modules``."""
    from . import modules
    return getattr(modules, name)


def numbered_inputs(params: Mapping[str, Any]) -> tuple[Port, ...]:
    n = int(params.get("num_inputs", 2))
    return tuple(Port(f"in{i}", f"input {i}") for i in range(1, n + 1))


numbered_inputs.shown = "`in1` ... `in<num_inputs>`"  # how docs/gen_blocks.py lists them


def numbered_outputs(count: Callable[[Mapping[str, Any]], int], shown: str) -> Callable[..., tuple[Port, ...]]:
    """Output ports ``out1`` ... ``outN``, N = ``count(params)``; ``shown`` is how the reference lists them."""
    def ports(params: Mapping[str, Any]) -> tuple[Port, ...]:
        return tuple(Port(f"out{i}", f"piece {i}") for i in range(1, count(params) + 1))

    ports.shown = shown
    return ports


def no_params(in_shapes: Mapping[str, Shape], params: Mapping[str, Any]) -> int:
    """The count of a module with no learnable parameters."""
    return 0


def affine_count(in_shapes: Mapping[str, Shape], params: Mapping[str, Any]) -> int:
    """A norm's scale and shift per channel (the input's first size), when ``affine``."""
    return 2 * in_shapes["in"][0] if params["affine"] else 0


def linear_count(n_in: int, n_out: int, bias: bool) -> int:
    return n_in * n_out + (n_out if bias else 0)


def attention_count(embed: int, bias: bool) -> int:
    """torch's MultiheadAttention with keys and values of the queries' width: the packed
    in-projection [3E, E] and the out-projection [E, E], each with its bias."""
    return linear_count(embed, 3 * embed, bias) + linear_count(embed, embed, bias)


EPS = Param("eps", "float", 1e-5, "added to the variance for numerical stability", min=0.0)


def batch_norm_params(per: str = "") -> tuple[Param, ...]:
    """The parameters BatchNorm1d and BatchNorm2d share; ``per`` ends the affine doc (" per channel")."""
    return (
        EPS,
        Param("momentum", "float", 0.1, "weight of the newest batch in the running statistics", min=0.0, max=1.0),
        Param("affine", "bool", True, "learn a scale gamma and shift beta" + per),
    )


def batch_norm_constructor(name: str):
    """``nn.<name>(num_features, eps=..., momentum=..., affine=...)``; num_features is the input's first size."""
    def constructor(s: Mapping[str, Shape], p: Mapping[str, Any]) -> Constructor:
        return Constructor(nn_class(name), (s["in"][0],), dict(p))
    return constructor


NUM_INPUTS = Param("num_inputs", "int", 2, "how many inputs, taken in port order", min=2, max=16)
