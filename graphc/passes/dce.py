"""Dead-code elimination.

Unreachable nodes never enter a ``Graph`` (a graph holds what its outputs reach), so what is left to remove is work
that is reachable but computes nothing: ``identity``, and ``stop_gradient``, which after differentiation no longer
changes anything.
"""

from __future__ import annotations

from ..ir import Graph, Node, remake
from .rewrite import rebuild

NO_OPS = ("identity", "stop_gradient")


def eliminate_dead_code(graph: Graph) -> Graph:
    def transform(node: Node, inputs: tuple[Node, ...]) -> Node:
        if node.op.name in NO_OPS:
            return inputs[0]
        return remake(node, inputs)

    return rebuild(graph, transform)
