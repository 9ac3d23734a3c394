"""Transcendental functions and activations (math.md: safe forward and derivative for |z| up to 1e4): exp, log,
sqrt, sigmoid, tanh, relu, leaky_relu, elu, selu, softplus, softsign."""

from __future__ import annotations

import numpy as np
import sympy
from sympy import Abs

from .elementwise import Elementwise, step
from .registry import OUT, register
from .scalar import Greater, LessEqual, Select, Sigmoid, Softplus, numpy_sigmoid, numpy_softplus

SELU_LAMBDA = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717


# --- exponentials --------------------------------------------------------------------------------------------------
@register
class Exp(Elementwise):
    name = "exp"
    positive = True
    sympy_function = sympy.exp

    def expr(self, x):
        return sympy.exp(x)

    def derivatives(self, args):
        return (OUT,)

    def numpy(self, x):
        return np.exp(x)


@register
class Log(Elementwise):
    name = "log"
    sympy_function = sympy.log
    domain = (0.1, 3.0)

    def expr(self, x):
        return sympy.log(x)

    def numpy(self, x):
        return np.log(x)


@register
class Sqrt(Elementwise):
    name = "sqrt"
    domain = (0.1, 3.0)

    def expr(self, x):
        return sympy.sqrt(x)

    def derivatives(self, args):
        return (1 / (2 * OUT),)

    def numpy(self, x):
        return np.sqrt(x)


# --- activations (math.md: safe forward and derivative for |z| up to 1e4) -------------------------------------------
@register
class SigmoidOp(Elementwise):
    name = "sigmoid"
    positive = True
    sympy_function = Sigmoid
    stable_at_extremes = True

    def expr(self, x):
        return Sigmoid(x)

    def derivatives(self, args):
        return (OUT * (1 - OUT),)  # sigma' = sigma (1 - sigma), from the output: no second exp

    def numpy(self, x):
        return numpy_sigmoid(x)


@register
class Tanh(Elementwise):
    name = "tanh"
    sympy_function = sympy.tanh
    stable_at_extremes = True

    def expr(self, x):
        return sympy.tanh(x)

    def derivatives(self, args):
        return (1 - OUT**2,)  # tanh' = 1 - tanh^2

    def numpy(self, x):
        return np.tanh(x)


@register
class Relu(Elementwise):
    name = "relu"
    stable_at_extremes = True

    def expr(self, x):
        return Select(LessEqual(x, 0), 0, x)  # NaN compares false, so it is kept, as np.maximum(x, 0) keeps it

    def derivatives(self, args):
        (x,) = args
        return (step(Greater(x, 0)),)  # math.md: the derivative at 0 is 0

    def numpy(self, x):
        return np.maximum(x, 0)


@register
class LeakyRelu(Elementwise):
    name = "leaky_relu"
    parameters = {"alpha": 0.01}
    stable_at_extremes = True

    def expr(self, x, alpha=0.01):
        return Select(Greater(x, 0), x, alpha * x)

    def derivatives(self, args, alpha=0.01):
        (x,) = args
        return (Select(Greater(x, 0), 1, alpha),)

    def numpy(self, x, alpha=0.01):
        return np.where(x > 0, x, x * x.dtype.type(alpha))


@register
class Elu(Elementwise):
    name = "elu"
    parameters = {"alpha": 1.0}
    stable_at_extremes = True

    def expr(self, x, alpha=1.0):
        return Select(Greater(x, 0), x, alpha * (sympy.exp(x) - 1))

    def derivatives(self, args, alpha=1.0):
        (x,) = args
        return (Select(Greater(x, 0), 1, OUT + alpha),)  # alpha e^x = out + alpha for x <= 0

    def numpy(self, x, alpha=1.0):
        return np.where(x > 0, x, x.dtype.type(alpha) * np.expm1(np.minimum(x, 0)))


@register
class Selu(Elementwise):
    name = "selu"
    stable_at_extremes = True

    def expr(self, x):
        return SELU_LAMBDA * Select(Greater(x, 0), x, SELU_ALPHA * (sympy.exp(x) - 1))

    def derivatives(self, args):
        (x,) = args
        return (Select(Greater(x, 0), SELU_LAMBDA, OUT + SELU_LAMBDA * SELU_ALPHA),)

    def numpy(self, x):
        negative = SELU_ALPHA * np.expm1(np.minimum(x, 0))
        return (SELU_LAMBDA * np.where(x > 0, x, negative)).astype(x.dtype)


@register
class SoftplusOp(Elementwise):
    name = "softplus"
    positive = True
    sympy_function = Softplus
    stable_at_extremes = True

    def expr(self, x):
        return Softplus(x)  # derivative: Sigmoid(x), from Softplus.fdiff

    def numpy(self, x):
        return numpy_softplus(x)


@register
class Softsign(Elementwise):
    name = "softsign"
    stable_at_extremes = True

    def expr(self, x):
        return x / (1 + Abs(x))

    def derivatives(self, args):
        (x,) = args
        return (1 / (1 + Abs(x)) ** 2,)

    def numpy(self, x):
        return x / (1 + np.abs(x))


