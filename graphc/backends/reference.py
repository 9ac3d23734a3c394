"""The NumPy reference interpreter: evaluates any graph exactly, op by op. It is the oracle every backend and
every optimization is tested against, so it favours clarity and checks over speed: every result is checked
against the type the shape rules inferred.
"""

from __future__ import annotations

import numpy as np

from ..errors import BindingError, FeedError, NumericalError
from ..ir import Graph, Node, feed_nodes
from ..tensor import node_of
from ..types import bind_shape, format_shape, resolve_attribute, resolve_shape


def bind_feeds(graph: Graph, feeds: dict, float64: bool = False) -> tuple[dict[Node, np.ndarray], dict]:
    """Check every feed against its leaf's declared shape and dtype; return the values and the dimension sizes."""
    values: dict[Node, np.ndarray] = {}
    bindings: dict = {}
    for name, node in feed_nodes(graph).items():
        declared = node.type
        if name not in feeds:
            raise FeedError(f"missing feed for {node.op.name} {name!r} of type {declared}", node.location)
        value = feeds[name]
        if isinstance(value, np.ndarray) or np.isscalar(value) and hasattr(value, "dtype"):
            value = np.asarray(value)
            if value.dtype != declared.dtype and not (float64 and value.dtype.kind == declared.dtype.kind == "f"):
                raise FeedError(f"feed {name!r} has dtype {value.dtype.name} but the {node.op.name} is "
                                f"{declared.dtype.name}; convert it with .astype(np.{declared.dtype.name})",
                                node.location)
        else:  # Python numbers and lists take the declared dtype
            value = np.asarray(value, dtype=declared.dtype)
        if float64 and value.dtype.kind == "f":
            value = value.astype(np.float64)
        problem = bind_shape(declared.shape, value.shape, bindings, f"feed {name!r}")
        if problem:
            error = BindingError if "bound to" in problem else FeedError
            raise error(f"feed {name!r} for {node.op.name} {declared}: {problem}", node.location)
        values[node] = value
    return values, {symbol: size for symbol, (size, _) in bindings.items()}


def evaluate(outputs, feeds: dict, *, float64: bool = False, check_numerics: bool = False, seed: int = 0):
    """Evaluate ``outputs`` (a tensor or a list of tensors) given ``feeds`` {name: array}; returns arrays.

    Random ops draw from one generator seeded with ``seed``, in topological order.
    ``float64=True`` computes in float64 whatever the declared float dtypes (for gradient checks).
    ``check_numerics=True`` raises NumericalError at the first op that turns finite inputs into NaN or Inf.
    """
    single = not isinstance(outputs, (list, tuple))
    nodes = [node_of(o) for o in ([outputs] if single else outputs)]
    graph = Graph(nodes)
    values, bindings = bind_feeds(graph, feeds, float64)
    rng = np.random.default_rng(seed)
    with np.errstate(all="ignore"):  # overflow in a branch that `where` discards is not an error
        _execute(graph, values, bindings, float64, check_numerics, rng)
    results = [values[n] for n in nodes]
    return results[0] if single else results


def _execute(graph: Graph, values: dict, bindings, float64: bool, check_numerics: bool, rng) -> dict:
    """Fill ``values`` with every node of ``graph`` not given in it."""
    for node in graph.nodes:
        if node not in values:
            values[node] = _run(node, [values[i] for i in node.inputs], bindings, float64, check_numerics, rng)
    return values


def _run(node: Node, arguments, bindings, float64: bool, check_numerics: bool, rng) -> np.ndarray:
    try:
        attrs = {k: resolve_attribute(v, bindings) for k, v in node.attrs}
        expected_shape = None if isinstance(node.type, tuple) else resolve_shape(node.type.shape, bindings)
    except KeyError as error:
        raise FeedError(f"{node.op.name}: {error.args[0]} by any input of the evaluated graph; feed an input "
                        "that has them", node.location) from None
    if float64 and node.op.dtype_attribute and np.dtype(attrs["dtype"]).kind == "f":
        attrs["dtype"] = "float64"
    if node.op.random:
        attrs["rng"] = rng
    if node.op.nested:  # a loop runs its body with this evaluation's settings
        def run(outputs, given):
            done = _execute(Graph(outputs), dict(given), bindings, float64, check_numerics, rng)
            return [done[o] for o in outputs]
        attrs["run"] = run
    result = node.op.reference(*arguments, **attrs)
    if isinstance(node.type, tuple):  # several results: each is checked where an ``item`` takes it out
        return tuple(np.asarray(r).astype(np.float64) if float64 and np.asarray(r).dtype == np.float32 else r
                     for r in result)
    result = np.asarray(result)
    if float64 and result.dtype == np.float32:
        result = result.astype(np.float64)  # constants declared float32
    dtype_ok = result.dtype == node.type.dtype or (float64 and result.dtype.kind == node.type.dtype.kind == "f")
    if result.shape != expected_shape or not dtype_ok:
        raise AssertionError(f"{node.op.name} produced {result.dtype}{result.shape}, but its shape rule said "
                             f"{node.type.dtype}{format_shape(expected_shape)} ({node.location})")
    if check_numerics and result.dtype.kind == "f" and not np.all(np.isfinite(result)):
        if all(_finite(a) for a in arguments):
            kind = "NaN" if np.isnan(result).any() else "Inf"
            raise NumericalError(f"{node.op.name} produced {kind} from finite inputs", node.location)
    return result


def _finite(value) -> bool:
    """No NaN or Inf in ``value`` (an array, or the tuple of a node with several results)."""
    if isinstance(value, tuple):
        return all(_finite(v) for v in value)
    return value.dtype.kind != "f" or bool(np.all(np.isfinite(value)))
