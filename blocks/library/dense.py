"""Dense layers: Linear and the normalisation and dropout that sit around it."""

from __future__ import annotations

from ..registry import Category, register, register_category
from ..spec import BlockSpec, Constructor, Param, ShapeError
from ._rules import (
    EPS, IN, OUT, affine_count, batch_norm_constructor, batch_norm_params, linear_count, need_rank, nn_class,
    no_params, same_shape,
)

C = register_category(Category("Dense", color="#4a7fc1", icon="dense.svg")).name


def _linear_infer(s, p):
    shape = s["in"]
    if not shape:
        raise ShapeError("in: expected [..., in_features], got a scalar", "in")
    return {"out": (*shape[:-1], p["out_features"])}


def _linear_constructor(s, p):
    return Constructor(nn_class("Linear"), (s["in"][-1], p["out_features"]), {"bias": p["bias"]})


register(BlockSpec(
    name="Linear", category=C,
    doc="Fully connected layer, y = x W^T + b; in_features is the input's last size.",
    inputs=IN, outputs=OUT,
    params=(
        Param("out_features", "int", 10, "size of each output sample", min=1),
        Param("bias", "bool", True, "learn an additive bias b"),
    ),
    infer=_linear_infer, constructor=_linear_constructor, key_params=("out_features",),
    param_count=lambda s, p: linear_count(s["in"][-1], p["out_features"], p["bias"]),
))


def _dropout_constructor(s, p):
    return Constructor(nn_class("Dropout"), (p["p"],))


register(BlockSpec(
    name="Dropout", category=C,
    doc="While training, zeroes each value with probability p and scales the rest by 1/(1-p); identity at evaluation.",
    inputs=IN, outputs=OUT,
    params=(Param("p", "float", 0.5, "probability of zeroing a value", min=0.0, max=1.0),),
    infer=same_shape, constructor=_dropout_constructor, key_params=("p",), param_count=no_params,
))


def _bn1d_infer(s, p):
    need_rank(s["in"], (1, 2), "[C] or [C, L]")
    return {"out": s["in"]}


register(BlockSpec(
    name="BatchNorm1d", category=C,
    doc="Normalises each feature over the batch, y = (x - mean) / sqrt(var + eps) * gamma + beta.",
    inputs=IN, outputs=OUT, params=batch_norm_params(), infer=_bn1d_infer,
    constructor=batch_norm_constructor("BatchNorm1d"), param_count=affine_count,
))


def _ln_infer(s, p):
    if not s["in"]:
        raise ShapeError("in: expected [..., features], got a scalar", "in")
    return {"out": s["in"]}


def _ln_constructor(s, p):
    return Constructor(nn_class("LayerNorm"), (s["in"][-1],),
                       {"eps": p["eps"], "elementwise_affine": p["elementwise_affine"], "bias": p["bias"]})


register(BlockSpec(
    name="LayerNorm", category=C,
    doc="Normalises each sample over its last dimension, y = (x - mean) / sqrt(var + eps) * gamma + beta.",
    inputs=IN, outputs=OUT,
    params=(
        EPS,
        Param("elementwise_affine", "bool", True, "learn a per-feature scale gamma"),
        Param("bias", "bool", True, "learn a per-feature shift beta (with elementwise_affine)"),
    ),
    infer=_ln_infer, constructor=_ln_constructor,
    # gamma and (with bias) beta over the last size; neither without elementwise_affine
    param_count=lambda s, p: s["in"][-1] * (1 + p["bias"]) if p["elementwise_affine"] else 0,
))
