"""Constant folding: a node whose inputs are all constants becomes the constant it evaluates to."""

from __future__ import annotations

import numpy as np

from ..ir import Graph, Node, remake
from ..ops import constant
from ..types import is_concrete
from .rewrite import rebuild

# Folding must not turn a small constant into a large one (broadcast_to(0.0, (4096, 4096)) stays an op).
MAX_GROWTH_ELEMENTS = 64


def fold_constants(graph: Graph) -> Graph:
    def transform(node: Node, inputs: tuple[Node, ...]) -> Node:
        node = remake(node, inputs)
        if (node.op.leaf or node.op.random or node.op.internal or not inputs
                or any(not i.op.literal for i in inputs) or not is_concrete(node.type.shape)):
            return node
        arrays = [i.attr("value").array for i in inputs]
        with np.errstate(all="ignore"):
            value = np.asarray(node.op.reference(*arrays, **node.attributes))
        if value.size > max(MAX_GROWTH_ELEMENTS, *(a.size for a in arrays)):
            return node
        return constant(value.astype(node.type.dtype), node.type.dtype).node

    return rebuild(graph, transform)
