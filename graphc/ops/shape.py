"""Ops that change a value's shape without arithmetic: reshape, transpose, broadcast (and their ``_like`` forms
that take a shape with named dimensions from another value), expand_dims, squeeze, and stop_gradient."""

from __future__ import annotations

import numpy as np
import sympy

from ..errors import ShapeError
from ..types import (
    TensorType,
    as_dim,
    as_shape,
    broadcast_shapes,
    format_shape,
    is_concrete,
    normalize_axis,
    quotient,
    size,
)
from .registry import Case, Op, apply, public, register


def _factors(shape) -> tuple[int, list[str]] | None:
    """A shape's size as its integer factor and its named factors, sorted; None where a dimension is not a product
    of names and integers (a sum, a power)."""
    number, names = 1, []
    for dim in shape:
        for part in dim.args if isinstance(dim, sympy.Mul) else (dim,):
            if isinstance(part, (int, sympy.Integer)):
                number *= int(part)
            elif isinstance(part, sympy.Symbol):
                names.append(part.name)
            else:
                return None
    return number, sorted(names)


def _same_size(a, b) -> bool:
    # Sizes that are products of names compare by their factors; SymPy's algebra only for the rest: it took 34 ms
    # of W4's 43 reshapes, all of them products (time, batch, 256 against batch*time, 256), AMD EPYC, 2026-12-07.
    first, second = _factors(a), _factors(b)
    if first is not None and second is not None:
        return first == second if first[0] and second[0] else first[0] == second[0]
    return sympy.expand(sympy.sympify(size(a)) - sympy.sympify(size(b))) == 0


@register
class Reshape(Op):
    name = "reshape"
    view = True
    sizes = ("shape",)
    layout = True
    derivative_text = ("g reshaped back",)
    cases = (Case(((3, 4),), {"shape": (2, 6)}),)

    def infer(self, types, shape):
        (x,) = types
        if not _same_size(x.shape, shape):
            raise ShapeError(f"cannot reshape {format_shape(x.shape)} to {format_shape(shape)}: sizes differ")
        return TensorType(shape, x.dtype)

    def reference(self, x, shape):
        return np.reshape(x, shape)

    def vjp(self, inputs, out, grad, shape):
        return [reshape_like(grad, inputs[0])]


@register
class Transpose(Op):
    name = "transpose"
    layout = True
    view = True  # a 2-D one is (both backends); an n-D one is a copy, for which keeping x alive is only cautious
    derivative_text = ("g transposed back",)
    cases = (Case(((2, 3, 4),), {"axes": (2, 0, 1)}),)

    def infer(self, types, axes):
        (x,) = types
        if sorted(axes) != list(range(x.rank)):
            raise ShapeError(f"axes {axes} are not a permutation of the {x.rank} axes of {format_shape(x.shape)}")
        return TensorType(tuple(x.shape[a] for a in axes), x.dtype)

    def reference(self, x, axes):
        return np.transpose(x, axes)

    def vjp(self, inputs, out, grad, axes):
        return [transpose(grad, tuple(int(a) for a in np.argsort(axes)))]


@register
class BroadcastTo(Op):
    name = "broadcast_to"
    planned = True
    sizes = ("shape",)
    broadcast = True
    layout = True
    derivative_text = ("g summed over broadcast axes",)
    cases = (Case(((3, 1),), {"shape": (2, 3, 4)}),)

    def infer(self, types, shape):
        (x,) = types
        if broadcast_shapes(x.shape, shape) != tuple(shape):
            raise ShapeError(f"cannot broadcast {format_shape(x.shape)} to {format_shape(shape)}")
        return TensorType(shape, x.dtype)

    def reference(self, x, shape):
        return np.broadcast_to(x, shape).copy()

    def vjp(self, inputs, out, grad, shape):
        return [grad]  # autodiff sums the gradient back to the input's shape


