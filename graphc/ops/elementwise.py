"""Element-wise ops: each is a SymPy scalar expression, a NumPy reference, and (where SymPy's own derivative is
less stable or less cheap than a form in terms of the output) a derivative override.

Python numbers mixed with tensors take the tensor's dtype; tensors of different dtypes are an error.
"""

from __future__ import annotations

import numpy as np
import sympy
from sympy import Abs

from ..errors import DTypeError
from ..types import TensorType, as_dtype, is_float
from .registry import OUT, Case, Elementwise, apply, register
from .scalar import (
    Equal,
    Greater,
    GreaterEqual,
    Less,
    LessEqual,
    NotEqual,
    Select,
    Sigmoid,
    Softplus,
    numpy_sigmoid,
    numpy_softplus,
)

SELU_LAMBDA = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717


def _step(condition) -> sympy.Expr:
    """1 where ``condition`` holds, else 0 (as a selection, so it translates into ``where(c, 1, 0)``)."""
    return Select(condition, 1, 0)


def elementwise(name: str, *arguments, **attrs):
    """Apply element-wise op ``name``; Python numbers and arrays become constants of the tensors' dtype."""
    from ..dsl import Tensor, constant

    tensors = [a for a in arguments if isinstance(a, Tensor)]
    if not tensors:
        raise TypeError(f"{name} needs at least one graphc tensor argument")
    # Numbers take the dtype of the non-boolean tensors; with only a condition (where(c, 1.0, 0.0)), their own.
    dtype = next((t.dtype for t in tensors if t.dtype.kind != "b"), None)
    converted = [a if isinstance(a, Tensor) else constant(a, dtype) for a in arguments]
    return apply(name, *converted, **attrs)


# --- arithmetic ------------------------------------------------------------------------------------------------------
@register
class Identity(Elementwise):
    name = "identity"
    float_only = False
    stable_at_extremes = True

    def expr(self, x):
        return x

    def numpy(self, x):
        return x.copy()


@register
class Neg(Elementwise):
    name = "neg"
    float_only = False

    def expr(self, x):
        return -x

    def numpy(self, x):
        return np.negative(x)


@register
class Add(Elementwise):
    name = "add"
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
    arguments = ("x", "y")
    float_only = False

    def expr(self, x, y):
        return x - y

    def numpy(self, x, y):
        return np.subtract(x, y)


@register
class Mul(Elementwise):
    name = "mul"
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
        return Select(GreaterEqual(x, y), x, y)  # not sympy.Max: its derivative is Heaviside, 1/2 at ties

    def derivatives(self, args):
        x, y = args
        return (_step(GreaterEqual(x, y)), _step(Less(x, y)))  # a tie sends the whole gradient to x

    def numpy(self, x, y):
        return np.maximum(x, y)


@register
class Minimum(Elementwise):
    name = "minimum"
    arguments = ("x", "y")
    float_only = False
    commutative = True

    def expr(self, x, y):
        return Select(LessEqual(x, y), x, y)

    def derivatives(self, args):
        x, y = args
        return (_step(LessEqual(x, y)), _step(Greater(x, y)))

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


# --- transcendental --------------------------------------------------------------------------------------------------
@register
class Exp(Elementwise):
    name = "exp"
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
        return Select(Greater(x, 0), x, 0)

    def derivatives(self, args):
        (x,) = args
        return (_step(Greater(x, 0)),)  # math.md: the derivative at 0 is 0

    def numpy(self, x):
        return np.maximum(x, 0)


@register
class LeakyRelu(Elementwise):
    name = "leaky_relu"
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


@register
class BinaryCrossEntropy(Elementwise):
    """``-[t log p + (1-t) log(1-p)]`` with ``p = sigmoid(z)``, from the logit: ``softplus(z) - z t``."""

    name = "binary_cross_entropy"
    arguments = ("z", "t")
    stable_at_extremes = True
    domain = ((-3.0, 3.0), (0.0, 1.0))

    def expr(self, z, t):
        return Softplus(z) - z * t

    def derivatives(self, args):
        z, t = args
        return (Sigmoid(z) - t, -z)

    def numpy(self, z, t):
        return numpy_softplus(z) - z * t


