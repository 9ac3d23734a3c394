"""The intermediate representation: immutable, hash-consed nodes and graphs over them.

A ``Node`` is one value: an op applied to input nodes with attributes. Nodes are interned, so the same op, inputs
and attributes always give the same object; equality is identity and common subexpressions merge as they are
built. Where the user built a node (``file:line``) and the name scope it was built in are metadata, not identity:
the first builder wins. A node with several results (a loop, a fused kernel) has a tuple type, and ``item``
nodes project its parts, so every other node stays single-valued.

A ``Graph`` is a tuple of output nodes with derived, deterministic facts: the topological order (inputs first,
ties broken by input order, never by iterating a set) and each node's users.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import weakref
from collections.abc import Callable, Iterable
from functools import cached_property
from typing import Any

from .errors import FeedError
from .types import TensorType, generalize
from .version import __version__

_interned: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
_scope: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar("graphc_scope", default=())
# While a pass rewrites a node, the nodes it builds take that node's location and scope, not the pass's.
_origin: contextvars.ContextVar[Node | None] = contextvars.ContextVar("graphc_origin", default=None)


class Node:
    """One value in a graph. Never construct directly: use ``intern``."""

    __slots__ = ("op", "inputs", "attrs", "type", "location", "scope", "__weakref__")

    op: Any  # the op's definition in graphc.ops (has .name)
    inputs: tuple[Node, ...]
    attrs: tuple[tuple[str, Any], ...]
    type: TensorType | tuple[TensorType, ...]
    location: str
    scope: tuple[str, ...]

    def __setattr__(self, key, value):
        raise AttributeError("graphc nodes are immutable")

    def __reduce__(self):
        # A node travels to another process (a data-parallel worker) as what it is made of, and is interned there.
        return arrived, (self.op, self.inputs, self.attrs, self.type, self.location, self.scope)

    def attr(self, key: str, default=None):
        for name, value in self.attrs:
            if name == key:
                return value
        return default

    @property
    def attributes(self) -> dict[str, Any]:
        return dict(self.attrs)

    @property
    def shape(self):
        return self.type.shape

    @property
    def dtype(self):
        return self.type.dtype

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.attrs if k != "value")
        return f"<{self.op.name}{'[' + shown + ']' if shown else ''}: {self.type} at {self.location}>"


# Names users give intermediate values, for pictures only: display metadata, not identity, so nodes stay immutable.
_display_names: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def display_name(node: Node) -> str | None:
    """The user's name for ``node``: an input's or parameter's own name, or one given with ``graphc.name``."""
    return node.attr("name") if node.op.leaf and node.attr("name") else _display_names.get(node)


def set_display_name(node: Node, name: str) -> None:
    _display_names[node] = name


def freeze(value):
    """Attributes must be hashable: lists become tuples, recursively."""
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    hash(value)
    return value


def intern(op, inputs: Iterable[Node], attrs: dict[str, Any], infer: Callable[[], Any], location: str) -> Node:
    """The unique node for ``op(inputs; attrs)``; ``infer`` computes its type the first time it is built."""
    inputs = tuple(inputs)
    frozen = tuple(sorted((k, freeze(v)) for k, v in attrs.items()))
    key = (op, inputs, frozen)
    node = _interned.get(key)
    if node is not None:
        return node
    origin = _origin.get()
    if origin is not None:
        location, scope_names = origin.location, origin.scope
    else:
        scope_names = _scope.get()
    return _new(key, infer(), location, scope_names)


def _new(key: tuple, kind, location: str, scope_names: tuple) -> Node:
    node = object.__new__(Node)
    op, inputs, attrs = key
    for name, value in (("op", op), ("inputs", inputs), ("attrs", attrs), ("type", kind),
                        ("location", location), ("scope", scope_names)):
        object.__setattr__(node, name, value)
    _interned[key] = node
    return node


def arrived(op, inputs: tuple, attrs: tuple, kind, location: str, scope_names: tuple) -> Node:
    """A node unpickled in another process: the one interned there for it, or a new one with the sent type."""
    key = (op, inputs, attrs)
    node = _interned.get(key)
    return node if node is not None else _new(key, kind, location, scope_names)


@contextlib.contextmanager
def scope(name: str):
    """Nodes built inside ``with scope("encoder"):`` carry that name scope (nested scopes nest)."""
    token = _scope.set(_scope.get() + (name,))
    try:
        yield
    finally:
        _scope.reset(token)


@contextlib.contextmanager
def built_for(node: Node):
    """Nodes built inside take ``node``'s location and scope: a rewrite's result stays the user's line."""
    token = _origin.set(node)
    try:
        yield
    finally:
        _origin.reset(token)


def remake(node: Node, inputs: tuple[Node, ...]) -> Node:
    """``node``'s op and attributes applied to new inputs (``node`` itself when they are the same)."""
    if inputs == node.inputs:
        return node
    attrs = node.attributes
    with built_for(node):
        new = intern(node.op, inputs, attrs, lambda: node.op.infer([i.type for i in inputs], **attrs), node.location)
    # The same computation over new inputs keeps the user's name for pictures (a loop body's values, whose
    # captured weights are replaced by slots when the body is closed, were drawn unnamed).
    if node in _display_names and new not in _display_names:
        _display_names[new] = _display_names[node]
    return new


