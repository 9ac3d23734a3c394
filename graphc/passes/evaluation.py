"""``for_evaluation``: a model's graph as evaluation runs it (validation, perplexity, generation), not training:
each node whose op names an ``evaluation_input`` (dropout) is replaced by that input. A ``Graph -> Graph`` pass
kept out of ``optimize``, whose graphs mean the same thing before and after."""

from __future__ import annotations

import warnings

from ..ir import Graph, Node, remake, topological_order


def for_evaluation(graph: Graph) -> Graph:
    new: dict[Node, Node] = {}
    for node in topological_order(graph.outputs):
        if node.op.evaluation_input is not None:
            new[node] = new[node.inputs[node.op.evaluation_input]]
            continue
        if node.op.nested and _trains_inside(node.attr("body").graph):
            warnings.warn(f"{node.location}: a loop body with dropout keeps it in evaluation (only dropout outside "
                          "loops, such as between recurrent layers, is left out)", stacklevel=2)
        new[node] = remake(node, tuple(new[i] for i in node.inputs))
    return Graph(new[o] for o in graph.outputs)


def _trains_inside(graph: Graph) -> bool:
    return any(n.op.evaluation_input is not None for n in topological_order(graph.outputs))
