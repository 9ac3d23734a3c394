"""Reverse-mode differentiation: the backward graph built from each op's derivative rule.

The reverse sweep visits nodes in reverse topological order, asks each op's ``vjp`` for its inputs' gradients
(downstream = upstream x local) and sums the contributions a value receives from all of its uses. Those two
bookkeeping jobs, undoing broadcasting and accumulating gradients, are done here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import DifferentiationError, user_location
from .ir import Node, topological_order
from .ops.leaf import constant
from .ops.reduce import sum
from .ops.shape import broadcast_like, reshape
from .tensor import Tensor
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
    for w in [y, *wrt]:
        if not isinstance(w, Tensor):
            raise DifferentiationError(f"grad differentiates tensors (inputs, parameters, values of the graph), not "
                                       f"{type(w).__name__} {w!r}", user_location())
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
    return sweep([(y.node, grad_output)], targets)


def sweep(seeds: list[tuple[Node, Tensor]], targets: set[Node]) -> Backward:
    """The reverse sweep from several outputs at once, each with its upstream gradient (a loop's derivative runs
    it over the loop's body)."""
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
