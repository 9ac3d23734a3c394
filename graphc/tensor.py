"""``Tensor``: the user's handle on an IR node, with NumPy-like facts (shape, dtype) and, once ``graphc.ops`` is
imported, Python operators that build nodes through the op table, so shape and dtype errors surface on the user's
line. ``==`` compares graph identity, as for any Python object used as a key; element-wise equality is
``graphc.equal``. Also the names and scopes users give values for pictures.
"""

from __future__ import annotations

import numpy as np

from . import ir
from .types import format_shape


class Tensor:
    """A symbolic value in a graph."""

    __slots__ = ("node",)
    __array_priority__ = 1000  # ndarray + Tensor calls Tensor.__radd__ instead of broadcasting over the Tensor

    def __init__(self, node: ir.Node):
        self.node = node

    # --- facts ---------------------------------------------------------------------------------------------------
    @property
    def shape(self):
        return self.node.type.shape

    @property
    def dtype(self) -> np.dtype:
        return self.node.type.dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def op(self) -> str:
        return self.node.op.name

    @property
    def name(self) -> str | None:
        """The user's name of an input or parameter, else None."""
        return self.node.attr("name")

    def __repr__(self) -> str:
        label = f"{self.op} {self.name!r}" if self.name else self.op
        return f"Tensor({label}, {self.dtype.name}{format_shape(self.shape)}, at {self.node.location})"

    def __hash__(self) -> int:
        return hash(self.node)

    def __eq__(self, other) -> bool:
        return isinstance(other, Tensor) and other.node is self.node

    def __bool__(self):
        raise TypeError("a symbolic tensor has no truth value; use graphc.where for data-dependent choices")

    def __iter__(self):
        raise TypeError("a symbolic tensor cannot be iterated; index it or use graphc.scan")

    # The operators (+, @, [], .T, .sum(), ...) are attached by graphc.ops.operators, which defines the ops.


def node_of(value) -> ir.Node:
    """The IR node of a Tensor (or a node itself)."""
    node = getattr(value, "node", value)
    if not isinstance(node, ir.Node):
        raise TypeError(f"expected a graphc tensor, got {type(value).__name__}")
    return node


def name(tensor: Tensor, label: str) -> Tensor:
    """Give an intermediate value a name for pictures (``e = graphc.name(a + 2 * b, "e")``); returns it."""
    ir.set_display_name(tensor.node, check_name(label))
    return tensor


def check_name(name) -> str:
    if not isinstance(name, str) or not name:
        raise TypeError(f"a name must be a non-empty string, got {name!r}")
    return name


scope = ir.scope
