"""Numba kernels that generated CPU modules call: stable scalar functions, and row-wise loops for the structured ops.

Structured ops work on a 2-D view ``(rows, n)`` whose last axis is the op's axis; the generated code moves the axis
last and reshapes, so each kernel here is one simple loop.

No kernel here or in generated code assigns an array to a slice (``out[r, :] = row``): Numba compiles a formatted
shape-mismatch message for every such assignment, and its string code took 6.6 s of W4's 27 s cold compile
(``numba:compile`` events, benchmarks/profile_compile.py). Arrays are copied element by element instead (``copy``).
"""

from __future__ import annotations

import math

import numpy as np

from . import cpu_math as rm
from . import scipy_blas  # noqa: F401 - before the first product: dot's np.dot imports SciPy's BLAS
from .jit import njit

JIT = {"error_model": "numpy"}


@njit(**JIT)
def sigmoid(x):
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


@njit(**JIT)
def softplus(x):
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


@njit(**JIT)
def sign(x):
    return x if x != x else (x > 0) - (x < 0)  # NaN stays NaN


@njit(**JIT)
def maximum(a, b):
    """The larger of a and b, NaN if either is NaN (np.maximum; Python's max would keep whichever came first)."""
    return a if a >= b or a != a else b


@njit(**JIT)
def copy(source, target):
    """``target[...] = source`` for arrays of one shape (scalars are 1-element arrays in compiled code); ``target``
    may be a strided view. The rank is a constant when Numba compiles, so only one branch is kept."""
    if source.shape != target.shape:
        raise ValueError("copy: the source's shape differs from the target's")
    if target.ndim == 1:
        for i in range(target.shape[0]):
            target[i] = source[i]
    elif target.ndim == 2:
        for i in range(target.shape[0]):
            for j in range(target.shape[1]):
                target[i, j] = source[i, j]
    else:
        for index in np.ndindex(target.shape):
            target[index] = source[index]


@njit(**JIT)
def dot(a, b, out):
    """``np.dot`` into ``out``. Called through here, not printed inline, so that Numba's own implementation of it
    (typed and compiled in every process otherwise) is compiled once per signature and loaded from the cache."""
    np.dot(a, b, out)


@njit(**JIT)
def contiguous(x):
    """``np.ascontiguousarray``, compiled once per signature as ``dot`` is."""
    return np.ascontiguousarray(x)


@njit(**JIT)
def empty(shape, dtype):
    """``np.empty``, compiled once per signature as ``dot`` is."""
    return np.empty(shape, dtype)


@njit(**JIT)
def fill(x, value):
    x.fill(value)


@njit(**JIT)
def zero(out):
    """``out[:] = 0`` for a 1-D or 2-D array, as loops: Numba's slice assignment compiles its shape checks
    (column_sum compiled in 0.38 s with one, 0.11-0.19 s with a loop; ``benchmarks/profile_compile.py W4``, Intel
    Xeon). The rank is a constant when Numba compiles, so only one branch is kept."""
    if out.ndim == 1:
        for j in range(out.shape[0]):
            out[j] = 0
    else:
        for r in range(out.shape[0]):
            for j in range(out.shape[1]):
                out[r, j] = 0


@njit(**JIT)
def row_sum(x, out):
    for r in range(x.shape[0]):
        total = 0.0
        for j in range(x.shape[1]):
            total += x[r, j]
        out[r] = total


@njit(**JIT)
def column_sum(x, out):
    """Sums over the leading axis, reading rows in memory order (no transposed copy)."""
    zero(out)
    for r in range(x.shape[0]):
        for j in range(x.shape[1]):
            out[j] += x[r, j]


@njit(**JIT)
def row_max(x, out):
    for r in range(x.shape[0]):
        best = -np.inf
        for j in range(x.shape[1]):
            best = maximum(best, x[r, j])
        out[r] = best


@njit(**JIT)
def row_argmax(x, out):
    for r in range(x.shape[0]):
        best, where = -np.inf, 0
        for j in range(x.shape[1]):
            if x[r, j] != x[r, j]:  # NumPy's argmax: the first NaN
                where = j
                break
            if x[r, j] > best:
                best, where = x[r, j], j
        out[r] = where


