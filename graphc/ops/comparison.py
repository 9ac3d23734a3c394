"""Comparisons (boolean results, no gradient) and ``where``, the element-wise selection."""

from __future__ import annotations

import numpy as np

from ..errors import DTypeError
from .elementwise import Elementwise, step
from .registry import Case, register
from .scalar import Equal, Greater, GreaterEqual, Less, LessEqual, NotEqual, Select


# --- comparisons ---------------------------------------------------------------------------------------
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
        return (0, step(c), Select(c, 0, 1))

    def numpy(self, c, x, y):
        return np.where(c, x, y)

    def reference(self, c, x, y):
        return self.numpy(c, x, y)  # the condition's dtype is not the result's


