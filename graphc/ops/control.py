"""Ops that structure values rather than compute them: ``item`` projects one result of a tuple-valued node (a
fused kernel, a loop), and ``scan`` is the loop.

A scan's ``body`` is a subgraph over ``slot`` leaves: the carried state, one step's slice of each sequence, and the
values captured from outside (parameters, and anything else that does not change from step to step). Its outputs
are the new carry followed by the step's outputs, which the scan stacks along a new leading time axis. A slot
belongs to one body (its ``tag``), so nested loops and a loop's gradient never confuse their placeholders.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..types import TensorType
from .leaf import Leaf
from .registry import Op, apply, register


@register
class Item(Op):
    """Result ``index`` of a node with several results."""

    name = "item"
    derivative_text = ("g into result slot",)
    internal = True

    def infer(self, types, index):
        return types[0][index]

    def reference(self, values, index):
        return values[index]

    def vjp(self, inputs, out, grad, index):
        return [(index, grad)]  # autodiff accumulates this into slot ``index`` of the tuple's gradient


def item(node, index: int):
    return apply("item", node, index=index)


@register
class Slot(Leaf):
    """A placeholder inside a loop body: the carry (``role`` "carry"), a step of a sequence ("sequence") or a
    captured outside value ("capture"), number ``index`` of its role in the body ``tag``."""

    name = "slot"
    internal = True

    def reference(self, **attrs):
        raise RuntimeError("slots are given by the loop that runs the body")


def slot(name: str, kind: TensorType, role: str, index: int, tag: str):
    return apply("slot", name=name, shape=kind.shape, dtype=kind.dtype.name, role=role, index=index, tag=tag)


@dataclass(frozen=True)
class Body:
    """A loop body: its slots by role and its outputs (the new carry, then the per-step outputs)."""

    carries: tuple
    sequences: tuple
    captures: tuple
    outputs: tuple

    @property
    def slots(self) -> tuple:
        return self.carries + self.sequences + self.captures

    @property
    def steps(self) -> tuple:
        """The per-step outputs."""
        return self.outputs[len(self.carries):]

    @cached_property
    def graph(self):
        from ..ir import Graph

        return Graph(self.outputs)

    def key(self) -> str:
        """What compiled code depends on: the body's structure and which slot is which (not tags or lines)."""
        from ..backends.lower import structural_key

        index = {node: i for i, node in enumerate(self.graph.nodes)}
        roles = [tuple(index.get(s, -1) for s in group) for group in (self.carries, self.sequences, self.captures)]
        return hashlib.sha256(f"{structural_key(self.graph)}|{roles}".encode()).hexdigest()

    def __repr__(self) -> str:
        return f"<body: {len(self.graph.nodes)} nodes>"


def loop_like(loop, inputs, body: Body):
    """A loop with ``loop``'s settings (direction, length, recompute) over new inputs and a new body, built as if at
    ``loop``'s line: what every pass that reshapes a loop builds."""
    from ..ir import built_for

    settings = {key: loop.attr(key) for key in ("reverse", "length", "recompute")}
    with built_for(loop):
        return apply("scan", *inputs, body=body, **settings).node


@register
class Scan(Op):
    """``scan(init..., sequences..., captures...)``: run ``body`` over the time axis (backwards if ``reverse``).

    Results: the final carry, then each per-step output stacked to (length, ...). The derivative is a reverse
    scan (backpropagation through time, ``autodiff.scan_vjp``); ``recompute`` makes it recompute each step's
    intermediate values instead of storing them."""

    name = "scan"
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
        from ..autodiff import scan_vjp

        return scan_vjp(out.node, grads)