# Derivative rules often need "x's shape" where it has named dimensions. Taking it from x itself (an input of the
# node) keeps every gradient graph self-contained: each named dimension is bound by a leaf of the graph.
@register
class BroadcastLike(Op):
    """x broadcast to the shape of ``like`` (whose values are not used)."""

    name = "broadcast_like"
    planned = True
    broadcast = True
    layout = True
    shape_only = (1,)
    derivative_text = ("g summed over broadcast axes", "")
    cases = (Case(((3, 1), (2, 3, 4))),)

    def infer(self, types):
        x, like = types
        if broadcast_shapes(x.shape, like.shape) != like.shape:
            raise ShapeError(f"cannot broadcast {format_shape(x.shape)} to {format_shape(like.shape)}")
        return TensorType(like.shape, x.dtype)

    def reference(self, x, like):
        return np.broadcast_to(x, like.shape).copy()

    def vjp(self, inputs, out, grad):
        return [grad, None]


@register
class ReshapeLike(Op):
    """x reshaped to the shape of ``like`` (whose values are not used)."""

    name = "reshape_like"
    view = True
    layout = True
    shape_only = (1,)
    derivative_text = ("g reshaped back", "")
    cases = (Case(((3, 4), (2, 6))),)

    def infer(self, types):
        x, like = types
        if not _same_size(x.shape, like.shape):
            raise ShapeError(f"cannot reshape {format_shape(x.shape)} to {format_shape(like.shape)}: sizes differ")
        return TensorType(like.shape, x.dtype)

    def reference(self, x, like):
        return np.reshape(x, like.shape)

    def vjp(self, inputs, out, grad):
        return [reshape_like(grad, inputs[0]), None]


@register
class StopGradient(Op):
    """The identity forward; no gradient flows back through it."""

    name = "stop_gradient"
    view = True
    passthrough = True
    differentiable = False
    cases = (Case(((3, 4),)),)

    def infer(self, types):
        return types[0]

    def reference(self, x):
        return x



# --- public functions --------------------------------------------------------------------------------------------
@public
def reshape(x, shape):
    """Reshape; one entry may be -1 and is inferred (symbolically, if named dimensions are involved)."""
    shape = list(shape)
    if shape.count(-1) > 1:
        raise ShapeError("reshape: at most one dimension can be -1")
    if -1 in shape:
        position = shape.index(-1)
        known = sympy.Integer(1)
        for i, d in enumerate(shape):
            if i != position:
                known *= as_dim(d)
        try:
            inferred = quotient(size(x.shape), known)
        except ValueError:
            inferred = None  # does not divide
        if inferred is None or not (inferred.is_integer and inferred.is_positive or inferred == 0):
            raise ShapeError(f"reshape: cannot infer -1 reshaping {format_shape(x.shape)} to {tuple(shape)}")
        shape[position] = inferred
    shape = as_shape(shape)
    return x if shape == x.shape else apply("reshape", x, shape=shape)


@public
def transpose(x, axes=None):
    axes = tuple(reversed(range(x.ndim))) if axes is None else tuple(normalize_axis(a, x.ndim) for a in axes)
    return x if axes == tuple(range(x.ndim)) else apply("transpose", x, axes=axes)


@public
def broadcast_to(x, shape):
    shape = as_shape(shape)
    return x if shape == x.shape else apply("broadcast_to", x, shape=shape)


def broadcast_like(x, like):
    """x broadcast to like's shape; a plain broadcast_to when that shape has no named dimensions."""
    if x.shape == like.shape:
        return x
    return broadcast_to(x, like.shape) if is_concrete(like.shape) else apply("broadcast_like", x, like)


def reshape_like(x, like):
    """x reshaped to like's shape; a plain reshape when that shape has no named dimensions."""
    if x.shape == like.shape:
        return x
    return reshape(x, like.shape) if is_concrete(like.shape) else apply("reshape_like", x, like)


@public
def expand_dims(x, axis: int):
    axis = normalize_axis(axis, x.ndim + 1)
    return reshape(x, x.shape[:axis] + (1,) + x.shape[axis:])


@public
def squeeze(x, axis: int):
    axis = normalize_axis(axis, x.ndim)
    if x.shape[axis] != 1:
        raise ShapeError(f"squeeze: axis {axis} of {format_shape(x.shape)} has size {x.shape[axis]}, not 1")
    return reshape(x, x.shape[:axis] + x.shape[axis + 1:])


@public
def stop_gradient(x):
    return apply("stop_gradient", x)
