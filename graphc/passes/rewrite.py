"""What every pass is built from: rebuilding a graph node by node, and rewrite rules written as data.

A rule is a pattern, a replacement and a comment with its algebra. Patterns are nested tuples
``("op", sub-pattern, ..., {attribute: value or Var})``; a ``Var`` matches any node (the same Var, the same node),
a number matches a constant (or a broadcast of one) whose elements all equal it. Commutative ops match both ways.
A replacement is a Var, a number, a tuple built the same way, or a function of the bindings. A rewrite applies
only if its result has exactly the type of the node it replaces, so no rule can change a shape or a dtype.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..ir import Graph, Node, built_for, remake
from ..ops import constant
from ..ops.registry import apply
from ..tensor import Tensor


def rebuild(graph: Graph, transform: Callable[[Node, tuple[Node, ...]], Node]) -> Graph:
    """A new graph whose node for each old node is ``transform(old, its new inputs)``, in topological order."""
    mapping: dict[Node, Node] = {}
    for node in graph.nodes:
        mapping[node] = transform(node, tuple(mapping[i] for i in node.inputs))
    return Graph(mapping[o] for o in graph.outputs)


@dataclass(frozen=True)
class Var:
    """A pattern variable; ``test`` (node -> bool) restricts what it matches."""

    name: str
    test: Callable[[Node], bool] | None = None


def constant_value(node: Node):
    """The single value of a constant node, or of a broadcast of a constant, else None."""
    while node.op.broadcast:
        node = node.inputs[0]
    if not node.op.literal:
        return None
    array = node.attr("value").array
    if array.size == 0 or array.dtype.kind == "b":
        return None
    first = array.flat[0]
    return first.item() if np.all(array == first) else None


def match(pattern, node: Node, bound: dict) -> dict | None:
    """Bindings under which ``pattern`` describes ``node`` (extending ``bound``), or None."""
    if isinstance(pattern, Var):
        if pattern.name in bound:
            return bound if bound[pattern.name] is node else None
        if pattern.test is not None and not pattern.test(node):
            return None
        return {**bound, pattern.name: node}
    if isinstance(pattern, (int, float)):
        value = constant_value(node)
        return bound if value is not None and value == pattern else None
    name, *arguments = pattern
    attributes = arguments.pop() if arguments and isinstance(arguments[-1], dict) else {}
    if node.op.name != name or len(node.inputs) != len(arguments):
        return None
    for key, expected in attributes.items():
        actual = node.attr(key)
        if isinstance(expected, Var):
            if expected.name in bound and bound[expected.name] != actual:
                return None
            bound = {**bound, expected.name: actual}
        elif actual != expected:
            return None
    orders = [node.inputs]
    if node.op.commutative and len(node.inputs) == 2:
        orders.append(node.inputs[::-1])
    for inputs in orders:
        result = bound
        for sub_pattern, child in zip(arguments, inputs):
            result = match(sub_pattern, child, result)
            if result is None:
                break
        else:
            return result
    return None


def instantiate(template, bound: dict, node: Node) -> Tensor:
    """Build the replacement ``template`` under ``bound``; numbers take ``node``'s dtype."""
    if callable(template):
        return template({k: Tensor(v) if isinstance(v, Node) else v for k, v in bound.items()}, Tensor(node))
    if isinstance(template, Var):
        return Tensor(bound[template.name])
    if isinstance(template, (int, float)):
        return constant(float(template), node.type.dtype)
    name, *arguments = template
    attributes = arguments.pop() if arguments and isinstance(arguments[-1], dict) else {}
    inputs = [instantiate(a, bound, node) for a in arguments]
    attrs = {k: bound[v.name] if isinstance(v, Var) else v for k, v in attributes.items()}
    return apply(name, *inputs, **attrs)


@dataclass(frozen=True)
class Rule:
    """``pattern -> replacement``. ``exact=False`` marks a rule that is not exact for NaN or Inf (``x*0 -> 0``);
    such rules run only when the user asks for them. ``when(bound)`` can restrict a rule further."""

    name: str
    pattern: tuple
    replacement: object
    exact: bool = True
    when: Callable[[dict], bool] | None = None
    exclusive: str | None = None  # a Var whose node only nodes like the matched one may use (else it is duplicated)

    def apply(self, node: Node, users: dict | None = None) -> Node | None:
        bound = match(self.pattern, node, {})
        if bound is None or (self.when is not None and not self.when(bound)):
            return None
        if self.exclusive is not None:
            shared = bound[self.exclusive]
            if users is None or shared not in users or any(u.op is not node.op for u in users[shared]):
                return None
        with built_for(node):
            try:
                result = instantiate(self.replacement, bound, node).node
            except (ValueError, TypeError):  # the replacement does not fit these shapes: no rewrite
                return None
        return result if result is not node and result.type == node.type else None


def rewrite(graph: Graph, rules: tuple[Rule, ...], max_rounds: int = 50) -> tuple[Graph, dict[str, int]]:
    """Apply ``rules`` everywhere until none applies; returns the graph and how often each rule fired."""
    fired: dict[str, int] = {}
    users: dict = {}
    # The rules that can match a node of each op, in their order: most of a graph's nodes are tried against a few
    # rules, not all of them (in random-graph tests, trying every rule on every node was 40% of optimizing).
    by_op: dict[str, tuple[Rule, ...]] = {}

    def candidates(name: str) -> tuple[Rule, ...]:
        if name not in by_op:
            by_op[name] = tuple(r for r in rules if not isinstance(r.pattern, tuple) or r.pattern[0] == name)
        return by_op[name]

    def transform(node: Node, inputs: tuple[Node, ...]) -> Node:
        node = remake(node, inputs)
        for rule in candidates(node.op.name):
            result = rule.apply(node, users)
            if result is not None:
                fired[rule.name] = fired.get(rule.name, 0) + 1
                return result
        return node

    for _ in range(max_rounds):
        users = graph.users  # of this round's graph: an unchanged node's users are still these
        rewritten = rebuild(graph, transform)
        if rewritten == graph:
            break
        graph = rewritten
    return graph, fired
