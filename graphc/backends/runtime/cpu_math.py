"""Vectorizable float32 exp, sigmoid and tanh for generated CPU kernels.

Numba compiles ``math.exp`` and ``math.tanh`` to one libm call per element, and LLVM can vectorize such calls only
with Intel's SVML, which this toolchain lacks (``numba -s``: SVML not operational). A scalar tanh loop over a
64×128 layer took 138 µs against 3.2 µs for ``np.tanh`` (docs/benchmarks.md). These versions are plain float32
arithmetic that LLVM turns into SIMD code:

- exp: x = n·ln2 + r with |r| ≤ ln2/2, e^r by its Taylor polynomial to degree 7 (truncation error below 6e-9
  relative), 2^n built from its IEEE-754 bits (in two halves, so subnormal results and overflow to inf come out right).
- sigmoid: 1 / (1 + e^-x); tanh: 1 - 2 / (e^2|x| + 1) with x's sign, and for |x| < 0.5, where that cancels, the
  odd polynomial x + x³·q(x²) fitted (Chebyshev least squares, at import) to tanh.

Errors against float64 references (tests/test_cpu_math.py) where results are normal floats: at most 1.1 ulps (exp),
2.1 (sigmoid), 1.9 (tanh); subnormal results may flush to 0.
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic, overload

from .jit import njit

# Not inlined by Numba: ``inline="always"`` copies a function's IR into every call site and types it there again,
# in every gate kernel of every new model (docs/benchmarks.md, 2026-12-07). Compiled once and cached with the
# runtime, they are linked into the kernels that call them, where LLVM inlines and vectorizes them as before.
JIT = {"error_model": "numpy"}

ONE, TWO, HALF = np.float32(1.0), np.float32(2.0), np.float32(0.5)
LOW, HIGH = np.float32(-104.0), np.float32(89.0)  # beyond these float32 e^x is 0 or inf
LOG2_E = np.float32(1.4426950408889634)
LN2_HIGH, LN2_LOW = np.float32(0.693359375), np.float32(-2.12194440e-4)  # ln 2 split so n·LN2_HIGH is exact
C2, C3, C4, C5, C6, C7 = (np.float32(1 / math.factorial(k)) for k in range(2, 8))
SMALL = np.float32(0.5)


def _tanh_polynomial(degree: int = 5) -> tuple:
    """Coefficients of q with tanh(x) ≈ x + x³·q(x²) on |x| < SMALL (power basis, constant term first)."""
    t = (np.cos(np.pi * (np.arange(200) + 0.5) / 200) + 1) / 2 * float(SMALL) ** 2  # Chebyshev nodes in [0, 0.25]
    x = np.sqrt(t)
    target = (np.tanh(x) - x) / (x * t)
    fit = np.polynomial.chebyshev.Chebyshev.fit(t, target, degree)
    return tuple(np.float32(c) for c in fit.convert(kind=np.polynomial.Polynomial).coef)


Q0, Q1, Q2, Q3, Q4, Q5 = _tanh_polynomial()


@intrinsic
def _float32_from_bits(typingctx, bits):
    def codegen(context, builder, signature, arguments):
        return builder.bitcast(arguments[0], ir.FloatType())

    return types.float32(types.int32), codegen


@njit(**JIT)
def exp32(x):
    # conditional expressions, not min and max: Numba compiles its builtins' implementations in every new process
    clamped = LOW if x < LOW else (HIGH if x > HIGH else x)  # NaN stays NaN
    n = np.floor(clamped * LOG2_E + HALF)
    r = clamped - n * LN2_HIGH - n * LN2_LOW
    p = C7 * r + C6
    p = p * r + C5
    p = p * r + C4
    p = p * r + C3
    p = p * r + C2
    p = p * r + ONE
    p = p * r + ONE
    # 2^n in two normal halves, so n down to -150 (subnormal results) and up to 128 (overflow to inf) work.
    whole = np.int32(n)
    half = whole >> np.int32(1)
    scaled = p * _float32_from_bits((half + np.int32(127)) << np.int32(23))
    scaled = scaled * _float32_from_bits((whole - half + np.int32(127)) << np.int32(23))
    return scaled if x == x else x  # NaN stays NaN


@njit(**JIT)
def sigmoid32(x):
    return ONE / (ONE + exp32(-x))


@njit(**JIT)
def tanh32(x):
    magnitude = abs(x)
    large = ONE - TWO / (exp32(TWO * magnitude) + ONE)
    large = large if x >= 0 else -large
    square = x * x
    q = ((((Q5 * square + Q4) * square + Q3) * square + Q2) * square + Q1) * square + Q0
    small = x + x * square * q
    return small if magnitude < SMALL else large


def exp(x):
    """e^x for the row kernels: ``exp32`` for float32 values, libm's for float64 (chosen when Numba compiles)."""
    return math.exp(x)


@overload(exp, inline="always")
def _exp_by_type(x):
    if x == types.float32:
        return lambda x: exp32(x)
    return lambda x: math.exp(x)
