"""``for_evaluation``: a model's graph as evaluation runs it (validation, perplexity, generation), not training:
each node whose op names an ``evaluation_input`` (dropout) is replaced by that input. A ``Graph -> Graph`` pass
kept out of ``optimize``, whose graphs mean the same thing before and after."""

from __future__ import annotations

import warnings

from ..ir import Graph, Node, remake
from .rewrite import rebuild


def for_evaluation(graph: Graph) -> Graph:
    def transform(node: Node, inputs: tuple[Node, ...]) -> Node:
        if node.op.evaluation_input is not None:
            return inputs[node.op.evaluation_input]
        if node.op.nested and any(n.op.evaluation_input is not None for n in node.attr("body").graph.nodes):
            warnings.warn(f"{node.location}: a loop body with dropout keeps it in evaluation (only dropout outside "
                          "loops, such as between recurrent layers, is left out)", stacklevel=3)
        return remake(node, inputs)

    return rebuild(graph, transform)
