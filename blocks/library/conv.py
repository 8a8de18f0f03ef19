"""Convolution, pooling, batch normalisation and upsampling over [C, L] and [C, H, W]."""

from __future__ import annotations

from ..registry import Category, register, register_category
from ..spec import BlockSpec, Constructor, Param, ShapeError
from ._rules import (
    EPS, IN, OUT, affine_count, batch_norm_constructor, batch_norm_params, fmt, need_rank, nn_class, no_params, pair,
    spatial,
)

C = register_category(Category("Convolution", color="#8a62c2", icon="convolution.svg")).name
LAYOUT = {1: "[C, L]", 2: "[C, H, W]"}


def _conv_params(n):
    return (
        Param("out_channels", "int", 16, "number of filters, the output's channels", min=1),
        Param("kernel_size", "ints", 3, "size of each filter", min=1, length=n),
        Param("stride", "ints", 1, "step between filter positions", min=1, length=n),
        Param("padding", "ints", 0, "zeros added on every side", min=0, length=n),
        Param("dilation", "ints", 1, "spacing between filter taps", min=1, length=n),
        Param("groups", "int", 1, "split channels into groups that do not mix", min=1),
        Param("bias", "bool", True, "learn an additive bias per filter"),
    )


def _check_groups(cin, p):
    g = p["groups"]
    if cin % g or p["out_channels"] % g:
        raise ShapeError(
            f"groups {g} must divide in_channels {cin} and out_channels {p['out_channels']}", "in")


def _conv_constructor(name):
    """``nn.<name>(in_channels, out_channels, kernel_size=..., ...)``; in_channels is the input's."""
    def constructor(s, p):
        rest = dict(p)
        out, kernel = rest.pop("out_channels"), rest.pop("kernel_size")
        return Constructor(nn_class(name), (s["in"][0], out), {"kernel_size": kernel, **rest})
    return constructor


def _conv_count(n):
    """Weights [out, in/groups, *kernel] (a transposed one's are [in, out/groups, *kernel]: as many), and a bias."""
    def count(s, p):
        taps = 1
        for k in pair(p["kernel_size"], n):
            taps *= k
        cin, out = s["in"][0], p["out_channels"]
        return cin // p["groups"] * out * taps + (out if p["bias"] else 0)
    return count


def _conv(n):
    name = f"Conv{n}d"

    def infer(s, p):
        shape = s["in"]
        need_rank(shape, (n + 1,), LAYOUT[n])
        _check_groups(shape[0], p)
        return {"out": (p["out_channels"], *spatial(shape[1:], p, n))}

    dims, out_dims = ("L", "L'") if n == 1 else ("H, W", "H', W'")
    register(BlockSpec(
        name=name, category=C,
        doc=f"{n}-D convolution, y = b + sum_k W_k * x_k over in_channels; [C, {dims}] -> [out_channels, {out_dims}].",
        inputs=IN, outputs=OUT, params=_conv_params(n), infer=infer, constructor=_conv_constructor(name),
        key_params=("out_channels", "kernel_size", "stride", "padding"), param_count=_conv_count(n),
    ))


_conv(1)
_conv(2)


def _convt_infer(s, p):
    shape = s["in"]
    need_rank(shape, (3,), LAYOUT[2])
    _check_groups(shape[0], p)
    out = []
    for size, k, st, pad, op, d in zip(
        shape[1:], pair(p["kernel_size"], 2), pair(p["stride"], 2), pair(p["padding"], 2),
        pair(p["output_padding"], 2), pair(p["dilation"], 2),
    ):
        if op >= max(st, d):
            raise ShapeError(f"output_padding {op} must be smaller than stride {st} or dilation {d}", "in")
        out.append((size - 1) * st - 2 * pad + d * (k - 1) + op + 1)
    if any(o < 1 for o in out):
        raise ShapeError(f"in: padding too large for {fmt(shape)}", "in")
    return {"out": (p["out_channels"], *out)}


