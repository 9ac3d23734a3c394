"""Text on pictures: node labels, value summaries and shortening, kept short so big graphs stay legible."""

from __future__ import annotations

import numpy as np

from ..ir import Node, display_name
from ..types import format_shape

# Attributes worth showing on an op's label (the rest are shapes and internals).
SHOWN_ATTRIBUTES = ("axis", "axes", "alpha", "dtype", "depth")


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 1)] + "…"


def summary(value) -> str:
    """A scalar as a number; a small tensor as its values; a larger one as its shape, mean and largest magnitude."""
    array = np.asarray(value)
    if array.dtype.kind == "b":
        return f"{array.shape} {int(array.sum())} true" if array.ndim else str(bool(array))
    if array.ndim == 0:
        return f"{array.item():.4g}"
    if array.size <= 4:
        return "[" + ", ".join(f"{v:.3g}" for v in array.ravel()) + "]"
    finite = array[np.isfinite(array)] if array.dtype.kind == "f" else array
    if finite.size < array.size:
        return f"{array.shape} {array.size - finite.size} NaN/Inf!"
    return f"{array.shape} μ={array.mean():.3g} max|·|={np.abs(array).max():.3g}"


def constant_text(node: Node) -> str:
    array = node.attr("value").array
    return summary(array) if array.size <= 4 else f"const {format_shape(array.shape)}"


def node_label(node: Node, limit: int) -> str:
    """What a node is called in a picture: a leaf by its name, an op by its name and key attributes."""
    name = node.op.name
    if node.op.fed:
        return shorten(node.attr("name"), limit)
    if node.op.literal:
        return constant_text(node)
    shown = [f"{k}={v}" for k, v in node.attrs if k in SHOWN_ATTRIBUTES]
    text = shorten(f"{name} {' '.join(shown)}".strip(), limit)
    given = display_name(node)
    return f"{shorten(given, limit)} = {text}" if given else text


def short_name(node: Node, limit: int) -> str:
    """How a value is referred to in formulas and gradient names: its given name, a constant's value, or its op."""
    if node.op.literal:
        return constant_text(node)
    return shorten(display_name(node) or node.op.name, limit)


def type_text(node: Node) -> str:
    """A value's shape (with named dimensions) for an edge, nothing for a scalar; several for a multi-result node."""
    if isinstance(node.type, tuple):
        return ", ".join(format_shape(t.shape) for t in node.type)
    return format_shape(node.type.shape) if node.type.shape else ""


def derivative_label(user: Node, position: int, limit: int) -> str:
    """The local derivative on a backward edge, d user / d its input ``position``, in the names of its inputs
    (``× ...`` for an element-wise op: upstream times local)."""
    names = tuple(short_name(i, limit) for i in user.inputs)
    texts = user.op.local_derivatives(names, **user.attributes)
    text = texts[min(position, len(texts) - 1)] if texts else ""
    return f"× {text}" if user.op.elementwise and text else text
