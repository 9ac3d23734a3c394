"""Reductions over axes: sum, max, argmax, and the size of axes (what ``mean`` divides by)."""

from __future__ import annotations

import numpy as np

from ..errors import DTypeError
from ..types import TensorType, is_concrete, normalize_axis
from .elementwise import elementwise
from .leaf import constant
from .registry import Case, Op, apply, public, register
from .shape import broadcast_like


def normalize_axes(axis, rank: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(rank))
    if isinstance(axis, int):
        axis = (axis,)
    return tuple(sorted({normalize_axis(a, rank) for a in axis}))


def reduced_shape(shape, axes, keepdims: bool):
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)


class Reduction(Op):
    def infer(self, types, axes, keepdims):
        (x,) = types
        for axis in axes:
            normalize_axis(axis, x.rank)
        if x.dtype.kind == "b":
            raise DTypeError("cannot reduce a bool tensor; cast it first with .astype()")
        return TensorType(reduced_shape(x.shape, axes, keepdims), x.dtype)


def _kept(tensor, x, axes, keepdims):
    """``tensor`` (a reduction's result or gradient) with the reduced axes present as size 1."""
    return tensor if keepdims else tensor.reshape(reduced_shape(x.shape, axes, True))


@register
class Sum(Reduction):
    name = "sum"
    planned = True
    derivative_text = ("g broadcast back",)
    cases = (Case(((3, 4),), {"axes": (1,), "keepdims": False}), Case(((2, 3, 4),), {"axes": (0, 2), "keepdims": True}))

    def reference(self, x, axes, keepdims):
        return np.sum(x, axis=axes, keepdims=keepdims, dtype=x.dtype)

    def vjp(self, inputs, out, grad, axes, keepdims):
        (x,) = inputs
        return [broadcast_like(_kept(grad, x, axes, keepdims), x)]


@register
class Max(Reduction):
    name = "max"
    planned = True
    derivative_text = ("g where x is the max",)
    cases = (Case(((3, 4),), {"axes": (1,), "keepdims": False}), Case(((2, 3, 4),), {"axes": (0, 2), "keepdims": True}))

    def reference(self, x, axes, keepdims):
        return np.max(x, axis=axes, keepdims=keepdims)

    def vjp(self, inputs, out, grad, axes, keepdims):
        (x,) = inputs
        mask = elementwise("equal", x, _kept(out, x, axes, keepdims)).astype(x.dtype)
        ties = sum(mask, axes, keepdims=True)  # tied maxima share the gradient equally
        return [mask * (_kept(grad, x, axes, keepdims) / ties)]


@register
class ArgMax(Op):
    name = "argmax"
    planned = True
    differentiable = False
    cases = (Case(((3, 4),), {"axis": 1}),)

    def infer(self, types, axis):
        (x,) = types
        return TensorType(reduced_shape(x.shape, (normalize_axis(axis, x.rank),), False), np.dtype("int64"))

    def reference(self, x, axis):
        return np.argmax(x, axis=axis).astype(np.int64)


@register
class AxesSize(Op):
    """The number of elements in the given axes of x, as a scalar of x's dtype (for named dimensions)."""

    name = "axes_size"
    planned = True
    shape_only = (0,)
    differentiable = False
    cases = (Case(((3, 4),), {"axes": (0, 1)}),)

    def infer(self, types, axes):
        return TensorType((), types[0].dtype)

    def reference(self, x, axes):
        return np.asarray(np.prod([x.shape[a] for a in axes], dtype=np.int64), dtype=x.dtype)


@public
def sum(x, axis=None, keepdims: bool = False):  # noqa: A001 - mirrors numpy.sum
    return apply("sum", x, axes=normalize_axes(axis, x.ndim), keepdims=bool(keepdims))


@public
def max(x, axis=None, keepdims: bool = False):  # noqa: A001 - mirrors numpy.max
    return apply("max", x, axes=normalize_axes(axis, x.ndim), keepdims=bool(keepdims))


def axes_size(x, axes):
    """How many elements the axes hold: a constant when their sizes are known, else computed when run."""
    dims = [x.shape[a] for a in axes]
    if is_concrete(tuple(dims)):
        return constant(float(np.prod(dims, dtype=np.int64)), x.dtype)
    return apply("axes_size", x, axes=tuple(axes))


@public
def mean(x, axis=None, keepdims: bool = False):
    axes = normalize_axes(axis, x.ndim)
    return sum(x, axes, keepdims) / axes_size(x, axes)


@public
def argmax(x, axis: int = -1):
    return apply("argmax", x, axis=normalize_axis(axis, x.ndim))
