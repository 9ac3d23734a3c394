"""Backpropagation through time: the derivative rule of ``scan``, attached to the op in ``scan.py``."""

from __future__ import annotations

from ..autodiff import sweep
from ..ir import Node, display_name, remake, substitute, topological_order
from ..ops.item import item
from ..ops.leaf import constant
from ..ops.reduce import sum
from ..ops.registry import apply
from ..ops.shape import broadcast_like, broadcast_to
from ..tensor import Tensor
from ..types import is_float
from .body import Body, close_body, loop_like, new_tag, slot


def scan_vjp(loop: Node, grads: tuple) -> list:
    """Backpropagation through time: the gradient of a scan is a scan running the other way.

    Its carry is dL/d(carry); each step differentiates the forward body (the same reverse sweep as everywhere
    else) and emits the gradients of that step's sequence slices and of the captured values, which are summed over
    time outside the loop. The values the backward body needs from the forward body are stored: the forward scan
    gains them as extra per-step outputs (CSE later merges it with the original loop). With ``recompute`` only the
    carries are stored and each step's forward work is done again.
    """
    body: Body = loop.attr("body")
    reverse, length, recompute = loop.attr("reverse"), loop.attr("length"), loop.attr("recompute")
    k, m = len(body.carries), len(body.sequences)
    inits, xs, captured = loop.inputs[:k], loop.inputs[k:k + m], loop.inputs[k + m:]
    tag = new_tag()

    def named(node: Node, prefix: str) -> str:
        return f"{prefix}{display_name(node) or node.attr('name')}"

    carried = [i for i in range(k) if is_float(body.carries[i].type.dtype)]
    carry_grads = {i: slot(named(body.carries[i], "d"), body.carries[i].type, "carry", n, tag).node
                   for n, i in enumerate(carried)}
    step_grads = {j: slot(f"dy{j}", body.steps[j].type, "sequence", j, tag).node
                  for j, g in enumerate(grads[k:]) if g is not None and is_float(body.steps[j].type.dtype)}
    seeds = ([(body.outputs[i], Tensor(carry_grads[i])) for i in carried]
             + [(body.steps[j], Tensor(step_grads[j])) for j in step_grads])
    targets = {s for s in body.slots if is_float(s.type.dtype)}
    gradients = sweep(seeds, targets).gradients
    zeros = {c: broadcast_like(constant(0.0, c.type.dtype), Tensor(c)).node for c in body.carries}
    new_carry = tuple(gradients[body.carries[i]].node if body.carries[i] in gradients else zeros[body.carries[i]]
                      for i in carried)
    sequence_grads = [j for j, s in enumerate(body.sequences) if s in gradients]
    capture_grads = [j for j, s in enumerate(body.captures) if s in gradients]
    outputs = (new_carry + tuple(gradients[body.sequences[j]].node for j in sequence_grads)
               + tuple(gradients[body.captures[j]].node for j in capture_grads))

    # What the backward body reads of the forward body: stored per step, unless recomputed. A value read only for
    # its shape (the ``like`` of a zero-padded slice) is not stored: a broadcast zero of its type stands in.
    forward = set(body.graph.nodes)
    witnesses = {}
    for node in topological_order(outputs):
        if node not in forward and any(node.inputs[p] in forward for p in node.op.shape_only):
            inputs = tuple(broadcast_to(constant(0.0, v.type.dtype), v.type.shape).node
                           if p in node.op.shape_only and v in forward else v for p, v in enumerate(node.inputs))
            witnesses[node] = remake(node, inputs)
    outputs = substitute(outputs, witnesses)
    stored: list[Node] = []
    if not recompute:
        for node in topological_order(outputs):
            reads = node.inputs if node not in forward else (node,) if node in outputs else ()
            for value in reads:
                if value in forward and not (value.op.placeholder or value.op.literal) and value not in stored:
                    stored.append(value)
    reached = set(topological_order(outputs, stop=stored))
    stored += [c for c in body.carries if c in reached]  # carries are slots: stored as the carry entering each step
    steps = list(body.steps)
    for value in stored:
        if value not in steps:
            steps.append(value)
    if len(steps) > len(body.steps):
        augmented = Body(body.carries, body.sequences, body.captures, body.outputs[:k] + tuple(steps))
        loop = loop_like(loop, loop.inputs, augmented)
    history = {value: item(loop, k + steps.index(value)).node for value in stored}

    replaced = {value: slot(f"stored {display_name(value) or value.op.name}", value.type,
                            "sequence", n, tag).node for n, value in enumerate(stored) if not value.op.placeholder}
    outputs = substitute(outputs, {**replaced, **dict(zip(body.captures, captured))})
    reached = set(topological_order(outputs))
    sequences = [(step_grads[j], grads[k + j].node) for j in step_grads]
    sequences += [(replaced.get(value, value), history[value]) for value in stored]
    sequences += [(s, x) for s, x in zip(body.sequences, xs) if s in reached]
    backward_body, backward_captured = close_body(tuple(carry_grads[i] for i in carried),
                                                  tuple(s for s, _ in sequences), outputs, tag)
    starts = [grads[i] if grads[i] is not None else Tensor(broadcast_like(constant(0.0, inits[i].type.dtype),
                                                                          Tensor(inits[i])).node)
              for i in carried]
    back = apply("scan", *starts, *(Tensor(v) for _, v in sequences), *(Tensor(c) for c in backward_captured),
                 body=backward_body, reverse=not reverse, length=length, recompute=recompute)
    results: list = [None] * len(loop.inputs)
    for n, i in enumerate(carried):
        results[i] = item(back, n)
    for n, j in enumerate(sequence_grads):
        results[k + j] = item(back, len(carried) + n)
    for n, j in enumerate(capture_grads):
        results[k + m + j] = sum(item(back, len(carried) + len(sequence_grads) + n), (0,))
    return results
