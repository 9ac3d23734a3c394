"""SymPy functions for scalar primitives whose textbook formula overflows, with their stable NumPy forms.

``1/(1+exp(-z))`` and ``log(1+exp(z))`` are exact but overflow at |z| ~ 1e3 when evaluated as written. Element-wise
ops use these named functions instead, so SymPy can still differentiate and simplify them while every evaluator
(NumPy here, generated kernels later) maps them to a form that is finite over the whole float range.
"""

from __future__ import annotations

import numpy as np
import scipy.special
import sympy


class Sigmoid(sympy.Function):
    """The logistic function ``1/(1+exp(-z))``."""

    def fdiff(self, argindex=1):
        s = Sigmoid(self.args[0])
        return s * (1 - s)

    @classmethod
    def eval(cls, z):
        if z.is_zero:
            return sympy.Rational(1, 2)
        return None

    def _eval_rewrite_as_exp(self, z, **hints):
        return 1 / (1 + sympy.exp(-z))

    def _eval_is_real(self):
        return self.args[0].is_real


class Softplus(sympy.Function):
    """``log(1+exp(z))``, evaluated as ``max(z,0) + log1p(exp(-|z|))``."""

    def fdiff(self, argindex=1):
        return Sigmoid(self.args[0])

    @classmethod
    def eval(cls, z):
        if z.is_zero:
            return sympy.log(2)
        return None

    def _eval_rewrite_as_log(self, z, **hints):
        return sympy.log(1 + sympy.exp(z))

    def _eval_is_real(self):
        return self.args[0].is_real


def numpy_softplus(z):
    return np.logaddexp(0, z).astype(np.result_type(z), copy=False)


def numpy_sigmoid(z):
    return scipy.special.expit(z)


# How NumPy evaluates each named function: used by sympy.lambdify (fused nodes) and by the element-wise ops.
NUMPY_FUNCTIONS = {"Sigmoid": numpy_sigmoid, "Softplus": numpy_softplus}
