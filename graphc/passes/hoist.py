"""Hoisting: work inside a loop that can be done for all steps at once, moved out of the loop.

Each rewrite replaces one small operation per step by one large one (a GEMM over T·B rows instead of T GEMMs over
B rows):

- **inputs**: per-step work that does not depend on the carry and contains a matmul or a gather (an RNN's input
  projection ``x_t·W + b``) is computed for all steps before the loop and read as a new sequence;
- **outputs**: a per-step output ``a_t·C``, with ``C`` the same at every step (the gradient of an input sequence,
  ``dz_t·Wᵀ``), becomes one matmul after the loop over the stacked ``a_t``;
- **sums over time**: ``Σ_t a_tᵀ·b_t`` (a weight's gradient) becomes one matmul of the stacked ``a`` and ``b`` with
  time and batch axes merged, and ``Σ_t sum(g_t)`` (a bias's) one sum.

Element-wise work without a matmul stays in the loop, where it fuses with the rest of the step. The loop keeps its
old outputs; DCE removes the ones nobody reads any more.
"""

from __future__ import annotations

from dataclasses import replace

from ..ir import Graph, Node, built_for, remake, substitute
from ..loops import Body, loop_like, slot
from ..ops import matmul, reshape, sum, transpose
from ..ops.item import item
from ..ops.linalg import MatMul
from ..ops.reduce import Sum
from ..ops.registry import apply
from ..ops.shape import Transpose
from ..tensor import Tensor
from ..types import TensorType


class _CannotLift(Exception):
    pass


def hoist_loop_work(graph: Graph) -> Graph:
    replacements: dict[Node, Node] = {}  # items and sums of a loop -> their hoisted replacements
    mapping: dict[Node, Node] = {}
    for node in graph.nodes:
        if node in replacements:
            mapping[node] = replacements[node]
            continue
        inputs = tuple(mapping[i] for i in node.inputs)
        if node.op.nested:
            with built_for(node):
                mapping[node] = _hoist(node, inputs, graph, replacements)
        else:
            mapping[node] = remake(node, inputs)
    return Graph(mapping[o] for o in graph.outputs)


def _hoist(loop: Node, inputs: tuple[Node, ...], graph: Graph, replacements: dict) -> Node:
    body: Body = loop.attr("body")
    k, length = len(body.carries), loop.attr("length")
    outer = dict(zip(body.sequences + body.captures, inputs[k:]))
    body, lifted = _hoist_inputs(body, outer, length)
    outer.update(zip(body.sequences[len(body.sequences) - len(lifted):], lifted))

    # Per-step values the replacements read: sequences already, or new per-step outputs of the loop.
    steps = list(body.steps)
    requests: list[tuple[Node, object]] = []  # (old item or sum, builder of its replacement from the stacks)

    def stacked(value: Node):
        if value in body.sequences:
            return lambda items: Tensor(outer[value])
        if value not in steps:
            steps.append(value)
        index = k + steps.index(value)
        return lambda items: items(index)

    for user in graph.users[loop]:
        if not user.op.projection or user.attr("index") < k:
            continue
        step = body.outputs[user.attr("index")]
        rule = _output_rule(step, body, outer, length, stacked)
        if rule is not None:
            requests.append((user, rule))
        for summed in graph.users[user]:
            if isinstance(summed.op, Sum) and summed.attr("axes") == (0,) and not summed.attr("keepdims"):
                rule = _time_sum_rule(step, body, length, stacked)
                if rule is not None:
                    requests.append((summed, rule))
    if len(steps) > len(body.steps):
        body = replace(body, outputs=body.outputs[:k] + tuple(steps))
    if body is loop.attr("body") and not requests:
        return remake(loop, inputs)
    sequences = tuple(outer[s] for s in body.sequences)
    captures = tuple(outer[s] for s in body.captures)
    new = loop_like(loop, (*inputs[:k], *sequences, *captures), body)
    for old, rule in requests:
        with built_for(old):
            replacements[old] = rule(lambda index: item(new, index)).node
    return new


