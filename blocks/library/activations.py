"""Activation functions, each with its formula in the doc the palette shows."""

from __future__ import annotations

from ..registry import Category, register, register_category
from ..spec import BlockSpec, Constructor, Param, ShapeError
from ._rules import IN, OUT, dim_index, fmt, library_class, nn_class, no_params, same_shape

C = register_category(Category("Activation", color="#d0823a", icon="activation.svg")).name


def _simple(name, doc, params=(), cls=nn_class, aliases=()):
    """An activation whose module is ``cls(name)`` called with the block's parameters as keywords."""
    def constructor(s, p):
        return Constructor(cls(name), kwargs=dict(p))

    register(BlockSpec(name=name, category=C, doc=doc, inputs=IN, outputs=OUT, params=params,
                       infer=same_shape, constructor=constructor, aliases=aliases, param_count=no_params))


_simple("ReLU", "Rectified linear unit, y = max(0, x).")
_simple("LeakyReLU", "y = x if x > 0 else negative_slope * x; keeps a small gradient for x < 0.",
        (Param("negative_slope", "float", 0.01, "slope for x < 0"),))
_simple("Sigmoid", "Logistic function, y = 1 / (1 + exp(-x)), squashes to (0, 1).")
_simple("Tanh", "Hyperbolic tangent, y = (e^x - e^-x) / (e^x + e^-x), squashes to (-1, 1).")
_simple("GELU", "Gaussian error linear unit, y = x * Phi(x), Phi the standard normal CDF.",
        (Param("approximate", "choice", "none", "'tanh' uses the tanh approximation", choices=("none", "tanh")),))
_simple("ELU", "Exponential linear unit, y = x if x > 0 else alpha * (exp(x) - 1).",
        (Param("alpha", "float", 1.0, "value approached for large negative x"),))
_simple("SiLU", "Sigmoid linear unit (swish), y = x * sigmoid(x).")
_simple("Heaviside", "The perceptron's step, y = 1 if x > 0 else 0 (gradient passed straight through).",
        cls=library_class, aliases=("Step",))
_simple("ReLU6", "ReLU capped at 6, y = min(max(0, x), 6); the activation of MobileNet.")
_simple("Hardsigmoid", "Piecewise-linear sigmoid, y = min(max(0, x/6 + 1/2), 1).")
_simple("Hardswish", "Piecewise-linear swish, y = x * min(max(0, x + 3), 6) / 6; the activation of MobileNetV3.")
_simple("Softplus", "Smooth ReLU, y = log(1 + exp(beta * x)) / beta; y = x where beta * x > threshold.",
        (Param("beta", "float", 1.0, "steepness; larger is closer to ReLU", min=0.01),
         Param("threshold", "float", 20.0, "above beta * x > threshold the output is x itself")))


def _prelu_infer(s, p):
    shape, n = s["in"], p["num_parameters"]
    channels = shape[0] if shape else 1
    if n not in (1, channels):
        raise ShapeError(
            f"in: num_parameters {n} must be 1 (one slope for all) or the input's channels {channels} "
            f"(the first size of {fmt(shape)})", "in")
    return {"out": shape}


def _prelu_constructor(s, p):
    return Constructor(nn_class("PReLU"), kwargs=dict(p))


register(BlockSpec(
    name="PReLU", category=C,
    doc="Leaky ReLU with a learned slope, y = x if x > 0 else a * x; one a, or one per channel.",
    inputs=IN, outputs=OUT,
    params=(
        Param("num_parameters", "int", 1, "how many slopes a: 1, or the input's channels (its first size)", min=1),
        Param("init", "float", 0.25, "starting value of each slope a"),
    ),
    infer=_prelu_infer, constructor=_prelu_constructor, key_params=("num_parameters",),
    param_count=lambda s, p: p["num_parameters"],
))


def _dim_checked(s, p):
    dim_index(p["dim"], len(s["in"]) + 1)
    return {"out": s["in"]}


for _name, _doc in (
    ("Softmax", "y_i = exp(x_i) / sum_j exp(x_j) along dim; outputs sum to 1."),
    ("LogSoftmax", "y_i = x_i - log sum_j exp(x_j) along dim; pairs with a negative log-likelihood loss."),
):
    def _constructor(s, p, _n=_name):
        return Constructor(nn_class(_n), kwargs={"dim": p["dim"]}, shown=("dim",))

    register(BlockSpec(name=_name, category=C, doc=_doc, inputs=IN, outputs=OUT,
                       params=(Param("dim", "int", -1, "dimension to normalise over (batch is 0)"),),
                       infer=_dim_checked, constructor=_constructor, param_count=no_params))
