"""The Numba CPU code generator: a lowered program printed as one Python module with one ``@njit`` entry point.

Every node becomes a commented line (or a loop nest, for an element-wise kernel) in ``run``, so one call pays one
Python-to-native transition; a loop over a scan's steps is a function ``run`` calls, one per structure
(``outline.py``). Element-wise kernels print their SymPy expressions as scalar code, common
subexpressions shared; structured ops are printed by the methods of ``structured.py`` (matrix products through BLAS,
``np.dot`` by way of ``rt.dot``; the rest through the row kernels of ``runtime/cpu.py``), all called by way of
``runtime/calls.py``, which keeps the kernels over arrays out of the module (unlinked). The CUDA generator
(``cuda.py``) is this emitter with the methods that make and move arrays, and loop over elements, overridden.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy

from ...errors import GraphcError
from ...ir import Node
from ...ops.fused import input_symbol
from ...ops.slicing import Slice
from ..lowering import Lowered
from .outline import outline
from .program import (
    comment,
    handlers_of,
    loops_split_requested,
    preamble,
    program,
    threaded_products,
    threads_requested,
)
from .scalar import ScalarPrinter, argument_text, index_expression, product, shape_text, size_text
from .structured import StructuredOps

# Element-wise loops over at least this many elements use prange when GRAPHC_PARALLEL=1. Off by default: on the
# 2-core machines we measure on, Numba's worker threads contend with BLAS's; W2's step took 52 ms with prange
# against 11.5 ms without (docs/benchmarks.md says how it was measured).
PARALLEL_ELEMENTS = 1 << 15


@dataclass
class Kernel:
    """An element-wise kernel, printed: loop variables over ``space``, the arrays it writes, each input's array and
    index, the statements per element, and the value written to each target."""

    space: tuple
    loop: list[str]
    targets: list[str]
    reads: list[tuple[str, str]]
    statements: list[str]
    values: list[str]


class Emitter(StructuredOps):
    """Prints the body of ``run`` for one lowered program."""

    backend = "cpu"
    handlers: dict[type, str] = {}  # op class -> the method that prints its nodes (see ``emits``)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.handlers = handlers_of(cls)

    def product(self, a: str, b: str, out: str) -> str:
        """The matrix product into a given result: BLAS, split between graphc's threads where it has them (``threads``:
        the entry point's argument, what the call may use)."""
        return f"rt.threaded_dot({a}, {b}, {out}, threads)" if self.threaded else f"rt.dot({a}, {b}, {out})"

    packs = True  # a loop's weights are packed once for the packed product (runtime/packed.py)

    @property
    def threaded(self) -> bool:
        """Whether the products this emitter prints are split between graphc's threads."""
        return threaded_products()

    @property
    def splits_rows(self) -> bool:
        """Loops whose rows are independent run on separate rows in graphc's threads (``program.RowSplit``) unless
        told not to (``GRAPHC_SPLIT_LOOPS=0``) where graphc splits products between threads; not with
        ``GRAPHC_PARALLEL=1``, whose prange loops make ``run`` itself parallel."""
        return loops_split_requested() and threaded_products() and not threads_requested()
    printer = ScalarPrinter

    def __init__(self, lowered: Lowered):
        self.lowered = lowered
        # values written straight into an array of their own: parameter updates, a loop's per-step outputs
        self.in_place: dict[Node, str] = {}
        self.lines: list[str] = []
        self.parallel = False
        self.random = False
        self.packed: dict[Node, str] = {}  # a loop body's captured matrices -> their packed copies
        self.loops: list[tuple[int, int]] = []  # the lines [start, stop) of each loop over a scan's steps
        self.nests: list[tuple[int, int]] = []  # ... and of each element-wise kernel's loop nest
        self.views: set[str] = set()  # names of strided views (slices, transposes): not C-contiguous

    # --- names ---------------------------------------------------------------------------------------------------
    def name(self, node: Node) -> str:
        if node.op.projection:
            return f"{self.lowered.names[node.inputs[0]]}_{node.attr('index')}"
        return self.lowered.names[node]

    def shape(self, node: Node) -> tuple:
        return self.lowered.shapes[node]

    def target(self, node: Node, index: int = 0, shape=None, dtype=None) -> str:
        """The array a planned op writes into: its workspace buffer, or a fresh array for a returned value."""
        name = self.lowered.names[node] + (f"_{index}" if isinstance(node.type, tuple) else "")
        types = node.type if isinstance(node.type, tuple) else (node.type,)
        for value, destination in self.in_place.items():
            if value is node or (value.op.projection and value.inputs[0] is node and value.attr("index") == index):
                self.lines.append(f"    {name} = {destination}  # written in place")
                return name
        buffer = self.lowered.buffers.get((node, index))
        if buffer is not None:
            self.lines.append(f"    {name} = {buffer}")
        else:
            shape = shape or (self.shape(node)[index] if isinstance(node.type, tuple) else self.shape(node))
            self.lines.append(f"    {name} = {self.allocate(shape, dtype or types[index].dtype.name)}")
        return name

    def emit(self, line: str) -> None:
        self.lines.append(f"    {line}")

    # --- how arrays are made and moved: what another target (CUDA) prints differently ------------------------------
    def workspace(self) -> list[str]:
        """The entry point's arguments that hold the workspace: one array per dtype, and each buffer's start in it
        (``Lowered.workspace_layout``), after the lines that take the buffers out of them (``view_at``)."""
        if self.lowered.workspace:
            self.emit(comment("# the workspace's buffers, each a view of its dtype's array"))
        for position, (name, shape, dtype) in enumerate(self.lowered.workspace):
            self.emit(f"{name} = view_at(workspace_{dtype}, starts, {position}, {shape_text(shape)})")
        return [f"workspace_{dtype}" for dtype in self.lowered.workspace_dtypes()] + ["starts"]

    def allocate(self, shape, dtype: str) -> str:
        return f"rt.empty({shape_text(shape, argument_text)}, np.{dtype})"

    def reshaped(self, value: str, shape: tuple) -> str:
        """``value`` as a contiguous array of ``shape``: ``runtime/view.py``'s view of it, or of a copy by
        ``rt.contiguous`` when it is a strided view (a slice, a transpose)."""
        return f"view({f'rt.contiguous({value})' if value in self.views else value}, {shape_text(shape)})"

    def permuted(self, value: str, shape: tuple, order: tuple) -> str:
        """``value`` (of ``shape``) with its axes in ``order``, copied into a new contiguous array by a loop nest.
        Numba's ``np.transpose`` with axes compiles a formatted error message: 4.8 s for one rank-3 signature,
        against 0.6 s for a loop (measured in new processes, Intel Xeon, 2026-12-03)."""
        name = f"{value}_axes{''.join(map(str, order))}"
        moved = shape_text(tuple(shape[axis] for axis in order), argument_text)
        self.emit(f"{name} = rt.empty({moved}, {value}.dtype)")
        loop = [f"i{axis}" for axis in range(len(order))]
        for axis, extent in enumerate(shape[axis] for axis in order):
            self.emit(f"{'    ' * axis}for {loop[axis]} in range({size_text(extent)}):")
        source = [loop[order.index(axis)] for axis in range(len(order))]
        self.emit(f"{'    ' * len(order)}{name}[{', '.join(loop)}] = {value}[{', '.join(source)}]")
        return name

    def assign(self, target: str, value: str, indent: str = "") -> None:
        self.emit(f"{indent}rt.copy({value}, {target})")

    def duplicate(self, value: str) -> str:
        return f"{value}.copy()"

    def step(self, array: str, t: str) -> str:
        """Step ``t`` of a sequence or stack, ``t`` followed by its rows where the loop is split by rows
        (``program.ROWS_SPAN``)."""
        return f"view_step({array}, {t})"

    def store_step(self, stack: str, t: str, value: str, scalar: bool) -> None:
        self.emit(f"    {stack}[{t}] = {value}[0]" if scalar else f"    rt.copy({value}, {self.step(stack, t)})")

    def child(self, lowered: Lowered) -> Emitter:
        """The emitter of a loop's body."""
        return type(self)(lowered)

    # --- nodes ---------------------------------------------------------------------------------------------------
    def node(self, node: Node) -> None:
        generalized = self.lowered.generalized(node.type)  # the program serves every fixed size
        kind = ", ".join(map(str, generalized)) if isinstance(generalized, tuple) else str(generalized)
        self.lines.append("    " + comment(f"# {self.lowered.names[node]} = {node.op.name}"
                                            f"({', '.join(self.lowered.names[i] for i in node.inputs)}): {kind} "
                                            f"at {node.location}"))
        if node.op.kernel:
            self.kernel(node, node.attr("expressions"), list(node.inputs))
        elif node.op.elementwise or node.op.broadcast:
            self.single_kernel(node)
        else:
            self.handler(node.op)(node, *[self.name(i) for i in node.inputs], **self.lowered.attrs(node))

    def handler(self, op):
        """The method that prints nodes of ``op``: the one marked ``@emits`` for its class (or a base class)."""
        for kind in type(op).__mro__:
            if kind in self.handlers:
                return getattr(self, self.handlers[kind])
        raise GraphcError(f"the {self.backend} code generator has no rule for op {op.name!r}")

    def single_kernel(self, node: Node) -> None:
        if node.op.elementwise:
            arguments = [input_symbol(i) for i in range(len(node.inputs))]
            with sympy.evaluate(False):
                expression = node.op.expr(*arguments, **node.attributes)
            self.kernel(node, (expression,), list(node.inputs))
        else:  # a broadcast: copy the input into every element of the result
            self.kernel(node, (input_symbol(0),), list(node.inputs[:1]))

    def elementwise(self, node: Node, expressions, inputs: list[Node]) -> Kernel:
        """What one element of a kernel computes: the inputs it reads there, the common subexpressions (computed
        once), and each result, printed by ``self.printer``."""
        types = node.type if isinstance(node.type, tuple) else (node.type,)
        space = self.shape(node)[0] if isinstance(node.type, tuple) else self.shape(node)
        targets = [self.target(node, k) for k in range(len(types))]
        with sympy.evaluate(False):
            shared, results = sympy.cse(list(expressions), symbols=sympy.numbered_symbols("t"))
        loop = [f"i{axis}" for axis in range(len(space))]
        floats = {t.dtype for t in types if t.dtype.kind == "f"} | {
            i.type.dtype for i in inputs if i.type.dtype.kind == "f"}
        printer = self.printer({"fully_qualified_modules": True}, single=floats == {np.dtype(np.float32)})
        reads = []
        for tensor in inputs:
            source, starts = self.unsliced(tensor)
            reads.append((source, index_expression(self.shape(tensor), space, loop, starts)))
        statements = [f"{symbol} = {printer.doprint(value)}" for symbol, value in shared]
        values = [f"int({printer.doprint(value)})" if kind.dtype.kind in "iu" else printer.doprint(value)
                  for value, kind in zip(results, types)]
        return Kernel(space, loop, targets, reads, statements, values)

    def kernel(self, node: Node, expressions, inputs: list[Node]) -> None:
        """One loop nest computing every expression per element."""
        kernel = self.elementwise(node, expressions, inputs)
        size = product(kernel.space)
        body = "    "
        allowed = threads_requested() and size.is_Integer  # a named size is unknown here
        start = len(self.lines)
        for axis, extent in enumerate(kernel.space):
            parallel = allowed and axis == 0 and size >= PARALLEL_ELEMENTS and extent != 1
            self.parallel |= parallel
            self.lines.append(f"{body}for {kernel.loop[axis]} in {'numba.prange' if parallel else 'range'}"
                              f"({size_text(extent)}):")
            body += "    "
        for position, (source, index) in enumerate(kernel.reads):
            self.lines.append(f"{body}{input_symbol(position)} = {source}[{index}]")
        self.lines += [f"{body}{statement}" for statement in kernel.statements]
        for target, value in zip(kernel.targets, kernel.values):
            self.lines.append(f"{body}{target}[{', '.join(kernel.loop)}] = {value}")
        self.nests.append((start, len(self.lines), None))

    def unsliced(self, tensor: Node) -> tuple[str, list[int]]:
        """The array a kernel reads ``tensor`` from, and the offsets: a slice with unit steps is read from its
        source at shifted indices, since LLVM vectorizes loops over contiguous arrays but not over strided views."""
        starts = [0] * len(self.shape(tensor))
        while isinstance(tensor.op, Slice) and all(step == 1 for _, _, step in self.lowered.attrs(tensor)["index"]):
            starts = [s + start for s, (start, _, _) in zip(starts, self.lowered.attrs(tensor)["index"])]
            tensor = tensor.inputs[0]
        return self.name(tensor), starts


