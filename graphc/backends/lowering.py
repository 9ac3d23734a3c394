"""Lowering, shared by the compiled backends: the schedule (topological order), a name for every value, and the
memory plan: intermediate buffers allocated once per shape binding and reused once their values are dead (liveness
over views, since a view keeps its buffer alive).

Shapes stay symbolic unless a ``binding`` is given: a named dimension (``batch``) is then a size the compiled code
takes as an argument (``dimensions``), so one program serves every binding. Fixed sizes (a hidden width) can be
arguments too (``fixed``, from ``fixed_sizes``): each distinct size of at least 2 is a symbol, numbered in the order
the graph first uses it, so an LSTM of hidden 128 runs the program compiled for hidden 256. A 1 stays literal: it
decides broadcasting. A backend that needs every size in its source (CUDA's kernels) lowers with the binding.

Scalars are 1-element arrays inside compiled code (shape ``(1,)``), so every value is an array of known rank.

A loop's body is lowered the same way, nested: its names carry the loop's prefix, its constants and buffers join
the enclosing function's (allocated once, reused at every step), and the values it returns at each step keep
buffers of their own until the loop has copied them out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..ir import Graph, Node
from ..types import dim_symbol, generalize, map_sizes, resolve_attribute, resolve_shape


def internal_shape(shape) -> tuple:
    return tuple(shape) if len(shape) else (1,)


ALIGNMENT = 64  # bytes: a workspace buffer starts on a cache line, where an AVX-512 vector load does not split


@dataclass
class Lowered:
    graph: Graph
    binding: dict | None  # None: shapes are symbolic, named dimensions are arguments
    names: dict[Node, str] = field(default_factory=dict)
    shapes: dict = field(default_factory=dict)  # node -> internal shape (a tuple of them for multi-result nodes)
    feeds: list[Node] = field(default_factory=list)  # inputs and parameters, in order of first appearance
    constants: list[Node] = field(default_factory=list)
    steps: list[Node] = field(default_factory=list)
    buffers: dict = field(default_factory=dict)  # (node, result index) -> workspace buffer name
    workspace: list[tuple[str, tuple, str]] = field(default_factory=list)  # (name, shape, dtype)
    bodies: dict = field(default_factory=dict)  # loop node -> its body's Lowered
    root: Lowered | None = None  # for a body: the function it is part of
    # The named dimensions the sizes are written in (arguments of the compiled code, by name). Only inputs introduce
    # them, and a graph binds every named dimension it uses with one of its inputs, so the feeds name them all.
    dimensions: list = field(default_factory=list)
    # Nodes whose integer indices the compiled code checks (``Op.indices``), bodies' included: a failed check
    # reports its position in this list.
    checked: list[Node] = field(default_factory=list)
    fixed: dict = field(default_factory=dict)  # fixed size -> the symbol the program takes it as (``fixed_sizes``)

    def attrs(self, node: Node) -> dict:
        if self.binding is None:
            return node.op.generalize_attributes(dict(node.attrs), self.generalized)
        return {k: resolve_attribute(v, self.binding) for k, v in node.attrs}

    def generalized(self, value):
        """A size, shape or type as the program writes it: its fixed sizes as their symbols."""
        return generalize(value, self.fixed)

    def workspace_shapes(self, binding: dict) -> list[tuple[tuple[int, ...], str]]:
        """The workspace's buffers for one binding: (concrete shape, dtype) each."""
        return [(resolve_shape(shape, binding), dtype) for _, shape, dtype in self.workspace]

    def workspace_dtypes(self) -> list[str]:
        """The dtypes of the workspace's buffers, in order of first appearance: an array each (``workspace_layout``)."""
        return list(dict.fromkeys(dtype for _, _, dtype in self.workspace))

    def workspace_layout(self, binding: dict) -> tuple[dict[str, int], list[int]]:
        """The workspace as one array per dtype, for one binding: each array's size and each buffer's start in its
        dtype's array, in elements; every buffer starts ``ALIGNMENT`` bytes apart from the array's start."""
        sizes: dict[str, int] = {}
        starts = []
        for shape, dtype in self.workspace_shapes(binding):
            unit = max(1, ALIGNMENT // np.dtype(dtype).itemsize)
            start = -(-sizes.get(dtype, 0) // unit) * unit
            starts.append(start)
            sizes[dtype] = start + int(np.prod(shape, dtype=np.int64))
        return sizes, starts


def fixed_sizes(graph: Graph) -> dict:
    """Each fixed size (an int of at least 2) in the graph's types and size attributes (``Op.sizes``), loop
    bodies' included, as a symbol named by the order of its first use: the same for every graph of one structure.
    Equal sizes share a symbol, so two graphs share a program only when their sizes are equal in the same places."""
    found: dict[int, None] = {}  # in order of first use

    def record(value):
        map_sizes(value, lambda size: found.setdefault(size) if size >= 2 else None)  # a 1 decides broadcasting
        return value

    def walk(graph: Graph) -> None:
        for node in graph.nodes:
            record(node.type)
            node.op.generalize_attributes(dict(node.attrs), record)
            if node.op.nested:
                walk(node.attr("body").graph)

    walk(graph)
    named = {str(s) for node in graph.nodes if node.op.fed for d in node.type.shape if not isinstance(d, int)
             for s in d.free_symbols}
    prefix = "fixed"
    while any(name.startswith(prefix) for name in named):  # never a user's dimension name
        prefix = f"_{prefix}"
    return {size: dim_symbol(f"{prefix}{position}") for position, size in enumerate(found)}


def lower(graph: Graph, binding: dict | None = None, prefix: str = "", root: Lowered | None = None,
          fixed: dict | None = None) -> Lowered:
    """The schedule, names and memory plan of ``graph``: for ``binding``'s sizes, or symbolic (named dimensions,
    and the sizes in ``fixed``, as arguments)."""
    lowered = Lowered(graph, binding, root=root, fixed=root.fixed if root is not None else dict(fixed or {}))
    if root is not None:
        lowered.workspace = root.workspace  # one list: a body's buffers are the function's
    top = root or lowered
    for index, node in enumerate(graph.nodes):
        lowered.names[node] = f"{prefix}v{index}"
        if isinstance(node.type, tuple):
            lowered.shapes[node] = tuple(internal_shape(lowered.generalized(_resolved(t.shape, binding)))
                                         for t in node.type)
        else:
            lowered.shapes[node] = internal_shape(lowered.generalized(_resolved(node.type.shape, binding)))
        if node.op.fed:
            lowered.feeds.append(node)
        elif node.op.literal:  # arguments of the function, so a body's are registered at the top
            if node not in top.shapes or top is lowered:
                top.names.setdefault(node, lowered.names[node])
                top.shapes.setdefault(node, lowered.shapes[node])
                top.constants.append(node)
            lowered.names[node] = top.names[node]
        elif not node.op.placeholder:
            lowered.steps.append(node)
            if node.op.indices is not None:
                top.checked.append(node)
    if binding is None and root is None:
        lowered.dimensions = sorted({symbol for node in lowered.feeds for dim in node.type.shape
                                     if not isinstance(dim, int) for symbol in dim.free_symbols}, key=str)
        lowered.dimensions += list(lowered.fixed.values())
    _plan_memory(lowered)
    for node in lowered.steps:
        if node.op.nested:
            lowered.bodies[node] = lower(node.attr("body").graph, binding, f"{lowered.names[node]}_", top)
    return lowered


def _resolved(shape, binding: dict | None) -> tuple:
    return tuple(shape) if binding is None else resolve_shape(shape, binding)


def _plan_memory(lowered: Lowered) -> None:
    """Give planned intermediate results a workspace buffer, reusing buffers whose values are dead."""
    outputs = set(lowered.graph.outputs)
    position = {node: index for index, node in enumerate(lowered.steps)}
    forever = len(lowered.steps)
    owner: dict[Node, tuple] = {}
    last_use: dict[tuple, int] = {}
    for node in lowered.steps:
        owner[node] = owner.get(node.inputs[0], (node.inputs[0], 0)) if node.op.view else (node, 0)
        if node.op.projection:
            owner[node] = (node.inputs[0], node.attr("index"))
    for node in lowered.steps:
        for child in node.inputs:
            if child in owner:
                key = owner[child]
                last_use[key] = max(last_use.get(key, -1), position[node])
    for node in outputs:
        if node in owner:
            last_use[owner[node]] = forever  # returned to the caller: never reused
    free: dict[tuple, list[str]] = {}
    releases: dict[int, list[tuple]] = {}
    for node in lowered.steps:
        if not node.op.planned:
            continue
        results = lowered.shapes[node] if isinstance(node.type, tuple) else (lowered.shapes[node],)
        dtypes = [t.dtype.name for t in (node.type if isinstance(node.type, tuple) else (node.type,))]
        for index, (shape, dtype) in enumerate(zip(results, dtypes)):
            key = (node, index)
            end = last_use.get(key, position[node])
            if end >= forever and lowered.root is None:
                continue  # an output of the function: allocated fresh at each call
            pool = free.setdefault((shape, dtype), [])
            if pool:
                name = pool.pop()
            else:
                name = f"buffer{len(lowered.workspace)}"
                lowered.workspace.append((name, shape, dtype))
            lowered.buffers[key] = name
            if end < forever:  # a body's outputs keep their buffers: the loop copies them out after the step
                releases.setdefault(end, []).append(((shape, dtype), name))
        for (kind, name) in releases.pop(position[node], []):
            free.setdefault(kind, []).append(name)
