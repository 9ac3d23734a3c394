"""Common-subexpression elimination.

Interning already merges nodes that are built identically. This pass finishes the job after differentiation and
rewriting: inputs of commutative ops are put in a canonical order (the position of the node each input came from in
the graph's deterministic topological order), so ``a*b`` and ``b*a`` become one node. Random ops carry a unique
instance attribute and are never merged.
"""

from __future__ import annotations

from ..ir import Graph, Node, remake
from .rewrite import rebuild


def eliminate_common_subexpressions(graph: Graph) -> Graph:
    position = {node: index for index, node in enumerate(graph.nodes)}

    def transform(node: Node, inputs: tuple[Node, ...]) -> Node:
        if node.op.commutative:
            ordered = sorted(zip(node.inputs, inputs), key=lambda pair: position[pair[0]])
            inputs = tuple(new for _, new in ordered)
        return remake(node, inputs)

    return rebuild(graph, transform)
