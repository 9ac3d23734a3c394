"""Dead-code elimination.

Unreachable nodes never enter a ``Graph`` (a graph holds what its outputs reach), so what is left to remove is work
that is reachable but computes nothing: ``identity``, and ``stop_gradient``, which after differentiation no longer
changes anything, and the parts of loops nobody reads: per-step outputs no one uses, and sequences and captured
values the body no longer reads (hoisting leaves both behind).
"""

from __future__ import annotations

from ..ir import Graph, Node, remake
from ..loops import Body, loop_like
from ..ops.registry import apply
from .rewrite import rebuild


def eliminate_dead_code(graph: Graph) -> Graph:
    renumbered: dict[Node, dict[int, int]] = {}  # a pruned loop -> old result index -> new

    def transform(node: Node, inputs: tuple[Node, ...]) -> Node:
        if node.op.passthrough:
            return inputs[0]
        if node.op.nested:
            used = {user.attr("index") for user in graph.users[node]} | {
                i for i in range(len(node.attr("body").carries))} if node not in graph.outputs else None
            pruned, mapping = _prune_loop(node, inputs, used)
            renumbered[pruned] = mapping
            return pruned
        if node.op.projection and inputs[0] in renumbered:
            return apply("item", inputs[0], index=renumbered[inputs[0]][node.attr("index")]).node
        return remake(node, inputs)

    return rebuild(graph, transform)


def _prune_loop(loop: Node, inputs: tuple[Node, ...], used: set[int] | None) -> tuple[Node, dict[int, int]]:
    """``loop`` without the per-step outputs outside ``used`` and without the slots its body does not read."""
    body: Body = loop.attr("body")
    k = len(body.carries)
    kept = [i for i in range(len(body.outputs)) if used is None or i in used]
    outputs = tuple(body.outputs[i] for i in kept)
    read = set(Graph(outputs).nodes)
    sequences = [(s, x) for s, x in zip(body.sequences, inputs[k:k + len(body.sequences)]) if s in read]
    captures = [(s, c) for s, c in zip(body.captures, inputs[k + len(body.sequences):]) if s in read]
    if len(kept) == len(body.outputs) and len(sequences) + len(captures) == len(body.sequences + body.captures):
        return remake(loop, inputs), {i: i for i in kept}
    pruned = Body(body.carries, tuple(s for s, _ in sequences), tuple(s for s, _ in captures), outputs)
    new = loop_like(loop, (*inputs[:k], *(x for _, x in sequences), *(c for _, c in captures)), pruned)
    return new, {old: new_index for new_index, old in enumerate(kept)}
