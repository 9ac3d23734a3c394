"""Matrix multiplication with NumPy's batch semantics."""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from ..types import TensorType, broadcast_shapes, format_shape
from .leaf import constant
from .registry import Case, Op, apply, public, register, require_same_dtype
from .shape import transpose


@register
class MatMul(Op):
    """``a @ b`` for rank >= 2: (..., n, k) @ (..., k, m) -> (..., m), batch dimensions broadcast."""

    name = "matmul"
    planned = True
    batched = True
    derivative_text = ("g @ bᵀ", "aᵀ @ g")
    cases = (Case(((3, 4), (4, 5))), Case(((2, 3, 4), (4, 5))), Case(((2, 1, 3, 4), (3, 4, 2))))

    def infer(self, types):
        a, b = types
        pair = f"{format_shape(a.shape)} @ {format_shape(b.shape)}"
        if a.rank < 2 or b.rank < 2:
            raise ShapeError(f"needs rank >= 2 operands, got {pair}")
        if a.shape[-1] != b.shape[-2]:
            raise ShapeError(f"cannot multiply {pair}: inner dimensions {a.shape[-1]} and {b.shape[-2]} differ")
        require_same_dtype((a, b))
        try:
            batch = broadcast_shapes(a.shape[:-2], b.shape[:-2])
        except ValueError as error:
            raise ShapeError(f"batch dimensions of {pair} do not broadcast: {error}") from None
        return TensorType(batch + (a.shape[-2], b.shape[-1]), a.dtype)

    def keeps_rows(self, rows, shapes, out) -> bool:
        return rows[0] and not rows[1] and len(shapes[1]) == 2  # row i of a @ b is row i of a times all of b

    def reference(self, a, b):
        return np.matmul(a, b)

    def vjp(self, inputs, out, grad):
        a, b = inputs
        # Batch broadcasting is undone by autodiff's unbroadcast, like any other broadcast.
        return [matmul(grad, swap_last(b)), matmul(swap_last(a), grad)]


def swap_last(x):
    axes = list(range(x.ndim))
    axes[-2:] = axes[-1], axes[-2]
    return transpose(x, axes)


@public
def matmul(a, b):
    """``a @ b``; a 1-D operand is a row (left) or column (right) vector, as in NumPy."""
    a = a if hasattr(a, "node") else constant(a)
    b = b if hasattr(b, "node") else constant(b)
    if a.ndim >= 2 and b.ndim >= 2:
        return apply("matmul", a, b)
    if a.ndim == 0 or b.ndim == 0:
        apply("matmul", a, b)  # raises the rank error on the user's line
    left = a.reshape((1,) + a.shape) if a.ndim == 1 else a
    right = b.reshape(b.shape + (1,)) if b.ndim == 1 else b
    result = apply("matmul", left, right)
    shape = result.shape
    if a.ndim == 1:
        shape = shape[:-2] + shape[-1:]
    if b.ndim == 1:
        shape = shape[:-1]
    return result.reshape(shape)