def _hoist_inputs(body: Body, outer: dict, length) -> tuple[Body, list[Node]]:
    """``body`` reading its carry-free batched work as new sequences, and those sequences' outer values."""
    varying = set(body.carries)
    stepwise = set(body.sequences)
    heavy: set[Node] = set()
    liftable: set[Node] = set(body.sequences) | set(body.captures)
    for node in body.graph.nodes:
        if node.op.leaf:
            if node.op.literal:
                liftable.add(node)
            continue
        if node.op.random or any(i in varying for i in node.inputs):
            varying.add(node)
            continue
        if any(i in stepwise for i in node.inputs):
            stepwise.add(node)
        if ((node.op.elementwise and not node.op.kernel) or node.op.batched) and all(
                i in liftable for i in node.inputs):
            liftable.add(node)
            if node.op.batched or any(i in heavy for i in node.inputs):
                heavy.add(node)
    users = body.graph.users
    frontier = [n for n in body.graph.nodes if n in heavy and n in stepwise
                and (n in body.outputs or any(u not in liftable for u in users[n]))]
    memo: dict[Node, tuple[Tensor, bool]] = {}
    lifted, slots = [], []
    tag = body.slots[0].attr("tag")
    for node in frontier:
        try:
            value, _ = _lift(node, outer, length, memo)
        except _CannotLift:
            continue
        lifted.append(value.node)
        slots.append(slot(f"hoisted {node.op.name}", node.type, "sequence", len(body.sequences) + len(slots),
                          tag).node)
    if not lifted:
        return body, []
    outputs = substitute(body.outputs, dict(zip([n for n in frontier if n in memo], slots)))
    return Body(body.carries, body.sequences + tuple(slots), body.captures, outputs), lifted


def _lift(node: Node, outer: dict, length, memo: dict) -> tuple[Tensor, bool]:
    """``node`` computed for every step at once: (a tensor with a leading time axis, True), or (the value, False)
    for a node that is the same at every step."""
    if node in memo:
        return memo[node]
    if node.op.placeholder:
        result = (Tensor(outer[node]), node.attr("role") == "sequence")
    elif node.op.literal:
        result = (Tensor(node), False)
    else:
        arguments = [_lift(i, outer, length, memo) for i in node.inputs]
        result = (_batched(node, arguments, length), True)
        if result[0].node.type != TensorType((length,) + node.type.shape, node.type.dtype):
            raise _CannotLift(node)
    memo[node] = result
    return result


def _batched(node: Node, arguments: list[tuple[Tensor, bool]], length) -> Tensor:
    rank = len(node.type.shape)
    if node.op.elementwise:
        values = []
        for value, per_step in arguments:  # a per-step operand of lower rank: its axes align right, after time
            if per_step and value.ndim - 1 < rank:
                value = reshape(value, (length,) + (1,) * (rank - value.ndim + 1) + tuple(value.shape[1:]))
            values.append(value)
        return apply(node.op.name, *values, **node.attributes)
    if isinstance(node.op, MatMul):
        (a, a_steps), (b, b_steps) = arguments
        if a_steps and not b_steps and a.ndim == 3 and b.ndim == 2:  # the time and row axes as one: one GEMM
            rows, inner = a.shape[1], a.shape[2]
            return reshape(matmul(reshape(a, (length * rows, inner)), b), (length, rows, b.shape[1]))
        return matmul(a, b)
    table, table_steps = arguments[0]
    if table_steps:
        raise _CannotLift(node)
    return apply("gather", table, arguments[1][0])


def _output_rule(step: Node, body: Body, outer: dict, length, stacked):
    """``a_t · C`` with ``C`` captured: the loop outputs a_t, one matmul after it."""
    if not isinstance(step.op, MatMul) or step.inputs[1] not in body.captures or len(step.type.shape) != 2:
        return None
    a, weights = step.inputs
    if a.op.placeholder and a.attr("role") == "capture" or len(a.type.shape) != 2:
        return None
    rows, inner = a.type.shape
    stack = stacked(a)
    return lambda items: reshape(matmul(reshape(stack(items), (length * rows, inner)), Tensor(outer[weights])),
                                 (length, rows, weights.type.shape[1]))


def _time_sum_rule(step: Node, body: Body, length, stacked):
    """``Σ_t a_tᵀ·b_t`` as one matmul over time and rows; ``Σ_t sum(g_t, axes)`` as one sum."""
    if isinstance(step.op, Sum) and not step.attr("keepdims") and step.inputs[0] not in body.captures:
        stack = stacked(step.inputs[0])
        axes = (0,) + tuple(a + 1 for a in step.attr("axes"))
        return lambda items: sum(stack(items), axes)
    if not isinstance(step.op, MatMul) or len(step.type.shape) != 2:
        return None
    left, right = step.inputs
    if not isinstance(left.op, Transpose) or left.attr("axes") != (1, 0):
        return None
    a = left.inputs[0]
    if a in body.captures or right in body.captures:
        return None
    rows = a.type.shape[0]
    stack_a, stack_b = stacked(a), stacked(right)
    return lambda items: matmul(transpose(reshape(stack_a(items), (length * rows, a.type.shape[1]))),
                                reshape(stack_b(items), (length * rows, right.type.shape[1])))
