"""The walk over a lowered program that both code generators share: every step in schedule order (a loop as one
loop over its body's steps), then each parameter's update written into the parameter's own array (by its kernel
directly where that is safe); and how an emitter finds the method that prints an op (``emits``)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from ...ir import Node
from ...loops.rows import has_rows, independent_rows
from ...ops.linalg import MatMul
from ...ops.shape import Transpose
from ..lowering import Lowered
from ..runtime.packed import THREADS
from .scalar import dimension_name, shape_text, size_text


def comment(text) -> str:
    """``text`` (a user's path, name or dimension) safe in a ``#`` comment of generated source: a newline in it
    would end the comment and make the rest code. Characters that are not printable are written escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))


def threads_requested() -> bool:
    """``GRAPHC_PARALLEL=1``: large element-wise loops are split between threads too (prange; the fixed sizes are
    then literal, since whether a loop is split is decided by its size when the code is generated)."""
    return os.environ.get("GRAPHC_PARALLEL") == "1"


def loops_split_requested() -> bool:
    """Loops whose rows are independent run on separate rows in graphc's threads (``RowSplit``,
    ``runtime/parts.py``), unless ``GRAPHC_SPLIT_LOOPS=0``: the steps of W3, W4 and W5 10-19% faster than with each
    loop on one thread and its products split instead, for a cold start 0.2-0.4 s longer (docs/benchmarks.md)."""
    return os.environ.get("GRAPHC_SPLIT_LOOPS") != "0"


def threaded_products() -> bool:
    """Large matrix products are split between graphc's threads (``runtime/blas.py``, ``runtime/packed.py``) where
    there are two or more of them, unless ``GRAPHC_PARALLEL=0``."""
    return os.environ.get("GRAPHC_PARALLEL") != "0" and THREADS > 1


def emits(*ops: type):
    """Marks an emitter method as the one that prints nodes of these op classes (a subclass overrides it by
    defining a method of the same name)."""
    def mark(method):
        method.emitted_ops = ops
        return method
    return mark


def handlers_of(cls) -> dict[type, str]:
    """Op class -> the name of the method that prints it, over ``cls`` and its bases."""
    table = {}
    for klass in reversed(cls.__mro__):
        for name, member in vars(klass).items():
            table.update({op: name for op in getattr(member, "emitted_ops", ())})
    return table


def preamble(lowered: Lowered) -> list[str]:
    """What the caller of a generated module reads: the feeds' order and the workspace's buffers."""
    return [f"FEEDS = {[n.attr('name') for n in lowered.feeds]!r}",
            f"DIMENSIONS = {[str(d) for d in lowered.dimensions]!r}",
            f"WORKSPACE = {[(shape_text(shape), dtype) for _, shape, dtype in lowered.workspace]!r}"]


def program(emitter, writes: dict[str, Node]) -> tuple[list[str], list[str]]:
    """Emit every step of the lowered program, then the parameter updates; returns the entry point's arguments
    and the names it returns.

    ``writes`` maps parameter names to their new values (a training step): each is written into the parameter's
    own array, by its kernel directly when every other reader of the parameter has run by then, else copied at
    the end.
    """
    lowered = emitter.lowered
    emitter.in_place = _in_place_updates(lowered, writes)
    workspace = emitter.workspace()
    for node in lowered.steps:
        emitter.node(node)
    for name, value in writes.items():
        if value not in emitter.in_place:
            emitter.emit(comment(f"# {name} <- {emitter.name(value)} (in place, after every reader)"))
            emitter.assign(lowered.names[_feed(lowered, name)], emitter.name(value))
    returned = [emitter.name(o) for o in lowered.graph.outputs if o not in writes.values()]
    arguments = ([lowered.names[n] for n in lowered.feeds] + [lowered.names[n] for n in lowered.constants]
                 + workspace + [dimension_name(d) for d in lowered.dimensions]
                 + ["seed", "status", "threads"])
    return arguments, returned


def _feed(lowered: Lowered, name: str) -> Node:
    return next(n for n in lowered.feeds if n.attr("name") == name)


def _in_place_updates(lowered: Lowered, writes: dict) -> dict[Node, str]:
    """Updates whose kernel can write straight into the parameter's array: an element-wise kernel that runs after
    every other reader of the parameter. Such a kernel reads all its inputs at an element before writing any
    result there, and an update has its parameter's shape, so a kernel with several results (an optimizer's new
    parameter and new slots) can write each into its own array."""
    position = {node: index for index, node in enumerate(lowered.steps)}
    direct = {}
    for name, value in writes.items():
        kernel = value.inputs[0] if value.op.projection else value
        if kernel not in position or not (kernel.op.elementwise or kernel.op.kernel):
            continue
        param = _feed(lowered, name)
        readers = [n for n in lowered.graph.users[param] if n is not kernel]
        if all(position[r] < position[kernel] for r in readers):
            direct[value] = lowered.names[param]
    return direct


ROWS_SPAN = ", lo, hi"  # how a loop split by rows takes its rows of a step's input or output (``Emitter.step``)


@dataclass(frozen=True)
class RowSplit:
    """How a loop whose rows are independent (``loops/rows.py``) runs on separate rows in separate threads: its
    code reads the rows ``lo:hi`` of each step's inputs and outputs (``view_step(seq, t, lo, hi)``), and the
    function it is printed as (``outline.py``) starts by taking those rows of the arrays named in ``sliced``
    (carries, buffers, captured values with rows) and by making ``dimension`` (the rows' size) ``hi - lo``."""

    dimension: str
    sliced: tuple[str, ...]


