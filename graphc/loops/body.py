"""A loop's body: the subgraph one step runs, over ``slot`` leaves for the carried state, one step's slice of each
sequence, and the values captured from outside (parameters, and anything else that does not change from step to
step). Its outputs are the new carry followed by the step's outputs, which the loop stacks along a new leading time
axis. A slot belongs to one body (its ``tag``), so nested loops and a loop's gradient never confuse their
placeholders; the tag is left out of the body's key, so compiled code is still shared.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass
from functools import cached_property

from ..ir import Graph, Node, built_for, display_name, structural_key, substitute, topological_order
from ..ops.leaf import Leaf
from ..ops.registry import apply, register
from ..types import TensorType


@register
class Slot(Leaf):
    """A placeholder inside a loop body: the carry (``role`` "carry"), a step of a sequence ("sequence") or a
    captured outside value ("capture"), number ``index`` of its role in the body ``tag``."""

    name = "slot"
    placeholder = True
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
    def graph(self) -> Graph:
        return Graph(self.outputs)

    def key(self, sizes: dict | None = None) -> str:
        """What compiled code depends on: the body's structure and which slot is which (not tags or lines); with
        ``sizes``, the fixed sizes by their symbols (``structural_key``)."""
        index = {node: i for i, node in enumerate(self.graph.nodes)}
        roles = [tuple(index.get(s, -1) for s in group) for group in (self.carries, self.sequences, self.captures)]
        return hashlib.sha256(f"{structural_key(self.graph, sizes)}|{roles}".encode()).hexdigest()

    def __repr__(self) -> str:
        return f"<body: {len(self.graph.nodes)} nodes>"


def loop_like(loop, inputs, body: Body):
    """A loop with ``loop``'s settings (direction, length, recompute) over new inputs and a new body, built as if at
    ``loop``'s line: what every pass that reshapes a loop builds."""
    settings = {key: loop.attr(key) for key in ("reverse", "length", "recompute")}
    with built_for(loop):
        return apply("scan", *inputs, body=body, **settings).node


_tags = itertools.count()


def new_tag() -> str:
    """A fresh body tag: it only has to differ from every other body's (it is not part of compiled code's key)."""
    return f"b{next(_tags)}"


def close_body(carries: tuple, sequences: tuple, outputs: tuple, tag: str) -> tuple[Body, tuple]:
    """The body computing ``outputs`` from the slots ``carries`` and ``sequences``, and the outside values it
    captures: every maximal piece of ``outputs`` that does not depend on a slot (constants stay inside)."""
    varying: set[Node] = set(carries) | set(sequences)
    order = topological_order(outputs)
    for node in order:
        if node not in varying and (node.op.random or any(i in varying for i in node.inputs)):
            varying.add(node)
    captured: list[Node] = []
    for node in order:
        if node in varying:
            candidates = node.inputs
        elif node in outputs:
            candidates = (node,)
        else:
            continue
        for value in candidates:
            if value not in varying and not value.op.literal and value not in captured:
                captured.append(value)
    placeholders = [slot(display_name(c) or f"capture{i}", c.type, "capture", i, tag).node
                    for i, c in enumerate(captured)]
    outputs = substitute(outputs, dict(zip(captured, placeholders)))
    return Body(tuple(carries), tuple(sequences), tuple(placeholders), outputs), tuple(captured)
