"""Arithmetic element-wise ops: identity, negation, the four operations, powers, maximum/minimum, abs, sign, and
``cast``, the only op that changes a dtype. Python numbers mixed with tensors take the tensor's dtype."""

from __future__ import annotations

import numpy as np
import sympy
from sympy import Abs

from ..types import TensorType, as_dtype, is_float
from .elementwise import Elementwise, step
from .registry import OUT, Case, apply, public, register
from .scalar import Greater, GreaterEqual, Less, LessEqual, Select


@register
class Identity(Elementwise):
    name = "identity"
    view = True
    passthrough = True
    float_only = False
    stable_at_extremes = True

    def expr(self, x):
        return x

    def numpy(self, x):
        return x.copy()


@register
class Neg(Elementwise):
    name = "neg"
    public = None  # -x
    float_only = False

    def expr(self, x):
        return -x

    def numpy(self, x):
        return np.negative(x)


@register
class Add(Elementwise):
    name = "add"
    public = None  # an operator of Tensor
    arguments = ("x", "y")
    float_only = False
    commutative = True

    def expr(self, x, y):
        return x + y

    def numpy(self, x, y):
        return np.add(x, y)


@register
class Sub(Elementwise):
    name = "sub"
    public = None  # an operator of Tensor
    arguments = ("x", "y")
    float_only = False

    def expr(self, x, y):
        return x - y

    def numpy(self, x, y):
        return np.subtract(x, y)


@register
class Mul(Elementwise):
    name = "mul"
    public = None  # an operator of Tensor
    arguments = ("x", "y")
    float_only = False
    commutative = True

    def expr(self, x, y):
        return x * y

    def numpy(self, x, y):
        return np.multiply(x, y)


@register
class Div(Elementwise):
    name = "div"
    public = None  # an operator of Tensor
    arguments = ("x", "y")
    domain = ((-3.0, 3.0), (0.5, 3.0))

    def expr(self, x, y):
        return x / y

    def derivatives(self, args):
        x, y = args
        return (1 / y, -OUT / y)  # d(x/y)/dy = -x/y^2 = -out/y

    def numpy(self, x, y):
        return np.divide(x, y)


@register
class Pow(Elementwise):
    name = "pow"
    public = "power"
    arguments = ("x", "y")
    domain = ((0.5, 2.0), (-2.0, 2.0))

    def expr(self, x, y):
        return x**y

    def derivatives(self, args):
        x, y = args
        return (y * x ** (y - 1), OUT * sympy.log(x))  # d(x^y)/dy = x^y log x

    def numpy(self, x, y):
        return np.power(x, y)


@register
class Maximum(Elementwise):
    name = "maximum"
    arguments = ("x", "y")
    float_only = False
    commutative = True

    def expr(self, x, y):
        # Not sympy.Max: its derivative is Heaviside, 1/2 at ties. Both comparisons are false only when x or y is NaN,
        # and then x + y is NaN, as np.maximum gives.
        return Select(GreaterEqual(x, y), x, Select(Less(x, y), y, x + y))

    def derivatives(self, args):
        x, y = args
        return (step(GreaterEqual(x, y)), step(Less(x, y)))  # a tie sends the whole gradient to x

    def numpy(self, x, y):
        return np.maximum(x, y)


@register
class Minimum(Elementwise):
    name = "minimum"
    arguments = ("x", "y")
    float_only = False
    commutative = True

    def expr(self, x, y):
        return Select(LessEqual(x, y), x, Select(Greater(x, y), y, x + y))  # NaN as in Maximum

    def derivatives(self, args):
        x, y = args
        return (step(LessEqual(x, y)), step(Greater(x, y)))

    def numpy(self, x, y):
        return np.minimum(x, y)


@register
class Abs_(Elementwise):
    name = "abs"
    float_only = False
    sympy_function = sympy.Abs

    def expr(self, x):
        return Abs(x)

    def numpy(self, x):
        return np.abs(x)


@register
class Sign(Elementwise):
    name = "sign"
    float_only = False
    differentiable = False
    sympy_function = sympy.sign

    def expr(self, x):
        return sympy.sign(x)

    def numpy(self, x):
        return np.sign(x)


@register
class Cast(Elementwise):
    """Conversion to another dtype (``x.astype``); the only op that changes a dtype."""

    name = "cast"
    dtype_attribute = True
    public = None  # cast() below
    float_only = False
    cases = (Case(((3, 4),), {"dtype": "float64"}), Case(((3, 4),), {"dtype": "int64"}))

    def infer(self, types, dtype):
        return TensorType(types[0].shape, as_dtype(dtype))

    def expr(self, x, dtype=None):
        return x

    def derivatives(self, args, dtype=None):
        return (1,)

    def numpy(self, x, dtype):
        return x.astype(dtype)

    def reference(self, x, dtype):
        return x.astype(dtype)

    def vjp(self, inputs, out, grad, dtype):
        source = inputs[0].dtype
        return [grad.astype(source) if is_float(source) and is_float(out.dtype) else None]




@public
def cast(x, dtype):
    """``x`` converted to ``dtype`` (the only way dtypes change in graphc)."""
    dtype = as_dtype(dtype)
    return x if x.dtype == dtype else apply("cast", x, dtype=dtype.name)
