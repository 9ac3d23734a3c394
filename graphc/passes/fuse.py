"""Element-wise fusion: maximal groups of element-wise nodes become one ``fused`` node.

A fused node holds one SymPy expression per result, over its external inputs; ``sympy.cse`` later shares work
across all of them, so forward values and their derivatives (an LSTM cell's gates, c_t, h_t and their
gradients) are computed together.

Grouping (networkx): nodes are visited in topological order and a node joins the group of each element-wise input
it can. Two rules keep fusion from duplicating work or creating cycles:

- **No recomputation.** Every node belongs to exactly one group. A value needed outside its group (by another
  group, a matmul, or as a graph output) becomes one of the group's results and is read, not recomputed. Only scalar
  constants are copied into every group that uses them, as numbers in the expressions.
- **One iteration space.** A node joins a group only if its shape equals the group's: an element-wise op on a
  smaller shape (a bias's sigmoid, say) would otherwise be recomputed for every element of the broadcast axes.
- **No cycles.** Two groups merge only if no path leads from one to the other through nodes outside them.
"""

from __future__ import annotations

import networkx
import sympy

from ..ir import Graph, Node, built_for, remake
from ..ops.arithmetic import Cast
from ..ops.fused import input_symbol
from ..ops.item import item
from ..ops.registry import apply
from .rewrite import constant_value


def fusible(node: Node) -> bool:
    """Float results, and booleans (comparisons: SymPy relations); a cast from bool would need 0/1 arithmetic."""
    if not node.op.elementwise or isinstance(node.type, tuple) or node.type.dtype.kind not in "fb":
        return False
    return not (isinstance(node.op, Cast) and node.inputs[0].type.dtype.kind == "b")


def _groups(graph: Graph) -> tuple[networkx.DiGraph, dict[Node, int], dict[int, list[Node]]]:
    """The quotient DAG of groups (ids: a member's topological index), each node's group, and each group's members
    in topological order."""
    position = {node: index for index, node in enumerate(graph.nodes)}
    group = dict(position)
    members = {index: [node] for node, index in position.items()}  # so a merge relabels only the merged group
    quotient = networkx.DiGraph()
    quotient.add_nodes_from(range(len(graph.nodes)))
    for node in graph.nodes:
        for child in node.inputs:
            quotient.add_edge(group[child], group[node])
    for node in graph.nodes:
        if not fusible(node):
            continue
        for child in node.inputs:
            producer, consumer = group[child], group[node]
            if producer == consumer or not fusible(child) or child.type.shape != node.type.shape:
                continue
            quotient.remove_edge(producer, consumer)
            cycle = networkx.has_path(quotient, producer, consumer)
            quotient.add_edge(producer, consumer)
            if cycle:
                continue
            networkx.contracted_nodes(quotient, consumer, producer, self_loops=False, copy=False)
            for member in members[producer]:
                group[member] = consumer
            members[consumer] += members.pop(producer)
    for nodes in members.values():
        nodes.sort(key=position.__getitem__)
    return quotient, group, members


def fuse_elementwise(graph: Graph) -> Graph:
    quotient, group, members = _groups(graph)
    position = {node: index for index, node in enumerate(graph.nodes)}
    outputs = set(graph.outputs)

    def used_outside(node: Node) -> bool:
        return node in outputs or any(group[user] != group[node] for user in graph.users[node])

    mapping: dict[Node, Node] = {}
    order = networkx.lexicographical_topological_sort(quotient, key=lambda g: position[members[g][0]])
    for group_id in order:
        nodes = members[group_id]
        if len(nodes) == 1:
            node = nodes[0]
            mapping[node] = remake(node, tuple(mapping[i] for i in node.inputs))
            continue
        results = [n for n in nodes if used_outside(n)]
        fused = _fuse(nodes, results, mapping)
        for index, result in enumerate(results):
            with built_for(result):
                mapping[result] = item(fused, index).node
    return Graph(mapping[o] for o in graph.outputs)


def _fuse(nodes: list[Node], results: list[Node], mapping: dict[Node, Node]):
    """One fused node computing ``results`` from the group's external inputs (already rebuilt in ``mapping``)."""
    inside = set(nodes)
    external: list[Node] = []
    expressions: dict[Node, sympy.Expr] = {}

    def operand(child: Node) -> sympy.Expr:
        if child in inside:
            return expressions[child]
        value = constant_value(child)
        if child.op.literal and child.type.shape == () and value is not None:
            return sympy.Integer(int(value)) if float(value).is_integer() else sympy.Float(value, precision=53)
        if child not in external:
            external.append(child)
        return input_symbol(external.index(child))

    with sympy.evaluate(False):  # keep each op as written: SymPy must not turn x*0 into 0 for a NaN x
        for node in nodes:
            expressions[node] = node.op.expr(*(operand(c) for c in node.inputs), **node.attributes)
    with built_for(results[0]):
        return apply("fused", *(mapping[e] for e in external), expressions=tuple(expressions[r] for r in results),
                     outputs=tuple(r.type for r in results), members=tuple(nodes), results=tuple(results))
