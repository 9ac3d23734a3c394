"""The NumPy reference interpreter: evaluates any graph exactly, op by op. It is the oracle every backend and
every optimization is tested against, so it favours clarity and checks over speed: every result is checked
against the type the shape rules inferred.
"""

from __future__ import annotations

import difflib

import numpy as np

from ..errors import BindingError, FeedError, IndexRangeError, NumericalError
from ..ir import Graph, Node, feed_nodes
from ..tensor import node_of
from ..types import bind_shape, format_shape, resolve_attribute, resolve_shape


def bind_feeds(graph: Graph, feeds: dict, float64: bool = False) -> tuple[dict[Node, np.ndarray], dict]:
    """Check every feed against its leaf's declared shape and dtype; return the values and the dimension sizes."""
    values: dict[Node, np.ndarray] = {}
    bindings: dict = {}
    wanted = feed_nodes(graph)
    for name, node in wanted.items():
        declared = node.type
        if name not in feeds:
            unused = [key for key in feeds if key not in wanted]
            close = difflib.get_close_matches(name, [str(key) for key in unused], n=1)
            hint = f"; did you mean {close[0]!r}, which the graph does not use?" if close else ""
            raise FeedError(f"missing feed for {node.op.name} {name!r} of type {declared}{hint}", node.location)
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
            origin = values.get(index_source(node)) if node.op.indices is not None else None
            values[node] = _run(node, [values[i] for i in node.inputs], bindings, float64, check_numerics, rng,
                                origin)
    return values


def _run(node: Node, arguments, bindings, float64: bool, check_numerics: bool, rng, origin=None) -> np.ndarray:
    """One node's value; ``origin``: the value its indices come from (``check_indices``)."""
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
    if node.op.indices is not None:
        bound = node.op.index_bound([np.shape(a) for a in arguments], **attrs)
        check_indices(node, arguments[node.op.indices], bound, origin)
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


def index_source(node: Node) -> Node:
    """The node an op's indices are read from, followed back through ops that only move data (a reshaped feed
    is still that feed's values)."""
    source = node.inputs[node.op.indices]
    while source.op.layout and source.inputs:
        source = source.inputs[0]
    return source


def check_indices(node: Node, indices: np.ndarray, bound: int, origin: np.ndarray | None = None) -> None:
    """Raise IndexRangeError if any of ``indices`` (the indices input of ``node``) is outside 0 .. bound - 1."""
    bad = np.flatnonzero((indices < 0) | (indices >= bound))
    if len(bad):
        raise index_error(node, bound, np.shape(indices), int(bad[0]), int(indices.flat[bad[0]]), origin)


def index_error(node: Node, bound: int, shape: tuple, position: int, value: int,
                origin: np.ndarray | None = None) -> IndexRangeError:
    """The error for ``value`` at flat ``position`` of ``node``'s indices (of ``shape``), outside 0 .. bound - 1.
    ``origin``: the fed array the indices were read from; when each of its elements is an index (the feed itself,
    reshaped or transposed; not a slice of it), the error names the feed and its own first bad position."""
    source = index_source(node)
    where = "its indices"
    position = np.unravel_index(position, shape) if len(shape) else ()
    if origin is not None and source.op.fed and np.size(origin) == int(np.prod(shape)):
        bad = np.argwhere((origin < 0) | (origin >= bound))
        if len(bad):
            position, value, where = tuple(bad[0]), int(origin[tuple(bad[0])]), f"feed {source.attr('name')!r}"
    position = tuple(int(i) for i in position)
    shown = position[0] if len(position) == 1 else position
    return IndexRangeError(f"{node.op.name}: index {value} at position {shown} of {where} is outside the valid "
                           f"range 0..{bound - 1} (negative indices do not wrap)", node.location)


def _finite(value) -> bool:
    """No NaN or Inf in ``value`` (an array, or the tuple of a node with several results)."""
    if isinstance(value, tuple):
        return all(_finite(v) for v in value)
    return value.dtype.kind != "f" or bool(np.all(np.isfinite(value)))
