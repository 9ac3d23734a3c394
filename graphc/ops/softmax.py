"""Softmax and log-softmax over one axis, computed with the maximum subtracted so no exponent overflows."""

from __future__ import annotations

import numpy as np

from ..types import TensorType, normalize_axis
from .elementwise import elementwise
from .registry import Case, Op, apply, public, register, require_float


class AxisOp(Op):
    stable_at_extremes = True
    cases = (Case(((3, 5),), {"axis": 1}), Case(((2, 3, 4),), {"axis": 0}))

    def infer(self, types, axis):
        (x,) = types
        require_float(self.name, types)
        normalize_axis(axis, x.rank)
        return TensorType(x.shape, x.dtype)


def log_softmax_of(x, axis):
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


@register
class Softmax(AxisOp):
    name = "softmax"
    planned = True
    positive = True
    derivative_text = ("y ⊙ (g − Σ g⊙y)",)

    def reference(self, x, axis):
        return np.exp(log_softmax_of(x, axis))

    def vjp(self, inputs, out, grad, axis):
        # J^T g = y * (g - <g, y>) along the axis
        return [out * (grad - (grad * out).sum(axis, keepdims=True))]


@register
class LogSoftmax(AxisOp):
    name = "log_softmax"
    planned = True
    derivative_text = ("g − softmax(x) Σ g",)

    def reference(self, x, axis):
        return log_softmax_of(x, axis)

    def vjp(self, inputs, out, grad, axis):
        # d log_softmax = I - softmax: g - softmax(x) * sum(g)
        return [grad - elementwise("exp", out) * grad.sum(axis, keepdims=True)]


@public
def softmax(x, axis: int = -1):
    return apply("softmax", x, axis=normalize_axis(axis, x.ndim))


@public
def log_softmax(x, axis: int = -1):
    return apply("log_softmax", x, axis=normalize_axis(axis, x.ndim))
