"""The loop: the ``scan`` op (its shape rule, its reference implementation, and its derivative, a reverse scan) and
``graphc.scan``, which traces the user's step function once into a body.

The step function is called once on placeholders (slots) for the carry and for one step of each sequence. Whatever
it builds that does not depend on them (a transposed weight, a bias broadcast) is computed once outside the loop
and captured; the body keeps only the work that changes from step to step.
"""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError, user_location
from ..ops.item import item
from ..ops.registry import Op, apply, public, register
from ..tensor import Tensor
from ..types import TensorType, format_shape
from .body import close_body, new_tag, slot
from .derivative import scan_vjp


@register
class Scan(Op):
    """``scan(init..., sequences..., captures...)``: run ``body`` over the time axis (backwards if ``reverse``).

    Results: the final carry, then each per-step output stacked to (length, ...). The derivative is a reverse
    scan (backpropagation through time, ``derivative.scan_vjp``); ``recompute`` makes it recompute each step's
    intermediate values instead of storing them."""

    name = "scan"
    planned = True
    sizes = ("length",)
    derivative_text = ("backpropagation through time",)
    internal = True  # built by graphc.scan; tested through it
    nested = True  # its reference implementation runs a subgraph

    def infer(self, types, body, reverse, length, recompute):
        stacked = tuple(TensorType((length,) + o.type.shape, o.type.dtype) for o in body.steps)
        return tuple(c.type for c in body.carries) + stacked

    def reference(self, *arrays, body, reverse, length, recompute, run):
        carries, count = len(body.carries), len(body.sequences)
        state = list(arrays[:carries])
        sequences = arrays[carries:carries + count]
        captures = dict(zip(body.captures, arrays[carries + count:]))
        steps: list = [None] * length
        for t in (range(length - 1, -1, -1) if reverse else range(length)):
            given = {**captures, **dict(zip(body.carries, state)), **{s: v[t] for s, v in zip(body.sequences,
                                                                                               sequences)}}
            results = run(body.outputs, given)
            state, steps[t] = results[:carries], results[carries:]
        stacked = [np.stack([steps[t][j] for t in range(length)]) for j in range(len(body.steps))]
        return tuple(state) + tuple(stacked)

    def vjp(self, inputs, out, grads, body, reverse, length, recompute):
        return scan_vjp(out.node, grads)


def _as_tuple(value) -> tuple[tuple, bool]:
    if value is None:
        return (), False
    if isinstance(value, (list, tuple)):
        return tuple(value), False
    return (value,), True


def _structure(values: tuple, single: bool):
    return values[0] if single else tuple(values)


@public
def scan(step, init, xs=None, *, reverse: bool = False, length=None, recompute: bool = False, carry_names=None):
    """Loop ``carry, y = step(carry, x)`` over the leading axis of ``xs``; returns ``(final_carry, ys)``.

    ``init`` is a tensor or a tuple of tensors (the carry); ``xs`` a tensor, a tuple of tensors (all with the same
    leading length) or None with ``length`` given. ``step`` gets the carry and one step of ``xs`` in the same
    structure and returns the new carry (same types as ``init``) and ``y``: None, a tensor or a tuple, stacked into
    ``ys`` along a new leading axis. ``reverse=True`` runs from the last step to the first (``ys`` keep their
    positions). The gradient is a reverse scan that stores each step's intermediate values, or recomputes them
    from the stored carry with ``recompute=True`` (less memory, more arithmetic). ``carry_names`` name the carry
    values in pictures (default carry0, carry1, ...).
    """
    location = user_location()
    init_values, init_single = _as_tuple(init)
    xs_values, xs_single = _as_tuple(xs)
    if not init_values:
        raise ShapeError("scan: needs an initial carry (a tensor or a tuple of tensors)", location)
    init_values = tuple(v if isinstance(v, Tensor) else Tensor(v) for v in init_values)
    if length is None:
        if not xs_values:
            raise ShapeError("scan: give sequences xs or a length", location)
        length = xs_values[0].shape[0] if xs_values[0].ndim else None
    for x in xs_values:
        if x.ndim == 0 or x.shape[0] != length:
            shapes = ", ".join(format_shape(v.shape) for v in xs_values)
            raise ShapeError(f"scan: every sequence needs the leading (time) axis of length {length}; "
                             f"got shapes {shapes}", location)
    if isinstance(length, int) and length < 1:
        raise ShapeError(f"scan: the sequence length must be at least 1, got {length}", location)

    tag = new_tag()
    names = tuple(carry_names) if carry_names else tuple(f"carry{i}" for i in range(len(init_values)))
    carries = tuple(slot(names[i], v.node.type, "carry", i, tag) for i, v in enumerate(init_values))
    steps = tuple(slot("x" if len(xs_values) == 1 else f"x{i}", TensorType(v.shape[1:], v.dtype), "sequence", i, tag)
                  for i, v in enumerate(xs_values))
    returned = step(_structure(carries, init_single), _structure(steps, xs_single) if xs_values else None)
    if not isinstance(returned, tuple) or len(returned) != 2:
        raise ShapeError("scan: the step function must return (new_carry, y); y may be None", location)
    new_carry, ys = returned
    carry_values, _ = _as_tuple(new_carry)
    y_values, y_single = _as_tuple(ys)
    if len(carry_values) != len(init_values):
        raise ShapeError(f"scan: the step returned {len(carry_values)} carry values for an initial carry of "
                         f"{len(init_values)}", location)
    for i, (new, old) in enumerate(zip(carry_values, init_values)):
        if not isinstance(new, Tensor) or new.node.type != old.node.type:
            got = new.node.type if isinstance(new, Tensor) else type(new).__name__
            raise ShapeError(f"scan: carry {i} must keep its type {old.node.type} from step to step, but the step "
                             f"returned {got}", getattr(getattr(new, "node", None), "location", location))
    for i, y in enumerate(y_values):
        if not isinstance(y, Tensor):
            raise ShapeError(f"scan: the step's output {i} must be a graphc tensor, got {type(y).__name__}", location)
    outputs = tuple(v.node for v in carry_values) + tuple(y.node for y in y_values)
    body, captured = close_body(tuple(c.node for c in carries), tuple(s.node for s in steps), outputs, tag)
    loop = apply("scan", *init_values, *xs_values, *(Tensor(c) for c in captured), body=body, reverse=bool(reverse),
                 length=length, recompute=bool(recompute))
    finals = tuple(item(loop, i) for i in range(len(init_values)))
    stacked = tuple(item(loop, len(init_values) + j) for j in range(len(y_values)))
    return _structure(finals, init_single), (_structure(stacked, y_single) if y_values else None)