def topological_order(outputs: Iterable[Node], stop=()) -> tuple[Node, ...]:
    """Every node reachable from ``outputs``, each after its inputs; deterministic for a given graph.
    Nodes in ``stop`` are taken as they are, without their inputs."""
    order: list[Node] = []
    done: set[int] = set()  # ids, used only for membership, never iterated
    stopped = {id(node) for node in stop}
    for root in outputs:
        if id(root) in done:
            continue
        stack = [(root, iter(() if id(root) in stopped else root.inputs))]
        entered = {id(root)}
        while stack:
            node, pending = stack[-1]
            for child in pending:
                if id(child) not in done and id(child) not in entered:
                    entered.add(id(child))
                    stack.append((child, iter(() if id(child) in stopped else child.inputs)))
                    break
            else:
                stack.pop()
                done.add(id(node))
                order.append(node)
    return tuple(order)


def substitute(outputs: Iterable[Node], mapping: dict[Node, Node]) -> tuple[Node, ...]:
    """``outputs`` rebuilt with each node of ``mapping`` replaced by its value (and nothing above them visited)."""
    new: dict[Node, Node] = dict(mapping)
    for node in topological_order(outputs, stop=mapping):
        if node not in new:
            new[node] = remake(node, tuple(new[i] for i in node.inputs))
    return tuple(new[o] for o in outputs)


class Graph:
    """Output nodes plus the facts derived from them; passes map a Graph to a new Graph."""

    def __init__(self, outputs: Iterable[Node]):
        self.outputs: tuple[Node, ...] = tuple(outputs)

    def __eq__(self, other) -> bool:
        return isinstance(other, Graph) and self.outputs == other.outputs

    def __hash__(self) -> int:
        return hash(self.outputs)

    @cached_property
    def nodes(self) -> tuple[Node, ...]:
        return topological_order(self.outputs)

    @cached_property
    def users(self) -> dict[Node, tuple[Node, ...]]:
        users: dict[Node, list[Node]] = {node: [] for node in self.nodes}
        for node in self.nodes:
            for child in node.inputs:
                if not users[child] or users[child][-1] is not node:
                    users[child].append(node)
        return {node: tuple(found) for node, found in users.items()}

    def count_by_op(self) -> dict[str, int]:
        """How many nodes of each op; a loop body's nodes count as ``scan/op``."""
        counts: dict[str, int] = {}
        for node in self.nodes:
            counts[node.op.name] = counts.get(node.op.name, 0) + 1
            body = node.attr("body")
            if body is not None:
                for name, count in body.graph.count_by_op().items():
                    counts[f"{node.op.name}/{name}"] = counts.get(f"{node.op.name}/{name}", 0) + count
        return dict(sorted(counts.items()))

    def to_networkx(self):
        """A networkx DiGraph of the nodes (edges input -> user), for graph analyses."""
        import networkx

        digraph = networkx.DiGraph()
        for index, node in enumerate(self.nodes):
            digraph.add_node(node, order=index)
        for node in self.nodes:
            for child in node.inputs:
                digraph.add_edge(child, node)
        return digraph

    def __repr__(self) -> str:
        return f"<Graph: {len(self.outputs)} outputs, {len(self.nodes)} nodes>"


def feed_nodes(graph: Graph) -> dict[str, Node]:
    """The inputs and parameters of ``graph`` by name; two different leaves with one name are an error."""
    named: dict[str, Node] = {}
    for node in graph.nodes:
        if node.op.fed:
            name = node.attr("name")
            if name in named and named[name] is not node:
                first = named[name]
                raise FeedError(f"two different leaves are named {name!r}: {first.op.name} {first.type} at "
                                f"{first.location} and {node.op.name} {node.type}", node.location)
            named[name] = node
    return named


def structural_key(graph: Graph, sizes: dict | None = None) -> str:
    """A hash of what compiled code depends on in a graph: ops, attributes, types, edges; not user lines.
    An attribute that is itself structured (a loop body) contributes its own ``key(sizes)``.

    With ``sizes`` ({int: symbol}, ``lowering.fixed_sizes``), those fixed sizes count by their symbols, not their
    values: graphs that differ only in them (an LSTM of hidden 128 and one of 256) share a key, and a program."""
    index = {node: i for i, node in enumerate(graph.nodes)}
    digest = hashlib.sha256(f"graphc {__version__}|".encode())
    for node in graph.nodes:
        attributes = []
        attrs, kind = dict(node.attrs), node.type
        if sizes:
            attrs = node.op.generalize_attributes(attrs, lambda value: generalize(value, sizes))
            kind = generalize(kind, sizes)
        for key, value in attrs.items():
            if key in ("members", "results", "init", "tag"):
                continue
            if hasattr(value, "array"):
                value = value.array.tobytes().hex()
            attributes.append((key, value.key(sizes) if hasattr(value, "key") else repr(value)))
        described = ", ".join(map(str, kind)) if isinstance(kind, tuple) else str(kind)
        digest.update(repr((node.op.name, tuple(index[i] for i in node.inputs), attributes, described)).encode())
    digest.update(repr(tuple(index[o] for o in graph.outputs)).encode())
    return digest.hexdigest()