def loop(emitter, node: Node, arguments, body, reverse: bool, length: int) -> None:
    """A loop node (``scan``): carry arrays updated in place, the body's lines inside, each step's outputs written
    into their stacks. Where the emitter splits loops by rows and the loop's rows are independent, its code reads
    and writes the rows ``lo:hi`` only (``RowSplit``)."""
    inner = emitter.lowered.bodies[node]
    rows = independent_rows(body) if emitter.splits_rows else None
    span = ROWS_SPAN if rows is not None else ""  # what a step's slice of a stack or sequence takes
    k, m = len(body.carries), len(body.sequences)
    state = [emitter.target(node, i) for i in range(k)]
    stacks = [emitter.target(node, k + j) for j in range(len(body.steps))]
    for carry, start in zip(state, arguments[:k]):
        emitter.assign(carry, start)
    # A matrix the body multiplies by at every step (a recurrent weight) is packed once, here, for the packed
    # product (runtime/packed.py); another transposed matrix read at every step is copied into row order once:
    # BLAS multiplies by a transposed operand more slowly (W4's backward step, 32x1024 @ 1024x256: 222 us against
    # 171 us).
    captured = list(arguments[k + m:])
    packed = {}
    for position, (placeholder, tensor) in enumerate(zip(body.captures, node.inputs[k + m:])):
        if emitter.packs and _multiplied_by(inner, placeholder):
            packed[placeholder] = f"{captured[position]}_packed"
            emitter.emit(f"{packed[placeholder]} = rt.pack_panels({captured[position]})")
        elif isinstance(tensor.op, Transpose) and len(emitter.shape(tensor)) == 2:
            emitter.emit(f"{captured[position]}_rows = {emitter.reshaped(captured[position], emitter.shape(tensor))}")
            captured[position] += "_rows"
    # A strided sequence (a bidirectional layer's half of a gradient) is read from a contiguous copy: its steps'
    # kernels then vectorize, and a loop function called with it and with a contiguous sequence compiles once.
    sequences = list(arguments[k:k + m])
    for position, tensor in enumerate(node.inputs[k:k + m]):
        if sequences[position] in emitter.views and len(emitter.shape(tensor)) > 1:
            emitter.emit(f"{sequences[position]}_rows = {emitter.reshaped(sequences[position], emitter.shape(tensor))}")
            sequences[position] += "_rows"
    t = f"{emitter.lowered.names[node]}_t"
    start = len(emitter.lines)
    emitter.emit(f"for {t} in range({size_text(length - 1)}, -1, -1):" if reverse else
                 f"for {t} in range({size_text(length)}):")
    for placeholder, carry in zip(body.carries, state):
        emitter.emit(f"    {inner.names[placeholder]} = {carry}")
    for placeholder, sequence in zip(body.sequences, sequences):
        own = span if rows is not None and has_rows(placeholder.type.shape, rows) else ""
        step = f"{sequence}[{t}:{t} + 1]" if placeholder.type.shape == () else emitter.step(sequence, t + own)
        emitter.emit(f"    {inner.names[placeholder]} = {step}")
    for placeholder, value in zip(body.captures, captured):
        emitter.emit(f"    {inner.names[placeholder]} = {value}")
    child = emitter.child(inner)
    child.packed = packed
    child.views = {inner.names[p] for p, value in zip(body.captures, captured) if value in emitter.views} | {
        inner.names[p] for p in body.sequences if p.type.shape == ()}  # a scalar step is read as a slice
    direct = []  # the stacks a kernel's per-step result goes straight into
    for stack, value in zip(stacks, body.steps):
        producer, index = (value.inputs[0], value.attr("index")) if value.op.projection else (value, 0)
        if value.type.shape != () and (producer, index) in inner.buffers and value not in child.in_place:
            child.in_place[value] = emitter.step(stack, t + span)
            direct.append(stack)
    for step in inner.steps:
        child.node(step)
    emitter.lines += ["    " + line for line in child.lines]
    emitter.parallel |= child.parallel
    emitter.random |= child.random
    for stack, value in zip(stacks, body.steps):
        if stack not in direct:
            emitter.store_step(stack, t + span, child.name(value), value.type.shape == ())
    # A new carry that is (a view of) another carry's old value is copied before any carry is overwritten.
    carried = set(body.carries)
    new = []
    for i, value in enumerate(body.outputs[:k]):
        root = value
        while root.op.view and not root.op.projection:
            root = root.inputs[0]
        name = child.name(value)
        if root in carried and root is not body.carries[i]:
            emitter.emit(f"    {name}_next = {emitter.duplicate(name)}")
            name = f"{name}_next"
        new.append(name)
    for i, (carry, value) in enumerate(zip(state, new)):
        if body.outputs[i] is not body.carries[i]:
            emitter.assign(carry, value, indent="    ")
    split = None
    if rows is not None:
        with_rows = [value for placeholder, value in zip(body.captures, captured)
                     if has_rows(placeholder.type.shape, rows)]
        split = RowSplit(dimension_name(rows), tuple(dict.fromkeys([*state, *with_rows, *inner.buffers.values()])))
    emitter.loops.append((start, len(emitter.lines), split))


def _multiplied_by(body: Lowered, placeholder: Node) -> bool:
    """Whether a step of ``body`` is a 2-D float product by ``placeholder`` on the right (what packing serves)."""
    return (placeholder.type.dtype.kind == "f" and len(body.shapes[placeholder]) == 2
            and any(isinstance(node.op, MatMul) and node.inputs[1] is placeholder and len(body.shapes[node]) == 2
                    for node in body.steps))
