"""Activation functions, each with its formula in the doc the palette shows."""

from __future__ import annotations

from ..registry import register
from ..spec import BlockSpec, Param
from ._rules import IN, OUT, dim_index, same_shape

C = "Activation"


def _simple(name, doc, params=(), make=None, aliases=()):
    def build(s, p):
        if make is not None:
            return make(p)
        import torch.nn as nn
        return getattr(nn, name)(**p)

    register(BlockSpec(name=name, category=C, doc=doc, inputs=IN, outputs=OUT, params=params,
                       infer=same_shape, build=build, aliases=aliases))


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


def _heaviside(p):
    from .modules import Heaviside
    return Heaviside()


_simple("Heaviside", "The perceptron's step, y = 1 if x > 0 else 0 (gradient passed straight through).",
        make=_heaviside, aliases=("Step",))


def _dim_checked(s, p):
    dim_index(p["dim"], len(s["in"]) + 1)
    return {"out": s["in"]}


for _name, _doc in (
    ("Softmax", "y_i = exp(x_i) / sum_j exp(x_j) along dim; outputs sum to 1."),
    ("LogSoftmax", "y_i = x_i - log sum_j exp(x_j) along dim; pairs with a negative log-likelihood loss."),
):
    def _build(s, p, _n=_name):
        import torch.nn as nn
        return getattr(nn, _n)(dim=p["dim"])

    register(BlockSpec(name=_name, category=C, doc=_doc, inputs=IN, outputs=OUT,
                       params=(Param("dim", "int", -1, "dimension to normalise over (batch is 0)"),),
                       infer=_dim_checked, build=_build))