Emitter.handlers = handlers_of(Emitter)


def generate(lowered: Lowered, key: str, writes: dict[str, Node] | None = None) -> str:
    """The module source: the entry point ``run`` and what the caller needs to call it."""
    emitter = Emitter(lowered)
    arguments, returned = program(emitter, writes or {})
    # prange needs a parallel function; outlined loops are only for the single-threaded code
    # A kernel is a function only in a program with loops over steps, whose run is large to compile and whose step
    # the loops dominate: a call costs about half a microsecond (outline.py).
    regions = sorted(emitter.loops + (emitter.nests if emitter.loops else []))
    functions, lines = ([], emitter.lines) if emitter.parallel else outline(emitter.lines, regions, arguments,
                                                                              every=bool(emitter.loops))
    glue = not any(line.lstrip().startswith("for ") for line in lines)  # nothing -O3 would speed up
    header = [
        f'"""graphc CPU kernels. Generated; do not edit. key {key}"""',
        "import math",
        "",
        "import numba",
        "import numpy as np",
        "",
        "from graphc.backends.runtime import cpu_math as rm",
        "from graphc.backends.runtime import calls as rt",
        "from graphc.backends.runtime.jit import GlueCompiler, njit",
        "from graphc.backends.runtime.view import view, view_at, view_rows, view_step",
        "",
        *preamble(lowered),
        "",
        "",
        *functions,
        f"@njit(error_model='numpy', no_cfunc_wrapper=True, parallel={emitter.parallel}"
        f"{', pipeline_class=GlueCompiler' if glue else ''})",  # Python calls it
        f"def run({', '.join(arguments)}):",
    ]
    seeding = ["    np.random.seed(seed)"] if emitter.random else []
    return "\n".join(header + seeding + lines + [f"    return ({''.join(r + ', ' for r in returned)})"]) + "\n"
