"""How one element of an element-wise kernel is written in the generated CPU code: SymPy scalar expressions printed
as Numba-compilable Python, and the index through which a (broadcast, possibly sliced) input is read."""

from __future__ import annotations

import sympy
from sympy.printing.pycode import PythonCodePrinter


class ScalarPrinter(PythonCodePrinter):
    """SymPy scalar expressions as Numba-compilable Python (math.*, and the runtime's stable functions).

    For float32 kernels (``single``) numbers are float32 constants, so nothing is promoted to float64 (an int or
    Python float literal would be), and exp, tanh and sigmoid are the vectorizable versions of ``cpu_math``."""

    def __init__(self, settings=None, single: bool = False):
        super().__init__(settings)
        self.single = single

    def _number(self, expr):
        text = super()._print(expr) if not self.single else repr(float(expr))
        return f"np.float32({text})" if self.single else text

    def _print_Integer(self, expr):
        return self._number(expr) if self.single else super()._print_Integer(expr)

    def _print_Rational(self, expr):
        return self._number(expr) if self.single else super()._print_Rational(expr)

    def _print_Float(self, expr):
        return self._number(expr) if self.single else super()._print_Float(expr)

    def _print_Pow(self, expr, rational=False):
        base, exponent = expr.args
        if self.single and exponent.is_Integer and 0 < abs(int(exponent)) <= 4:
            product = "*".join([self.parenthesize(base, 50)] * abs(int(exponent)))
            return f"({product})" if exponent > 0 else f"(np.float32(1.0)/({product}))"
        if self.single and exponent == sympy.Rational(1, 2):
            return f"np.sqrt({self._print(base)})"
        return super()._print_Pow(expr, rational)

    def _print_exp(self, expr):
        return f"rm.exp32({self._print(expr.args[0])})" if self.single else f"math.exp({self._print(expr.args[0])})"

    def _print_tanh(self, expr):
        return f"rm.tanh32({self._print(expr.args[0])})" if self.single else f"math.tanh({self._print(expr.args[0])})"

    def _print_Function(self, expr):
        name = type(expr).__name__
        args = [self._print(a) for a in expr.args]
        if name == "Select":
            return f"({args[1]} if {args[0]} else {args[2]})"
        symbols = {"Greater": ">", "GreaterEqual": ">=", "Less": "<", "LessEqual": "<=", "Equal": "==",
                   "NotEqual": "!="}
        if name in symbols:
            return f"({args[0]} {symbols[name]} {args[1]})"
        if name == "Sigmoid" and self.single:
            return f"rm.sigmoid32({args[0]})"
        if name in ("Sigmoid", "Softplus"):
            return f"rt.{name.lower()}({args[0]})"
        return super()._print_Function(expr)

    def _print_sign(self, expr):  # SymPy's own printing, copysign(1, x), takes NaN to 1
        return f"rt.sign({self._print(expr.args[0])})"

    def _print_Abs(self, expr):
        return f"abs({self._print(expr.args[0])})"


def dimension_name(symbol) -> str:
    """The argument of the compiled code that holds a named dimension's size."""
    return f"dim_{symbol}"


class SizePrinter(PythonCodePrinter):
    """Sizes in integer arithmetic: a strided slice's length ``ceiling(n/k)`` as ``-(-n // k)``."""

    def _print_ceiling(self, expr):
        numerator, denominator = sympy.fraction(sympy.together(expr.args[0]))
        return f"(-(-({self._print(numerator)}) // {self._print(denominator)}))"


def size_text(value) -> str:
    """A size as generated code writes it: a literal, or an expression over the named dimensions' arguments."""
    value = sympy.sympify(value)
    if value.is_Integer:
        return str(int(value))
    if value.is_Symbol:
        return dimension_name(value)
    renamed = value.xreplace({s: sympy.Symbol(dimension_name(s), integer=True) for s in value.free_symbols})
    return f"({SizePrinter().doprint(renamed)})"


def shape_text(shape, text=size_text) -> str:
    """A shape tuple as generated code writes it, each size by ``text`` (``argument_text`` for a runtime kernel's
    argument)."""
    return f"({', '.join(text(d) for d in shape)}{',' if len(shape) == 1 else ''})"


def argument_text(value) -> str:
    """A size or number passed to a runtime kernel. A literal is wrapped in ``np.int64``: Numba compiles a kernel
    called with a literal for that value (W4's four checked kernels compiled ``out_of_range`` four times, once per
    check number, and a model whose cross-entropy had another number compiled ``row_cross_entropy`` again)."""
    return f"np.int64({size_text(value)})" if sympy.sympify(value).is_Integer else size_text(value)


def product(sizes) -> sympy.Expr:
    """The product of sizes, exact (an Integer when every size is known)."""
    return sympy.Mul(*(sympy.sympify(d) for d in sizes))


def index_expression(shape: tuple, space: tuple, loop: list[str], starts=None) -> str:
    """How an input of ``shape`` is read inside loops over ``space`` (NumPy broadcasting, aligned right), shifted by
    ``starts`` per axis when it is read through a slice of a larger array."""
    offset = len(space) - len(shape)
    starts = starts or [0] * len(shape)
    parts = [size_text(start) if d == 1 and space[offset + i] != 1 else shifted(loop[offset + i], start)
             for i, (d, start) in enumerate(zip(shape, starts))]
    return ", ".join(parts)


def shifted(variable: str, start) -> str:
    """A loop variable shifted by a slice's start. A start that is an argument (a fixed size taken at run time) is
    added as unsigned: Numba wraps a signed index that could be negative around the axis, a compare and select
    per element that kept LLVM from vectorizing W6's gate loop (0.55 -> 1.15 ms a step); an unsigned index it
    takes as it is."""
    if start == 0:
        return variable
    if sympy.sympify(start).is_Integer:
        return f"{variable} + {size_text(start)}"
    return f"numba.uint64({variable} + {size_text(start)})"
