"""Common-subexpression elimination.

Interning already merges nodes that are built identically. This pass finishes the job after differentiation and
rewriting: inputs of commutative ops are put in a canonical order (the position of the node each input came from in
the graph's deterministic topological order), so ``a*b`` and ``b*a`` become one node. Random ops carry a unique
instance attribute and are never merged.

Loops merge too: differentiating a scan builds a copy of it that also outputs what the backward pass stores, so a
loop whose outputs are a prefix of another's (same inputs, same body otherwise) is replaced by the longer one.
"""

from __future__ import annotations

from ..ir import Graph, Node, remake
from .rewrite import rebuild


def _longest_loops(graph: Graph) -> dict[Node, Node]:
    """Each loop that another loop extends (same inputs and settings, its outputs a prefix) -> the longest one."""
    loops = [n for n in graph.nodes if n.op.nested]
    longest: dict[Node, Node] = {}
    for loop in loops:
        body = loop.attr("body")
        for other in loops:
            wider = other.attr("body")
            if (other is not loop and other.inputs == loop.inputs and len(wider.outputs) > len(body.outputs)
                    and wider.slots == body.slots and wider.outputs[:len(body.outputs)] == body.outputs
                    and all(other.attr(k) == loop.attr(k) for k in ("reverse", "length", "recompute"))
                    and len(wider.outputs) > len(longest.get(loop, loop).attr("body").outputs)):
                longest[loop] = other
    return longest


def eliminate_common_subexpressions(graph: Graph) -> Graph:
    position = {node: index for index, node in enumerate(graph.nodes)}
    longest = _longest_loops(graph)

    def transform(node: Node, inputs: tuple[Node, ...]) -> Node:
        if node in longest:  # the same inputs, so ``inputs`` are the longer loop's rebuilt inputs too
            return remake(longest[node], inputs)
        if node.op.commutative:
            ordered = sorted(zip(node.inputs, inputs), key=lambda pair: position[pair[0]])
            inputs = tuple(new for _, new in ordered)
        return remake(node, inputs)

    return rebuild(graph, transform)
