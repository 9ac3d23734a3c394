"""Convolution over time for text (math.md's text CNN): ``Conv1D`` over a (time, batch, channels) sequence, and
pooling over time.

The convolution is built from ops graphc already has, so it differentiates, optimizes and compiles like the rest:
the ``width`` shifted views of the (zero-padded) sequence are concatenated along the channels into one
(time', batch, width·inputs) window tensor, and one matrix product with the kernel gives every output step.
"""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError, user_location
from ..ops import broadcast_to, concat, constant
from ..tensor import Tensor, scope
from .layers import Layer, activation


class Conv1D(Layer):
    """``y[t] = g(b + Σ_j x[t·stride + j − padding] · W[j])`` over the time axis of ``x`` (time, batch, inputs),
    with ``padding`` zero steps at both ends: output (time', batch, outputs), time' = ⌊(time + 2·padding − width) /
    stride⌋ + 1. Parameters: ``W`` (width, inputs, outputs) and ``b`` (outputs,); PyTorch's ``Conv1d.weight``
    (outputs, inputs, width) is ``W`` transposed by axes (2, 1, 0) (``graphc.interop.from_torch`` maps it).

    A stride above 1 keeps every stride-th step of the stride-1 result, which works for a named time dimension and
    computes stride times the products it needs."""

    def __init__(self, inputs: int, outputs: int, width: int, activation_name=None, *, stride: int = 1,
                 padding: int = 0, name: str = "conv", init: str = "glorot_uniform", dtype="float32"):
        super().__init__(name, dtype)
        if width < 1 or stride < 1 or padding < 0:
            raise ShapeError(f"Conv1D needs width >= 1, stride >= 1 and padding >= 0, not width {width}, stride "
                             f"{stride}, padding {padding}", user_location())
        self.inputs, self.outputs, self.width = inputs, outputs, width
        self.stride, self.padding = stride, padding
        self.function = activation(activation_name)
        self.W = self.param("W", (width, inputs, outputs), init)
        self.b = self.param("b", (outputs,), "zeros")

    def __call__(self, x: Tensor) -> Tensor:
        if x.ndim != 3 or x.shape[2] != self.inputs:
            raise ShapeError(f"{self.name}: Conv1D({self.inputs} -> {self.outputs}) takes (time, batch, "
                             f"{self.inputs}), not {tuple(x.shape)}", user_location())
        with scope(self.name):
            if self.padding:
                zeros = broadcast_to(constant(np.zeros((self.padding, 1, self.inputs), self.dtype)),
                                     (self.padding, x.shape[1], self.inputs))
                x = concat([zeros, x, zeros], axis=0)
            # window j holds steps j .. time - width + j, so window j at row t is x[t + j]
            last = self.width - 1
            windows = concat([x[j: (j - last) or None] for j in range(self.width)], axis=2)
            y = windows @ self.W.reshape(self.width * self.inputs, self.outputs) + self.b
            if self.stride > 1:
                y = y[:: self.stride]
            return self.function(y) if self.function else y


def pool_over_time(x: Tensor, how: str = "max") -> Tensor:
    """(time, batch, channels) -> (batch, channels): the maximum or the mean over the time axis."""
    if how not in ("max", "mean"):
        raise ShapeError(f"pooling over time is 'max' or 'mean', not {how!r}", user_location())
    return x.max(axis=0) if how == "max" else x.mean(axis=0)
