"""A module the forward calls, as a block: its parameters read from the instance.

``describe(module, path, args, kwargs)`` gives the block, its parameters, which
call arguments go to which input port, and a check of the sizes the block will
infer from its inputs (``in_channels``, ``in_features``, ``input_size``,
``d_model``) against the module's own. What a block cannot express (a mask, a
``batch_first=False`` layer, a padding mode) is refused naming the module path.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import torch.nn.functional as F
from torch import nn

from .errors import ImportRefused
from .tracing import library_kind

Shapes = Mapping[str, tuple[int, ...]]


@dataclass
class Mapped:
    block: str
    params: dict[str, Any]
    inputs: list[tuple[str, Any]]  # (port, the call's argument)
    check: Callable[[Shapes], str | None] = lambda shapes: None  # why the inputs do not fit the module
    result: str = "tensor"  # "tensor"; "recurrent" (output, state); "attention" (output, weights)
    extra: dict[str, Any] = field(default_factory=dict)


def _kind(module: nn.Module) -> str:
    """The torch.nn (or block library) class a module is, by name."""
    own = library_kind(module)
    if own is not None:
        return own
    for klass in type(module).__mro__:
        if klass.__module__.startswith("torch.nn") and getattr(nn, klass.__name__, None) is klass:
            return klass.__name__
    return type(module).__name__


def _refuse(path: str, module: nn.Module, why: str) -> ImportRefused:
    return ImportRefused(f"module {path} ({type(module).__name__}): {why}")


def _bind(module: nn.Module, path: str, args: tuple, kwargs: dict) -> dict[str, Any]:
    try:
        bound = inspect.signature(module.forward).bind(*args, **kwargs)
    except TypeError as exc:
        raise _refuse(path, module, f"called with arguments its forward does not take: {exc}") from None
    bound.apply_defaults()
    return dict(bound.arguments)


def _only_defaults(module, path, bound: dict[str, Any], allowed: Mapping[str, Any], what: str) -> None:
    """Refuse an argument beyond the inputs that is not its default (a mask, a hidden state)."""
    for name, value in bound.items():
        if name in allowed and value is not allowed[name] and value != allowed[name]:
            raise _refuse(path, module, f"is called with {name}=...; a {what} block takes no {name}")


def _size_check(port: str, index: int, own: int, what: str, path: str) -> Callable[[Shapes], str | None]:
    def check(shapes: Shapes) -> str | None:
        shape = shapes.get(port)
        if shape is None or not shape:
            return None
        got = shape[index]
        if got != own:
            return (f"module {path} takes {what} {own}, but its input here is {list(shape)} "
                    f"({what} {got})")
        return None
    return check


def _int_pair(value: Any) -> Any:
    return tuple(int(v) for v in value) if isinstance(value, (tuple, list)) else int(value)


# ---- convolution and pooling -------------------------------------------------

def _conv(m, path, bound):
    if m.padding_mode != "zeros":
        raise _refuse(path, m, f"padding_mode {m.padding_mode!r}; the block pads with zeros")
    padding = m.padding
    if isinstance(padding, str):
        if padding == "valid":
            padding = 0
        else:  # "same": torch pads each side by dilation*(k-1)/2 when that is whole
            spans = [d * (k - 1) for d, k in zip(m.dilation, m.kernel_size)]
            if any(s % 2 for s in spans):
                raise _refuse(path, m, "padding='same' with an even kernel pads unevenly; give the padding in numbers")
            padding = tuple(s // 2 for s in spans)
    params = {"out_channels": m.out_channels, "kernel_size": _int_pair(m.kernel_size),
              "stride": _int_pair(m.stride), "padding": _int_pair(padding),
              "dilation": _int_pair(m.dilation), "groups": m.groups, "bias": m.bias is not None}
    if isinstance(m, nn.ConvTranspose2d):
        params["output_padding"] = _int_pair(m.output_padding)
    return Mapped(_kind(m), params, [("in", bound["input"])],
                  _size_check("in", 0, m.in_channels, "in_channels", path))


def _max_pool(m, path, bound):
    if m.return_indices:
        raise _refuse(path, m, "return_indices=True; the block returns the pooled values only")
    params = {"kernel_size": _int_pair(m.kernel_size), "stride": None if m.stride is None else _int_pair(m.stride),
              "padding": _int_pair(m.padding), "dilation": _int_pair(m.dilation), "ceil_mode": m.ceil_mode}
    return Mapped(_kind(m), params, [("in", bound["input"])])


def _avg_pool(m, path, bound):
    if getattr(m, "divisor_override", None) is not None:
        raise _refuse(path, m, "divisor_override; the block divides by the window size")
    params = {"kernel_size": _int_pair(m.kernel_size), "stride": None if m.stride is None else _int_pair(m.stride),
              "padding": _int_pair(m.padding), "ceil_mode": m.ceil_mode,
              "count_include_pad": m.count_include_pad}
    return Mapped(_kind(m), params, [("in", bound["input"])])


def _adaptive(m, path, bound):
    size = m.output_size
    if (size is None) or (isinstance(size, (tuple, list)) and None in size):
        raise _refuse(path, m, "an output_size of None keeps that input size; give both sizes")
    params = {"output_size": _int_pair(size)}
    if getattr(m, "return_indices", False):
        raise _refuse(path, m, "return_indices=True; the block returns the pooled values only")
    return Mapped(_kind(m), params, [("in", bound["input"])])


def _upsample(m, path, bound):
    if m.size is not None or m.scale_factor is None:
        raise _refuse(path, m, "a target size; the block scales by scale_factor")
    factor = m.scale_factor
    if isinstance(factor, (tuple, list)):
        if len(set(factor)) != 1:
            raise _refuse(path, m, f"scale_factor {factor} differs between dimensions; the block scales all alike")
        factor = factor[0]
    if m.mode not in ("nearest", "bilinear") or (m.mode == "bilinear" and m.align_corners):
        raise _refuse(path, m, f"mode {m.mode!r} (align_corners={m.align_corners}); the block does nearest, "
                               "or bilinear without align_corners")
    return Mapped("Upsample", {"scale_factor": float(factor), "mode": m.mode}, [("in", bound["input"])])


# ---- normalisation -------------------------------------------------------------

def _batch_norm(m, path, bound):
    if m.momentum is None:
        raise _refuse(path, m, "momentum=None (a cumulative average); the block takes a momentum from 0 to 1")
    params = {"eps": m.eps, "momentum": m.momentum, "affine": m.affine}
    params["track_running_stats"] = m.track_running_stats
    return Mapped(_kind(m), params, [("in", bound["input"])],
                  _size_check("in", 0, m.num_features, "num_features", path))


def _layer_norm(m, path, bound):
    if len(m.normalized_shape) != 1:
        raise _refuse(path, m, f"normalized_shape {list(m.normalized_shape)} spans several dimensions; "
                               "the block normalises the last one")
    params = {"eps": m.eps, "elementwise_affine": m.elementwise_affine,
              "bias": getattr(m, "bias", None) is not None}
    return Mapped("LayerNorm", params, [("in", bound["input"])],
                  _size_check("in", -1, m.normalized_shape[0], "normalized_shape", path))


def _group_norm(m, path, bound):
    return Mapped("GroupNorm", {"num_groups": m.num_groups, "eps": m.eps, "affine": m.affine},
                  [("in", bound["input"])], _size_check("in", 0, m.num_channels, "num_channels", path))


# ---- dense ----------------------------------------------------------------------

def _linear(m, path, bound):
    return Mapped("Linear", {"out_features": m.out_features, "bias": m.bias is not None}, [("in", bound["input"])],
                  _size_check("in", -1, m.in_features, "in_features", path))


def _dropout(m, path, bound):
    return Mapped(_kind(m), {"p": float(m.p)}, [("in", bound["input"])])


def _flatten(m, path, bound):
    return Mapped("Flatten", {"start_dim": m.start_dim, "end_dim": m.end_dim}, [("in", bound["input"])])


def _identity(m, path, bound):
    args = list(bound.values())
    return Mapped("Identity", {}, [("in", args[0])])


# ---- activations -----------------------------------------------------------------

def _activation(*names):
    def describe(m, path, bound):
        params = {name: getattr(m, name) for name in names}
        return Mapped(_kind(m), params, [("in", next(iter(bound.values())))])
    return describe


def _softmax(m, path, bound):
    if m.dim is None:
        raise _refuse(path, m, "dim=None picks a dimension by the input's rank; give dim")
    return Mapped(_kind(m), {"dim": m.dim}, [("in", bound["input"])])


def _prelu(m, path, bound):
    return Mapped("PReLU", {"num_parameters": m.num_parameters, "init": float(m.weight.detach().flatten()[0])},
                  [("in", bound["input"])])


# ---- sequences ---------------------------------------------------------------------

def _embedding(m, path, bound):
    for name in ("max_norm",):
        if getattr(m, name) is not None:
            raise _refuse(path, m, f"{name}={getattr(m, name)}; the block looks vectors up as they are")
    if m.scale_grad_by_freq or m.sparse:
        raise _refuse(path, m, "scale_grad_by_freq or sparse gradients; the block has neither")
    return Mapped("Embedding", {"num_embeddings": m.num_embeddings, "embedding_dim": m.embedding_dim,
                                "padding_idx": m.padding_idx}, [("in", bound["input"])])


def _recurrent(m, path, bound):
    kind = _kind(m)
    own = library_kind(m)
    block = kind.replace("Layer", "")
    if not m.batch_first:
        raise _refuse(path, m, "batch_first=False reads [L, B, F]; blocks take the batch first: "
                               "construct it with batch_first=True")
    if getattr(m, "proj_size", 0):
        raise _refuse(path, m, "proj_size; the block has no projection")
    if bound.get("hx") is not None:
        raise _refuse(path, m, "is given a starting state (hx); the block starts from zeros")
    params = {"hidden_size": m.hidden_size, "num_layers": m.num_layers, "bias": m.bias,
              "dropout": float(m.dropout), "bidirectional": m.bidirectional}
    if block == "RNN":
        params["nonlinearity"] = m.nonlinearity
    if own is not None:
        params["output"] = m.output
    return Mapped(block, params, [("in", bound["input"] if "input" in bound else bound["x"])],
                  _size_check("in", -1, m.input_size, "input_size", path),
                  result="tensor" if own is not None else "recurrent",
                  extra={"bidirectional": m.bidirectional, "num_layers": m.num_layers})


def _attention(m, path, bound):
    own = library_kind(m)
    if not m.batch_first:
        raise _refuse(path, m, "batch_first=False reads [L, B, E]; blocks take the batch first: "
                               "construct it with batch_first=True")
    if not m._qkv_same_embed_dim:
        raise _refuse(path, m, "kdim or vdim differ from embed_dim; the block projects keys and values from E")
    if m.bias_k is not None or m.add_zero_attn:
        raise _refuse(path, m, "add_bias_kv or add_zero_attn; the block has neither")
    params = {"num_heads": m.num_heads, "dropout": float(m.dropout), "bias": m.in_proj_bias is not None}
    check = _size_check("in", -1, m.embed_dim, "embed_dim", path)
    if own == "SelfAttention":
        return Mapped("MultiheadAttention", {**params, "causal": m.causal}, [("in", bound["x"])], check)
    _only_defaults(m, path, bound, {"key_padding_mask": None, "attn_mask": None, "is_causal": False},
                   "MultiheadAttention")
    q, k, v = bound["query"], bound["key"], bound["value"]
    if k is not v:
        raise _refuse(path, m, "keys and values are different tensors; the block takes keys and values "
                               "from one (self-attention: q is k is v; cross-attention: k is v)")
    if q is k:
        return Mapped("MultiheadAttention", params, [("in", q)], check, result="attention")
    return Mapped("MultiheadAttention", {**params, "cross": True}, [("in", q), ("context", k)], check,
                  result="attention")


def _activation_name(layer, path) -> str:
    code = getattr(layer, "activation_relu_or_gelu", 0)
    act = getattr(layer, "activation", None)
    if code == 1 or act is F.relu or isinstance(act, nn.ReLU):
        return "relu"
    if code == 2 or act is F.gelu or (isinstance(act, nn.GELU) and act.approximate == "none"):
        return "gelu"
    raise _refuse(path, layer, f"activation {act!r}; the block's is relu or gelu")


def _transformer_params(layer, path) -> dict[str, Any]:
    if not layer.self_attn.batch_first:
        raise _refuse(path, layer, "batch_first=False reads [L, B, E]; blocks take the batch first: "
                                   "construct it with batch_first=True")
    return {"nhead": layer.self_attn.num_heads, "dim_feedforward": layer.linear1.out_features,
            "dropout": float(layer.dropout.p), "activation": _activation_name(layer, path),
            "layer_norm_eps": layer.norm1.eps, "norm_first": layer.norm_first,
            "bias": layer.linear1.bias is not None}


def _encoder_layer(m, path, bound):
    _only_defaults(m, path, bound, {"src_mask": None, "src_key_padding_mask": None, "is_causal": False},
                   "TransformerEncoderLayer")
    return Mapped("TransformerEncoderLayer", _transformer_params(m, path), [("in", bound["src"])],
                  _size_check("in", -1, m.self_attn.embed_dim, "d_model", path))


def _decoder_layer(m, path, bound):
    _only_defaults(m, path, bound, {"tgt_mask": None, "memory_mask": None, "tgt_key_padding_mask": None,
                                    "memory_key_padding_mask": None, "tgt_is_causal": False,
                                    "memory_is_causal": False}, "TransformerDecoderLayer")
    return Mapped("TransformerDecoderLayer", _transformer_params(m, path),
                  [("tgt", bound["tgt"]), ("memory", bound["memory"])],
                  _size_check("tgt", -1, m.self_attn.embed_dim, "d_model", path))


def _positional(m, path, bound):
    return Mapped("PositionalEncoding", {"dropout": float(m.dropout.p), "max_len": m.max_len},
                  [("in", bound["x"])], _size_check("in", -1, m.d_model, "d_model", path))


def _gcn(m, path, bound):
    return Mapped("GCNConv", {"out_channels": m.out_channels, "bias": m.bias is not None,
                              "add_self_loops": m.add_self_loops, "normalize": m.normalize},
                  [("x", bound["x"]), ("adj", bound["adj"])],
                  _size_check("x", -1, m.in_channels, "in_channels", path))


def _gat(m, path, bound):
    return Mapped("GATConv", {"out_channels": m.out_channels, "heads": m.heads, "concat": m.concat,
                              "negative_slope": m.negative_slope, "dropout": float(m.dropout),
                              "add_self_loops": m.add_self_loops, "bias": m.bias is not None},
                  [("x", bound["x"]), ("adj", bound["adj"])],
                  _size_check("x", -1, m.in_channels, "in_channels", path))


def _heaviside(m, path, bound):
    return Mapped("Heaviside", {}, [("in", bound["x"])])


DESCRIBE: dict[str, Callable[[nn.Module, str, dict[str, Any]], Mapped]] = {
    "Conv1d": _conv, "Conv2d": _conv, "ConvTranspose2d": _conv,
    "MaxPool1d": _max_pool, "MaxPool2d": _max_pool, "AvgPool1d": _avg_pool, "AvgPool2d": _avg_pool,
    "AdaptiveAvgPool2d": _adaptive, "AdaptiveMaxPool2d": _adaptive, "Upsample": _upsample,
    "BatchNorm1d": _batch_norm, "BatchNorm2d": _batch_norm, "InstanceNorm2d": _batch_norm,
    "LayerNorm": _layer_norm, "GroupNorm": _group_norm,
    "Linear": _linear, "Dropout": _dropout, "Dropout2d": _dropout, "Flatten": _flatten, "Identity": _identity,
    "ReLU": _activation(), "ReLU6": _activation(), "Sigmoid": _activation(), "Tanh": _activation(),
    "SiLU": _activation(), "Hardswish": _activation(), "Hardsigmoid": _activation(),
    "LeakyReLU": _activation("negative_slope"), "ELU": _activation("alpha"), "GELU": _activation("approximate"),
    "Softplus": _activation("beta", "threshold"), "PReLU": _prelu,
    "Softmax": _softmax, "LogSoftmax": _softmax,
    "Embedding": _embedding,
    "LSTM": _recurrent, "GRU": _recurrent, "RNN": _recurrent,
    "LSTMLayer": _recurrent, "GRULayer": _recurrent, "RNNLayer": _recurrent,
    "MultiheadAttention": _attention, "SelfAttention": _attention,
    "TransformerEncoderLayer": _encoder_layer, "TransformerDecoderLayer": _decoder_layer,
    "PositionalEncoding": _positional, "GCNConv": _gcn, "GATConv": _gat, "Heaviside": _heaviside,
}


def describe(module: nn.Module, path: str, args: tuple, kwargs: dict) -> Mapped | None:
    """The block ``module`` becomes, or None when it has none."""
    kind = _kind(module)
    fn = DESCRIBE.get(kind)
    if fn is None:
        return None
    return fn(module, path, _bind(module, path, args, kwargs))
