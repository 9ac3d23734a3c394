"""SymPy functions for scalar primitives, with their NumPy forms.

``1/(1+exp(-z))`` and ``log(1+exp(z))`` are exact but overflow at |z| ~ 1e3 when evaluated as written. Element-wise
ops use named functions instead, so SymPy can still differentiate them while every evaluator (NumPy here, generated
kernels later) maps them to a form that is finite over the whole float range.

Selection and comparison are named functions too, rather than SymPy's ``Piecewise`` and relations: those carry a
logic and set-theory machinery (rewriting conditions, simplifying) that is slow on large kernels and not needed.
``Greater(x, y)`` is 1 or 0; ``Select(c, x, y)`` is x where c is non-zero, else y, and its derivative is
``Select(c, dx, dy)``, so an Inf in the branch not taken can never become ``0 * Inf = NaN``.
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


class Select(sympy.Function):
    """``x`` where ``c`` is non-zero, else ``y``."""

    @classmethod
    def eval(cls, c, x, y):
        if x == y:
            return x
        if c.is_Number:
            return x if c != 0 else y
        return None

    def _eval_derivative(self, symbol):
        c, x, y = self.args
        return Select(c, sympy.diff(x, symbol), sympy.diff(y, symbol))


def _pretty_as_text(self, printer):
    from sympy.printing.pretty.stringpict import prettyForm

    return prettyForm(_text(self))


Select._pretty = Sigmoid._pretty = _pretty_as_text
Select._sympystr = lambda self, printer: (
    f"[{printer._print(self.args[0])}]" if (self.args[1], self.args[2]) == (1, 0)
    else f"({printer._print(self.args[1])} if {printer._print(self.args[0])} else {printer._print(self.args[2])})")
Sigmoid._sympystr = lambda self, printer: f"σ({printer._print(self.args[0])})"


class _Comparison(sympy.Function):
    """1 where the relation holds, else 0; piecewise constant, so its derivative is 0."""

    relation = None

    @classmethod
    def eval(cls, x, y):
        if x.is_Number and y.is_Number:
            return sympy.Integer(int(bool(cls.relation(x, y))))
        return None

    def fdiff(self, argindex=1):
        return sympy.Integer(0)

    def _sympystr(self, printer):
        return f"{printer._print(self.args[0])} {self.symbol} {printer._print(self.args[1])}"

    _pretty = _pretty_as_text


def _comparison(name, relation, symbol):
    return type(name, (_Comparison,), {"relation": staticmethod(relation), "symbol": symbol})


Greater = _comparison("Greater", lambda x, y: x > y, ">")
GreaterEqual = _comparison("GreaterEqual", lambda x, y: x >= y, "≥")
Less = _comparison("Less", lambda x, y: x < y, "<")
LessEqual = _comparison("LessEqual", lambda x, y: x <= y, "≤")
Equal = _comparison("Equal", lambda x, y: x == y, "=")
NotEqual = _comparison("NotEqual", lambda x, y: x != y, "≠")


def _text(expression: sympy.Expr) -> str:
    """A compact one-line form: powers as superscripts, named functions as their usual symbols."""
    text = sympy.sstr(expression)
    for old, new in (("**2", "²"), ("**3", "³"), ("**", "^"), ("*", "·"), ("Sigmoid", "σ"), ("Softplus", "softplus")):
        text = text.replace(old, new)
    return text


def _collapse(expression):
    """Inside Select(c, x, y), c holds in x and fails in y: nested selections on c resolve (for readable labels)."""
    if not isinstance(expression, sympy.Basic) or not expression.args:
        return expression
    if isinstance(expression, Select):
        c, x, y = expression.args
        x = x.replace(lambda e: isinstance(e, Select) and e.args[0] == c, lambda e: e.args[1])
        y = y.replace(lambda e: isinstance(e, Select) and e.args[0] == c, lambda e: e.args[2])
        return Select(c, _collapse(x), _collapse(y))
    return expression.func(*(_collapse(a) for a in expression.args))


def formula(expression) -> str:
    """How pictures write a scalar formula: SymPy's Unicode pretty form when it fits one line, else compact text."""
    expression = _collapse(sympy.sympify(expression))
    pretty = sympy.pretty(expression, use_unicode=True, wrap_line=False)
    return pretty if "\n" not in pretty else _text(expression)


def numpy_softplus(z):
    return np.logaddexp(0, z)  # the 0 is a Python int: float32 stays float32 (NumPy 2's weak scalars)


def numpy_sigmoid(z):
    return scipy.special.expit(z)


# How NumPy evaluates each named function: used by sympy.lambdify (fused nodes) and by the element-wise ops.
NUMPY_FUNCTIONS = {
    "Sigmoid": numpy_sigmoid,
    "Softplus": numpy_softplus,
    "Select": np.where,
    "Greater": np.greater,
    "GreaterEqual": np.greater_equal,
    "Less": np.less,
    "LessEqual": np.less_equal,
    "Equal": np.equal,
    "NotEqual": np.not_equal,
}
