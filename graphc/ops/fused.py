"""A fused element-wise kernel: one node computing several element-wise results in one pass over the data.

Its ``expressions`` are SymPy expressions of the input symbols ``in0, in1, ...`` (one per result), built by the
fusion pass from the member ops' own expressions. ``outputs`` are the results' types, ``members`` the nodes it
replaced and ``results`` the members whose values it returns (both kept for rendering and debugging). Every
evaluator computes it from the expressions, with common subexpressions shared (``sympy.cse``), so backends are
tested against the same definition.
"""

from __future__ import annotations

import functools

import numpy as np
import sympy

from .registry import Op, aligned_rows, register
from .scalar import NUMPY_FUNCTIONS
from .sympy_bridge import to_graph


def input_symbol(index: int) -> sympy.Symbol:
    return sympy.Symbol(f"in{index}", real=True)


@functools.lru_cache(maxsize=1024)
def numpy_function(expressions: tuple, arity: int):
    """A NumPy function of the inputs returning every expression, with common subexpressions computed once."""
    symbols = [input_symbol(i) for i in range(arity)]
    with sympy.evaluate(False):  # cse rebuilds expressions; evaluating would turn x - x into 0 even for x = Inf
        return sympy.lambdify(symbols, list(expressions), modules=[NUMPY_FUNCTIONS, "numpy"], cse=True)


@register
class Fused(Op):
    name = "fused"
    kernel = True
    planned = True
    sizes = ("outputs",)  # its results' types
    derivative_text = ("Σ g_j ∂expr_j/∂in",)
    internal = True

    def infer(self, types, expressions, outputs, members, results):
        return tuple(outputs)

    def keeps_rows(self, rows, shapes, out, **attrs) -> bool:
        return aligned_rows(rows, shapes, out)

    def reference(self, *arrays, expressions, outputs, members, results):
        results = numpy_function(expressions, len(arrays))(*arrays)
        wide = any(a.dtype == np.float64 for a in arrays)  # the interpreter's float64 mode: no float32 rounding
        return tuple(np.broadcast_to(np.asarray(value), output.shape).astype(
            np.float64 if wide and output.dtype.kind == "f" else output.dtype)
            for value, output in zip(results, outputs))

    def vjp(self, inputs, out, grads, expressions, outputs, members, results):
        """d in_i = sum_j grad_j * d expr_j / d in_i, each derivative translated into nodes by the SymPy bridge."""
        environment = {input_symbol(i): tensor for i, tensor in enumerate(inputs)}
        gradients = []
        for i, tensor in enumerate(inputs):
            total = None
            for grad, expression in zip(grads, expressions):
                derivative = sympy.diff(expression, input_symbol(i))
                if grad is None or derivative == 0 or tensor.dtype.kind != "f":
                    continue
                term = grad * to_graph(derivative, environment, grad.dtype)
                total = term if total is None else total + term
            gradients.append(total)
        return gradients

