"""An activation block's curve and slope come from its real module, and the shares of a
histogram's inputs that fall where the slope is flat (saturated) or 0 (dead) are counted."""

from __future__ import annotations

import math

import numpy as np
import pytest

import blocks
from studio.training.activation_curve import ActivationFunction, input_band, is_elementwise_activation


def function(name: str, **params) -> ActivationFunction:
    return ActivationFunction(blocks.get(name), params)


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


FORMULAS = {
    "Sigmoid": ({}, sigmoid, lambda x: sigmoid(x) * (1 - sigmoid(x))),
    "Tanh": ({}, math.tanh, lambda x: 1 - math.tanh(x) ** 2),
    "ReLU": ({}, lambda x: max(0.0, x), lambda x: float(x > 0)),
    "LeakyReLU": ({"negative_slope": 0.2}, lambda x: x if x > 0 else 0.2 * x, lambda x: 1.0 if x > 0 else 0.2),
}


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_curve_and_slope_match_the_formula(name):
    params, f, slope = FORMULAS[name]
    curve = function(name, **params).curve(-4.5, 3.5, points=9)  # -4.5, -3.5, ..., 3.5: never on a kink
    assert curve.xs.tolist() == pytest.approx([-4.5 + i for i in range(9)])
    assert curve.ys.tolist() == pytest.approx([f(x) for x in curve.xs], abs=1e-9)
    assert curve.slopes.tolist() == pytest.approx([slope(x) for x in curve.xs], abs=1e-9)


def test_shares_of_a_known_histogram():
    edges = np.array([-8.0, -4.0, -1.0, 0.0, 1.0, 4.0, 8.0])
    counts = np.array([10, 20, 30, 40, 0, 0])
    relu = function("ReLU").input_shares(counts, edges)
    # everything below 0 is dead, the 40 in (0, 1] pass the gradient whole
    assert (relu.dead, relu.saturated, relu.mean_slope, relu.total) == pytest.approx((0.6, 0.0, 0.4, 100))
    assert relu.flat_per_bin.tolist() == [1, 1, 1, 0, 0, 0]
    # sigmoid: f' < 0.05 * 0.25 where |x| > 4.37, so in (-8, -4] only the part below -4.37 is flat
    sig = function("Sigmoid").input_shares(np.array([10, 0, 0, 0, 0, 30]), edges)
    flat = np.array([(x < -4.37) for x in -8 + 4 * (np.arange(8) + 0.5) / 8]).mean()  # the bin's 8 points
    assert sig.saturated == pytest.approx((10 * flat + 30 * flat) / 40)
    assert sig.dead == 0.0
    assert sig.saturated > 0.8
    # LeakyReLU(0.2): its slope never falls below 5% of its peak, however negative the inputs
    leaky = function("LeakyReLU", negative_slope=0.2).input_shares(counts, edges)
    assert (leaky.saturated, leaky.dead) == (0.0, 0.0)
    assert leaky.mean_slope == pytest.approx(0.2 * 0.6 + 0.4)


def test_what_has_a_curve_and_what_is_refused():
    assert is_elementwise_activation(blocks.get("GELU"))
    assert not is_elementwise_activation(blocks.get("Softmax"))
    assert not is_elementwise_activation(blocks.get("Linear"))
    with pytest.raises(ValueError, match="Softmax is not an elementwise activation"):
        function("Softmax", dim=-1)
    with pytest.raises(ValueError, match="one more edge than counts"):
        function("ReLU").input_shares(np.ones(3), np.arange(3.0))
    assert function("Softplus", beta=2.0).peak == pytest.approx(1.0, abs=1e-6)
    prelu = function("PReLU", num_parameters=4, init=0.25).curve(-1.0, 1.0, points=2)  # one slope per channel
    assert (prelu.ys.tolist(), prelu.slopes.tolist()) == ([-0.25, 1.0], [0.25, 1.0])
    assert input_band(np.array([0, 5, 5, 0]), np.array([-4.0, -2.0, 0.0, 2.0, 4.0])) == pytest.approx((-2.4, 2.4))
