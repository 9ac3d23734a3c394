"""Dtypes, shapes with named dimensions, and NumPy broadcasting over them.

A dimension is a non-negative ``int`` or a SymPy expression over named dimensions (``batch``, ``time*batch``).
Named dimensions are positive-integer SymPy symbols, so products and quotients that reshapes create stay exact,
and they are bound to sizes only when a graph is evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy

from .errors import ShapeError, user_location

Dim = int | sympy.Expr
Shape = tuple[Dim, ...]

DTYPES = {name: np.dtype(name) for name in ("float32", "float64", "int32", "int64", "bool")}
FLOAT_DTYPES = (DTYPES["float32"], DTYPES["float64"])


def as_dtype(value) -> np.dtype:
    """The graphc dtype named or given by ``value``; only the five supported dtypes are accepted."""
    try:
        dtype = np.dtype(value)
    except TypeError:
        dtype = None
    if dtype is None or dtype.name not in DTYPES:
        raise TypeError(f"unsupported dtype {value!r}; graphc supports {', '.join(DTYPES)}")
    return dtype


def is_float(dtype: np.dtype) -> bool:
    return dtype.kind == "f"


def dim_symbol(name: str) -> sympy.Symbol:
    """The named dimension ``name``; equal names give the same symbol."""
    return sympy.Symbol(name, integer=True, positive=True)


def as_dim(value) -> Dim:
    """Normalize a user's dimension: an int, a name such as ``"batch"``, or a SymPy expression of names."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"a dimension must be an int or a name, not {value!r}")
    if isinstance(value, (int, np.integer)):
        if value < 0:
            raise ValueError(f"a dimension must be non-negative, not {value}")
        return int(value)
    if isinstance(value, str):
        if not value.isidentifier():
            raise ValueError(f"a named dimension must be an identifier, not {value!r}")
        return dim_symbol(value)
    if isinstance(value, sympy.Expr):
        return int(value) if value.is_Integer else value
    raise TypeError(f"a dimension must be an int or a name, not {value!r}")


def as_shape(values) -> Shape:
    if isinstance(values, (int, str, sympy.Expr)):
        values = (values,)
    return tuple(as_dim(v) for v in values)


def is_concrete(shape: Shape) -> bool:
    return all(isinstance(d, int) for d in shape)


def format_dim(dim: Dim) -> str:
    return str(dim)


def format_shape(shape: Shape) -> str:
    inner = ", ".join(format_dim(d) for d in shape)
    return f"({inner},)" if len(shape) == 1 else f"({inner})"


def size(shape: Shape) -> Dim:
    """Number of elements, symbolic if any dimension is."""
    total = sympy.Integer(1)
    for d in shape:
        total = total * d
    return as_dim(sympy.sympify(total))


def quotient(total, part) -> sympy.Expr:
    """``total / part`` for sizes that divide exactly, a polynomial in the named dimensions: a product over a product
    cancels by itself, and a sum is cancelled (far cheaper than ``sympy.simplify``), so (96 t - 96) / (t - 1) is 96.
    ValueError when ``part`` does not divide ``total``."""
    result = sympy.sympify(total) / sympy.sympify(part)
    if sympy.fraction(result)[1] != 1:
        result = sympy.cancel(result)
    if sympy.fraction(result)[1] != 1:
        raise ValueError(f"{total} is not a multiple of {part}")
    return result


def broadcast_shapes(*shapes: Shape) -> Shape:
    """NumPy's broadcasting rule; raises ValueError naming the dimensions that cannot be combined.

    A named dimension only broadcasts against 1 or itself: against a fixed size it would be a guess.
    """
    rank = max(len(s) for s in shapes)
    result: list[Dim] = []
    for axis in range(rank):
        dims = [s[axis - rank + len(s)] for s in shapes if axis - rank + len(s) >= 0]
        chosen: Dim = 1
        for d in dims:
            if d == 1 or d == chosen:
                continue
            if chosen == 1:
                chosen = d
            else:
                raise ValueError(f"dimensions {format_dim(chosen)} and {format_dim(d)} do not broadcast")
        result.append(chosen)
    return tuple(result)


