"""Convolution and pooling size rules agree with torch for any sizes, strides, paddings and dilations.

The rule may accept an input only if torch runs it to exactly the declared
shape, and may refuse it only if torch refuses it too (or would give an empty
output, which the editor reports as an error).
"""

from __future__ import annotations

import pytest
import torch
from fuzzing import examples
from hypothesis import given, settings
from hypothesis import strategies as st

import blocks
from blocks import ShapeError

torch.set_num_threads(1)

small = st.integers(1, 4)


def agree(name, shape, given_params):
    spec = blocks.get(name)
    params = spec.coerce_params(given_params)
    try:
        declared = spec.infer({"in": shape}, params)["out"]
    except ShapeError:
        declared = None
    try:
        with torch.no_grad():
            real = tuple(spec.make({"in": shape}, params)(torch.randn(1, *shape)).shape[1:])
        if any(d < 1 for d in real):
            real = None
    except RuntimeError:
        real = None
    assert declared == real, f"{name} on {list(shape)} with {given_params}: rule {declared}, torch {real}"


@settings(max_examples=examples(60), deadline=None)
@given(size=st.integers(1, 12), kernel=small, stride=st.none() | small, padding=st.integers(0, 2),
       dilation=st.integers(1, 3), ceil=st.booleans(), kind=st.sampled_from(["MaxPool2d", "MaxPool1d"]))
def test_max_pool_sizes(size, kernel, stride, padding, dilation, ceil, kind):
    shape = (2, size, size + 1) if kind == "MaxPool2d" else (2, size)
    agree(kind, shape, {"kernel_size": kernel, "stride": stride, "padding": padding,
                        "dilation": dilation, "ceil_mode": ceil})


@settings(max_examples=examples(60), deadline=None)
@given(size=st.integers(1, 12), kernel=small, stride=st.none() | small, padding=st.integers(0, 2),
       ceil=st.booleans(), include=st.booleans())
def test_avg_pool_sizes(size, kernel, stride, padding, ceil, include):
    agree("AvgPool2d", (2, size, size + 2), {"kernel_size": kernel, "stride": stride, "padding": padding,
                                             "ceil_mode": ceil, "count_include_pad": include})


@settings(max_examples=examples(60), deadline=None)
@given(size=st.integers(1, 12), kernel=small, stride=small, padding=st.integers(0, 3), dilation=st.integers(1, 3),
       groups=st.sampled_from([1, 2]), kind=st.sampled_from(["Conv2d", "Conv1d"]))
def test_conv_sizes(size, kernel, stride, padding, dilation, groups, kind):
    shape = (4, size, size + 1) if kind == "Conv2d" else (4, size)
    agree(kind, shape, {"out_channels": 2, "kernel_size": kernel, "stride": stride, "padding": padding,
                        "dilation": dilation, "groups": groups})


@settings(max_examples=examples(60), deadline=None)
@given(size=st.integers(1, 8), kernel=small, stride=small, padding=st.integers(0, 3),
       output_padding=st.integers(0, 2), dilation=st.integers(1, 3))
def test_conv_transpose_sizes(size, kernel, stride, padding, output_padding, dilation):
    agree("ConvTranspose2d", (2, size, size + 1),
          {"out_channels": 2, "kernel_size": kernel, "stride": stride, "padding": padding,
           "output_padding": output_padding, "dilation": dilation})


@pytest.mark.parametrize("scale", [0.5, 1.5, 2.0, 3.0, 0.34])
@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_upsample_sizes(scale, mode):
    for size in range(1, 9):
        agree("Upsample", (2, size, size + 3), {"scale_factor": scale, "mode": mode})