_ct = list(_conv_params(2))
_ct.insert(4, Param("output_padding", "ints", 0, "extra size added to one side of the output", min=0, length=2))
register(BlockSpec(
    name="ConvTranspose2d", category=C,
    doc="Transposed 2-D convolution (learned upsampling): H' = (H-1)*stride - 2*padding + dilation*(k-1) + output_padding + 1.",
    inputs=IN, outputs=OUT, params=tuple(_ct), infer=_convt_infer, constructor=_conv_constructor("ConvTranspose2d"),
    key_params=("out_channels", "kernel_size", "stride"), param_count=_conv_count(2),
))


def _pool(kind, n):
    name = f"{kind}Pool{n}d"
    params = [
        Param("kernel_size", "ints", 2, "window size", min=1, length=n),
        Param("stride", "ints", None, "step between windows (empty: kernel_size)", min=1, length=n, optional=True),
        Param("padding", "ints", 0, "padding on every side", min=0, length=n),
    ]
    if kind == "Max":
        params.append(Param("dilation", "ints", 1, "spacing between window taps", min=1, length=n))
    params.append(Param("ceil_mode", "bool", False, "round the output size up instead of down"))
    if kind == "Avg":
        params.append(Param("count_include_pad", "bool", True, "count padded zeros in the average"))

    def infer(s, p):
        shape = s["in"]
        need_rank(shape, (n + 1,), LAYOUT[n])
        return {"out": (shape[0], *spatial(shape[1:], p, n, pool=True))}

    def constructor(s, p):
        kw = dict(p)
        return Constructor(nn_class(name), (kw.pop("kernel_size"),), kw)

    what = "maximum" if kind == "Max" else "mean"
    register(BlockSpec(
        name=name, category=C,
        doc=f"Takes the {what} over each kernel_size window, per channel; shrinks {LAYOUT[n]} by stride.",
        inputs=IN, outputs=OUT, params=tuple(params), infer=infer, constructor=constructor,
        key_params=("kernel_size", "stride"), param_count=no_params,
    ))


_pool("Max", 1)
_pool("Max", 2)
_pool("Avg", 1)
_pool("Avg", 2)


def _adaptive_infer(s, p):
    shape = s["in"]
    need_rank(shape, (3,), LAYOUT[2])
    return {"out": (shape[0], *pair(p["output_size"], 2))}


def _adaptive(kind, doc):
    name = f"Adaptive{kind}Pool2d"

    def constructor(s, p):
        return Constructor(nn_class(name), (p["output_size"],))

    register(BlockSpec(
        name=name, category=C,
        doc=doc,
        inputs=IN, outputs=OUT,
        params=(Param("output_size", "ints", 1, "target height and width", min=1, length=2),),
        infer=_adaptive_infer, constructor=constructor, key_params=("output_size",), param_count=no_params,
    ))


_adaptive("Avg", "Averages each channel down to output_size whatever the input size; [C, H, W] -> [C, h, w].")
_adaptive("Max", "Takes the maximum over windows that shrink each channel to output_size whatever the input size; "
                 "[C, H, W] -> [C, h, w].")


def _bn2d_infer(s, p):
    need_rank(s["in"], (3,), LAYOUT[2])
    return {"out": s["in"]}


register(BlockSpec(
    name="BatchNorm2d", category=C,
    doc="Normalises each channel over batch and space, y = (x - mean) / sqrt(var + eps) * gamma + beta.",
    inputs=IN, outputs=OUT,
    params=batch_norm_params(" per channel"), infer=_bn2d_infer, constructor=batch_norm_constructor("BatchNorm2d"),
    param_count=affine_count,
))


def _instance_norm_infer(s, p):
    shape = s["in"]
    need_rank(shape, (3,), LAYOUT[2])
    if shape[1] * shape[2] == 1:
        raise ShapeError(f"in: {fmt(shape)} has one value per channel; instance norm needs more than one "
                         "(its variance over H, W would be 0)", "in")
    return {"out": shape}


