"""Translate a SymPy scalar expression into graph nodes built from the element-wise ops of the table.

Element-wise derivative rules are SymPy expressions (``1 - out**2`` for tanh); this is how they become ordinary
nodes of the backward graph. Functions are found through each op's ``sympy_function``, so a new element-wise op
is translatable as soon as it is registered.
"""

from __future__ import annotations

import sympy

from .leaf import constant
from .registry import OPS, apply
from .scalar import Select


def _function_ops() -> dict:
    return {op.sympy_function: name for name, op in OPS.items() if getattr(op, "sympy_function", None) is not None}


def to_graph(expr: sympy.Expr, environment: dict, dtype):
    """Nodes computing ``expr``, with each free symbol replaced by the tensor ``environment`` gives for it."""
    functions = _function_ops()
    built: dict = {}

    def number(value):
        return constant(float(value), dtype)

    def walk(e):
        if e in environment:
            return environment[e]
        if e in built:
            return built[e]
        result = translate(e)
        built[e] = result
        return result

    def translate(e):
        if e.is_number:
            return number(e)
        if isinstance(e, sympy.Add):
            positive = [a for a in e.args if not a.could_extract_minus_sign()]
            negative = [-a for a in e.args if a.could_extract_minus_sign()]
            total = walk(positive[0]) if positive else -walk(negative.pop(0))
            for term in positive[1:]:
                total = total + walk(term)
            for term in negative:
                total = total - walk(term)
            return total
        if isinstance(e, sympy.Mul):
            coefficient, factors = e.as_coeff_mul()
            numerator = [f for f in factors if not (f.is_Pow and f.exp.is_negative)]
            denominator = [f.base ** -f.exp for f in factors if f.is_Pow and f.exp.is_negative]
            product = None
            for factor in numerator:
                product = walk(factor) if product is None else product * walk(factor)
            if abs(coefficient) != 1 or product is None:
                magnitude = number(abs(coefficient))
                product = magnitude if product is None else magnitude * product
            for factor in denominator:
                product = product / walk(factor)
            return -product if coefficient < 0 else product
        if isinstance(e, sympy.Pow):
            base, exponent = e.args
            if exponent.is_negative:
                return number(1) / walk(base ** -exponent)
            if exponent == 2:
                value = walk(base)
                return value * value
            if exponent == sympy.Rational(1, 2):
                return apply("sqrt", walk(base))
            return apply("pow", walk(base), walk(exponent))
        if isinstance(e, (sympy.Max, sympy.Min)):
            name = "maximum" if isinstance(e, sympy.Max) else "minimum"
            result = walk(e.args[0])
            for argument in e.args[1:]:
                result = apply(name, result, walk(argument))
            return result
        if isinstance(e, Select):
            condition = walk(e.args[0])
            if condition.dtype.kind != "b":  # a 0/1 number standing as a condition
                condition = apply("not_equal", condition, number(0))
            return apply("where", condition, walk(e.args[1]), walk(e.args[2]))
        if type(e) in functions:
            return apply(functions[type(e)], *(walk(a) for a in e.args))
        raise ValueError(f"no op computes the SymPy expression {e} ({type(e).__name__})")

    return walk(expr)
