"""Reverse-mode differentiation: the backward graph built from each op's derivative rule.

The reverse sweep visits nodes in reverse topological order, asks each op's ``vjp`` for its inputs' gradients
(downstream = upstream x local) and sums the contributions a value receives from all of its uses. Those two
bookkeeping jobs, undoing broadcasting and accumulating gradients, are done here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .dsl import Tensor, constant
from .errors import DifferentiationError, user_location
from .ir import Node, display_name, remake, substitute, topological_order
from .ops import reshape, sum
from .ops.registry import apply
from .ops.shape import broadcast_like, broadcast_to
from .types import format_shape, is_float


def unbroadcast(gradient: Tensor, shape) -> Tensor:
    """Sum ``gradient`` over the axes that broadcasting added or stretched, so it takes ``shape``."""
    if gradient.shape == tuple(shape):
        return gradient
    extra = gradient.ndim - len(shape)
    axes = list(range(extra)) + [extra + i for i, d in enumerate(shape) if d == 1 and gradient.shape[extra + i] != 1]
    return reshape(sum(gradient, axes), shape)


def _accumulate(contributions: list[Tensor]) -> Tensor:
    total = contributions[0]
    for term in contributions[1:]:
        total = total + term
    return total




@dataclass
class Backward:
    """The reverse sweep's bookkeeping: ``gradients[v]`` is dL/dv for each value v on a path from a variable to y,
    and each ``edges`` entry ``(user, position, source, contribution)`` is the gradient that flows from ``user``
    back into its input ``source`` (at input ``position``): upstream times local."""

    gradients: dict[Node, Tensor] = field(default_factory=dict)
    edges: list[tuple[Node, int, Node, Tensor]] = field(default_factory=list)


def grad(y: Tensor, wrt, grad_output: Tensor | None = None) -> list[Tensor]:
    """Gradients of the scalar ``y`` with respect to each tensor of ``wrt``, as tensors of the backward graph.

    A non-scalar ``y`` needs ``grad_output`` (the upstream gradient, of y's shape). Tensors of ``wrt`` that ``y``
    does not depend on get zeros.
    """
    wrt = [wrt] if isinstance(wrt, Tensor) else list(wrt)
    for w in wrt:
        if not is_float(w.dtype):
            raise DifferentiationError(f"cannot differentiate with respect to {w!r}: its dtype is not float",
                                       user_location())
    gradients = backward(y, wrt, grad_output).gradients
    return [gradients[w.node] if w.node in gradients else broadcast_like(constant(0.0, w.dtype), w) for w in wrt]


def backward(y: Tensor, wrt=None, grad_output: Tensor | None = None) -> Backward:
    """The reverse sweep from ``y`` to ``wrt`` (default: every float input and parameter ``y`` depends on)."""
    if grad_output is None:
        if y.shape != ():
            raise DifferentiationError(f"grad needs a scalar to differentiate, got shape {format_shape(y.shape)}; "
                                       "reduce it (.sum(), .mean()) or pass grad_output", user_location())
        grad_output = constant(1.0, y.dtype)
    if not is_float(y.dtype):
        raise DifferentiationError(f"cannot differentiate {y!r}: its dtype is not float", user_location())

    targets = set(variables(y)) if wrt is None else {w.node for w in wrt}
    return _sweep([(y.node, grad_output)], targets)


def _sweep(seeds: list[tuple[Node, Tensor]], targets: set[Node]) -> Backward:
    """The reverse sweep from several outputs at once, each with its upstream gradient."""
    order = topological_order([node for node, _ in seeds])
    # Only nodes on a path from a target to an output need gradients.
    relevant: set[Node] = set()
    for node in order:
        if node in targets or any(i in relevant for i in node.inputs):
            relevant.add(node)

    result = Backward()
    contributions: dict[Node, list] = {}
    for node, gradient in seeds:
        contributions.setdefault(node, []).append(gradient)
    for node in reversed(order):
        if node not in relevant or node not in contributions:
            continue
        upstream = _upstream(node, contributions.pop(node))
        result.gradients[node] = upstream
        if node.op.leaf or not node.op.differentiable:
            continue
        inputs = [Tensor(i) for i in node.inputs]
        local = node.op.vjp(inputs, Tensor(node), upstream, **node.attributes)
        for position, (source, downstream) in enumerate(zip(node.inputs, local)):
            if downstream is None or source not in relevant:
                continue
            if isinstance(source.type, tuple):  # a result of a multi-result node, from ``item``: (index, gradient)
                contributions.setdefault(source, []).append(downstream)
                continue
            if not is_float(source.type.dtype):
                continue
            downstream = unbroadcast(downstream, source.type.shape)
            if downstream.dtype != source.type.dtype:
                raise AssertionError(f"{node.op.name}'s derivative rule gave {downstream.dtype} for {source}")
            contributions.setdefault(source, []).append(downstream)
            result.edges.append((node, position, source, downstream))
    return result


def variables(y: Tensor) -> list[Node]:
    """The float inputs and parameters ``y`` depends on, in topological order: what it can be differentiated by."""
    return [n for n in topological_order([y.node]) if n.op.fed and is_float(n.type.dtype)]


def _upstream(node: Node, received: list):
    """The total gradient of ``node``: a sum, or for a multi-result node a tuple of sums (None: no gradient)."""
    if not isinstance(node.type, tuple):
        return _accumulate(received)
    slots: dict[int, list[Tensor]] = {}
    for index, gradient in received:
        slots.setdefault(index, []).append(gradient)
    return tuple(_accumulate(slots[i]) if i in slots else None for i in range(len(node.type)))


def scan_vjp(loop: Node, grads: tuple) -> list:
    """Backpropagation through time: the gradient of a scan is a scan running the other way.

    Its carry is dL/d(carry); each step differentiates the forward body (the same reverse sweep as everywhere
    else) and emits the gradients of that step's sequence slices and of the captured values, which are summed over
    time outside the loop. The values the backward body needs from the forward body are stored: the forward scan
    gains them as extra per-step outputs (CSE later merges it with the original loop). With ``recompute`` only the
    carries are stored and each step's forward work is done again.
    """
    from .ops.control import Body, item, loop_like, slot
    from .scan import close_body, new_tag

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
    gradients = _sweep(seeds, targets).gradients
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
                if value in forward and value.op.name not in ("slot", "constant") and value not in stored:
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
                            "sequence", n, tag).node for n, value in enumerate(stored) if value.op.name != "slot"}
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