# Reductions keep four independent partial results: LLVM may not reassociate a float sum, so one accumulator would
# make every addition wait for the one before it.
@njit(**JIT)
def _largest(values):
    a = b = c = d = values[0]
    whole = values.shape[0] - values.shape[0] % 4
    for j in range(0, whole, 4):
        a, b = maximum(a, values[j]), maximum(b, values[j + 1])
        c, d = maximum(c, values[j + 2]), maximum(d, values[j + 3])
    for j in range(whole, values.shape[0]):
        a = maximum(a, values[j])
    return maximum(maximum(a, b), maximum(c, d))


@njit(**JIT)
def _total(values):
    a = b = c = d = 0.0
    whole = values.shape[0] - values.shape[0] % 4
    for j in range(0, whole, 4):
        a, b, c, d = a + values[j], b + values[j + 1], c + values[j + 2], d + values[j + 3]
    for j in range(whole, values.shape[0]):
        a += values[j]
    return (a + b) + (c + d)


@njit(**JIT)
def row_log_sum_exp(x, r, scratch):
    """log(sum_j exp(x[r, j])), with the maximum subtracted first so no exponent overflows. The exponentials go to
    ``scratch`` first: a loop that only computes them vectorizes, one that also sums them would not."""
    best = _largest(x[r])  # of x's dtype, so float32 rows take the vectorized float32 exp
    for j in range(x.shape[1]):
        scratch[j] = rm.exp(x[r, j] - best)
    return best + math.log(_total(scratch[:x.shape[1]]))


@njit(**JIT)
def row_log_softmax(x, out):
    for r in range(x.shape[0]):
        shift = row_log_sum_exp(x, r, out[r])
        for j in range(x.shape[1]):
            out[r, j] = x[r, j] - shift


@njit(**JIT)
def row_softmax(x, out):
    for r in range(x.shape[0]):
        best = _largest(x[r])
        for j in range(x.shape[1]):
            out[r, j] = rm.exp(x[r, j] - best)
        scale = out.dtype.type(1.0 / _total(out[r]))
        for j in range(x.shape[1]):
            out[r, j] *= scale


@njit(**JIT)
def out_of_range(status, check, position, index, bound):
    """Record an index outside 0 .. bound - 1 and stop the program: ``status`` gets which check failed (the
    program's numbering of its indexing nodes), the flat position, the index and the bound; the caller turns that
    into an error naming the op. Raised before the bad index is used, so no memory outside an array is touched."""
    status[0], status[1], status[2], status[3] = check, position, index, bound
    raise IndexError("graphc: an index is out of range (see the status array)")


@njit(**JIT)
def row_cross_entropy(logits, labels, out, status, check):
    scratch = np.empty(logits.shape[1], logits.dtype)
    for r in range(logits.shape[0]):
        if labels[r] < 0 or labels[r] >= logits.shape[1]:
            out_of_range(status, check, r, labels[r], logits.shape[1])
        out[r] = row_log_sum_exp(logits, r, scratch) - logits[r, labels[r]]


@njit(**JIT)
def row_pick(values, labels, out, status, check):
    for r in range(values.shape[0]):
        if labels[r] < 0 or labels[r] >= values.shape[1]:
            out_of_range(status, check, r, labels[r], values.shape[1])
        out[r] = values[r, labels[r]]


@njit(**JIT)
def gather_rows(table, indices, out, status, check):
    for r in range(indices.shape[0]):
        row = indices[r]
        if row < 0 or row >= table.shape[0]:
            out_of_range(status, check, r, row, table.shape[0])
        for j in range(out.shape[1]):
            out[r, j] = table[row, j]


@njit(**JIT)
def scatter_add_rows(indices, updates, out, status, check):
    zero(out)
    for r in range(indices.shape[0]):
        row = indices[r]
        if row < 0 or row >= out.shape[0]:
            out_of_range(status, check, r, row, out.shape[0])
        for j in range(out.shape[1]):
            out[row, j] += updates[r, j]


@njit(**JIT)
def one_hot_rows(labels, out, status, check):
    zero(out)
    for r in range(labels.shape[0]):
        if labels[r] < 0 or labels[r] >= out.shape[1]:
            out_of_range(status, check, r, labels[r], out.shape[1])
        out[r, labels[r]] = 1