register(BlockSpec(
    name="InstanceNorm2d", category=C,
    doc="Normalises each channel of each sample over H and W, y = (x - mean) / sqrt(var + eps) * gamma + beta; "
        "style transfer's norm.",
    inputs=IN, outputs=OUT,
    params=(
        EPS,
        Param("momentum", "float", 0.1, "weight of the newest batch in the running statistics", min=0.0, max=1.0),
        Param("affine", "bool", False, "learn a scale gamma and shift beta per channel"),
        Param("track_running_stats", "bool", False,
              "keep running mean and variance and use them at evaluation (else each sample's own)"),
    ),
    infer=_instance_norm_infer, constructor=batch_norm_constructor("InstanceNorm2d"), param_count=affine_count,
))


def _dropout2d_constructor(s, p):
    return Constructor(nn_class("Dropout2d"), (p["p"],))


register(BlockSpec(
    name="Dropout2d", category=C,
    doc="While training, zeroes whole channels with probability p and scales the rest by 1/(1-p); "
        "identity at evaluation.",
    inputs=IN, outputs=OUT,
    params=(Param("p", "float", 0.5, "probability of zeroing a channel", min=0.0, max=1.0),),
    infer=_bn2d_infer, constructor=_dropout2d_constructor, key_params=("p",), param_count=no_params,
))


def _group_norm_infer(s, p):
    shape = s["in"]
    need_rank(shape, (1, 2, 3), "[C], [C, L] or [C, H, W]")
    if shape[0] % p["num_groups"]:
        raise ShapeError(f"in: num_groups {p['num_groups']} must divide the {shape[0]} channels of {fmt(shape)}", "in")
    return {"out": shape}


def _group_norm_constructor(s, p):
    return Constructor(nn_class("GroupNorm"), (p["num_groups"], s["in"][0]), {"eps": p["eps"], "affine": p["affine"]})


register(BlockSpec(
    name="GroupNorm", category=C,
    doc="Normalises each sample over groups of channels, y = (x - mean) / sqrt(var + eps) * gamma + beta, "
        "mean and var per group; needs no batch statistics.",
    inputs=IN, outputs=OUT,
    params=(
        Param("num_groups", "int", 1, "groups the channels are split into; must divide them", min=1),
        EPS,
        Param("affine", "bool", True, "learn a scale gamma and shift beta per channel"),
    ),
    infer=_group_norm_infer, constructor=_group_norm_constructor, key_params=("num_groups",),
    param_count=affine_count,
))


def _upsample_infer(s, p):
    shape = s["in"]
    need_rank(shape, (2, 3), "[C, L] or [C, H, W]")
    f = p["scale_factor"]
    if p["mode"] == "bilinear" and len(shape) != 3:
        raise ShapeError(f"in: bilinear needs [C, H, W], got {fmt(shape)}", "in")
    out = (shape[0], *(int(d * f) for d in shape[1:]))
    if min(out) < 1:
        raise ShapeError(f"in: scale_factor {f} shrinks {fmt(shape)} to the empty {fmt(out)}", "in")
    return {"out": out}


def _upsample_constructor(s, p):
    kw = {"scale_factor": p["scale_factor"], "mode": p["mode"]}
    if p["mode"] == "bilinear":
        kw["align_corners"] = False
    return Constructor(nn_class("Upsample"), kwargs=kw, shown=tuple(kw))


register(BlockSpec(
    name="Upsample", category=C,
    doc="Enlarges each channel by scale_factor, by nearest neighbour or bilinear interpolation.",
    inputs=IN, outputs=OUT,
    params=(
        Param("scale_factor", "float", 2.0, "size multiplier", min=0.01),
        Param("mode", "choice", "nearest", "interpolation", choices=("nearest", "bilinear")),
    ),
    infer=_upsample_infer, constructor=_upsample_constructor, key_params=("scale_factor",), param_count=no_params,
))