# --- comparisons and selection ---------------------------------------------------------------------------------------
class Comparison(Elementwise):
    """In expressions a comparison is a 0/1 function (``Greater(x, y)``) and a boolean is non-zero for true."""

    arguments = ("x", "y")
    float_only = False
    differentiable = False
    output_dtype = "bool"
    function = None

    def expr(self, x, y):
        return self.sympy_function(x, y)

    def numpy(self, x, y):
        return type(self).function(x, y)


for _name, _function, _numpy in (
    ("greater", Greater, np.greater),
    ("greater_equal", GreaterEqual, np.greater_equal),
    ("less", Less, np.less),
    ("less_equal", LessEqual, np.less_equal),
    ("equal", Equal, np.equal),
    ("not_equal", NotEqual, np.not_equal),
):
    register(type(_name.title().replace("_", ""), (Comparison,), {"name": _name, "sympy_function": _function,
                                                                   "function": _numpy}))


@register
class Where(Elementwise):
    """``where(c, x, y)``: x where the boolean c holds, else y."""

    name = "where"
    arguments = ("c", "x", "y")
    float_only = False
    cases = (Case(((3, 4), (3, 4), (3, 4)), booleans=(0,)), Case(((3, 1), (4,), (3, 4)), booleans=(0,)))

    def operand_types(self, types):
        if types[0].dtype.kind != "b":
            raise DTypeError(f"the condition must be bool, got {types[0].dtype.name}")
        return types[1:]

    sympy_function = Select

    def expr(self, c, x, y):
        return Select(c, x, y)

    def derivatives(self, args):
        c, x, y = args
        return (0, _step(c), Select(c, 0, 1))

    def numpy(self, c, x, y):
        return np.where(c, x, y)

    def reference(self, c, x, y):
        return self.numpy(c, x, y)  # the condition's dtype is not the result's


# --- builders: the public functions ---------------------------------------------------------------------------------
def identity(x):
    return elementwise("identity", x)


def exp(x):
    return elementwise("exp", x)


def log(x):
    return elementwise("log", x)


def sqrt(x):
    return elementwise("sqrt", x)


def abs(x):  # noqa: A001 - mirrors numpy.abs
    return elementwise("abs", x)


def sign(x):
    return elementwise("sign", x)


def sigmoid(x):
    return elementwise("sigmoid", x)


def tanh(x):
    return elementwise("tanh", x)


def relu(x):
    return elementwise("relu", x)


def leaky_relu(x, alpha: float = 0.01):
    return elementwise("leaky_relu", x, alpha=float(alpha))


def elu(x, alpha: float = 1.0):
    return elementwise("elu", x, alpha=float(alpha))


def selu(x):
    return elementwise("selu", x)


def softplus(x):
    return elementwise("softplus", x)


def softsign(x):
    return elementwise("softsign", x)


def maximum(x, y):
    return elementwise("maximum", x, y)


def minimum(x, y):
    return elementwise("minimum", x, y)


def power(x, y):
    return elementwise("pow", x, y)


def where(condition, x, y):
    return elementwise("where", condition, x, y)


def greater(x, y):
    return elementwise("greater", x, y)


def greater_equal(x, y):
    return elementwise("greater_equal", x, y)


def less(x, y):
    return elementwise("less", x, y)


def less_equal(x, y):
    return elementwise("less_equal", x, y)


def equal(x, y):
    return elementwise("equal", x, y)


def not_equal(x, y):
    return elementwise("not_equal", x, y)


def binary_cross_entropy(logits, targets, reduction: str = "mean"):
    """Binary cross-entropy of ``sigmoid(logits)`` against targets in [0, 1], computed from the logits."""
    from .loss import reduce_loss

    return reduce_loss(elementwise("binary_cross_entropy", logits, targets), reduction)