def normalize_axis(axis: int, rank: int) -> int:
    if not -rank <= axis < max(rank, 1):
        raise ShapeError(f"axis {axis} is out of range for rank {rank}", user_location())
    return axis % rank if rank else 0


def resolve_dim(dim: Dim, bindings: dict) -> int:
    """The size of ``dim`` under ``bindings`` ({symbol: int})."""
    if isinstance(dim, int):
        return dim
    value = sympy.sympify(dim.xreplace(bindings))
    if not value.is_Integer:
        missing = ", ".join(sorted(str(s) for s in value.free_symbols))
        raise KeyError(f"named dimension(s) {missing} are not bound")
    return int(value)


def resolve_shape(shape: Shape, bindings: dict) -> tuple[int, ...]:
    return tuple(resolve_dim(d, bindings) for d in shape)


def is_dim_expression(value) -> bool:
    """A SymPy expression over named dimensions (not, say, a fused kernel's formula over real symbols)."""
    return isinstance(value, sympy.Expr) and all(s.is_integer and s.is_positive for s in value.free_symbols)


def resolve_attribute(value, bindings: dict):
    """Replace named dimensions inside an attribute (ints, tuples, expressions, types) by their sizes."""
    if is_dim_expression(value):
        return resolve_dim(value, bindings)
    if isinstance(value, tuple):
        return tuple(resolve_attribute(v, bindings) for v in value)
    if isinstance(value, TensorType):
        return TensorType(resolve_shape(value.shape, bindings), value.dtype)
    return value


def map_sizes(value, function):
    """``value`` (a size, shape, type or tuple of them) with ``function`` applied to each fixed size in it, in
    order. Sizes inside expressions of named dimensions (``64*batch``) are left alone."""
    if isinstance(value, (bool, np.bool_)):
        return value
    if isinstance(value, (int, np.integer)):
        return function(int(value))
    if isinstance(value, TensorType):
        return TensorType(map_sizes(value.shape, function), value.dtype)
    if isinstance(value, tuple):
        return tuple(map_sizes(item, function) for item in value)
    return value


def generalize(value, table: dict):
    """``value`` with each fixed size that ``table`` ({int: symbol}) holds written as its symbol."""
    return map_sizes(value, lambda size: table.get(size, size)) if table else value


def bind_shape(declared: Shape, actual: tuple[int, ...], bindings: dict, who: str) -> str | None:
    """Bind the named dimensions of ``declared`` to ``actual``; returns why they disagree, or None.

    ``bindings`` maps symbol -> (size, who bound it) and is extended in place.
    """
    if len(declared) != len(actual):
        return f"expected rank {len(declared)} {format_shape(declared)}, got shape {tuple(actual)}"
    for want, got in zip(declared, actual):
        if isinstance(want, int):
            if want != got:
                return f"expected shape {format_shape(declared)}, got {tuple(actual)}"
        elif want.is_Symbol:
            if got == 0:  # the symbols are positive: rewrites such as batch / batch = 1 rely on it
                return (f"dimension '{want}' is 0 in shape {tuple(actual)}; a named dimension is a size of at "
                        "least 1 (an empty batch or a sequence of no steps has nothing to compute)")
            if want in bindings and bindings[want][0] != got:
                return f"dimension '{want}' is {got} here but was bound to {bindings[want][0]} by {bindings[want][1]}"
            bindings.setdefault(want, (got, who))
    return None


@dataclass(frozen=True)
class TensorType:
    """The static type of a value: its shape (with named dimensions) and dtype."""

    shape: Shape
    dtype: np.dtype

    @property
    def rank(self) -> int:
        return len(self.shape)

    def __str__(self) -> str:
        return f"{self.dtype.name}{format_shape(self.shape)}"
