"""The CUDA code generator: the same lowered program as the CPU backend's, printed as one Python module whose host
function ``run`` launches a ``@cuda.jit`` kernel per element-wise (or fused) node and the kernels of
``runtime/cuda.py`` for structured ops.

It is the CPU emitter with another way of making and moving arrays (device arrays, copy kernels) and of looping
over elements (a grid-stride kernel instead of a loop nest); the lines for each op are the CPU emitter's. A scan is
a host loop launching its body's kernels, each step's gate math fused into one kernel by the optimizer. Importing
this module does not import numba.cuda; the generated module does.
"""

from __future__ import annotations

import zlib

import numpy as np
import sympy

from ...ir import Node
from ...ops.fused import input_symbol
from ..lowering import Lowered
from .cpu import Emitter
from .program import preamble, program
from .scalar import ScalarPrinter, shape_text


class DevicePrinter(ScalarPrinter):
    """Scalar expressions as CUDA device code: CUDA's own exp and tanh (libdevice) rather than the CPU's
    vectorizable ones, and the stable sigmoid of ``runtime/cuda.py``."""

    def _print_exp(self, expr):
        return f"math.exp({self._print(expr.args[0])})"

    def _print_tanh(self, expr):
        return f"math.tanh({self._print(expr.args[0])})"

    def _print_Pow(self, expr, rational=False):
        if self.single and expr.args[1] == sympy.Rational(1, 2):
            return f"math.sqrt({self._print(expr.args[0])})"
        return super()._print_Pow(expr, rational)

    def _print_Function(self, expr):
        if type(expr).__name__ == "Sigmoid":
            return f"rt.sigmoid({self._print(expr.args[0])})"
        return super()._print_Function(expr)


class CudaEmitter(Emitter):
    """Prints the host function ``run`` (launches, in the CPU emitter's order) and the kernels it launches."""

    backend = "cuda"

    def product(self, a: str, b: str, out: str) -> str:
        return f"rt.matmul({a}, {b}, {out})"

    packs = False  # its tiled product kernel reads the weight as it is
    splits_rows = False  # a kernel's threads are the GPU's
    printer = DevicePrinter

    def __init__(self, lowered: Lowered, kernels: list[str] | None = None):
        super().__init__(lowered)
        self.kernels = [] if kernels is None else kernels  # module-level kernel sources, shared with loop bodies

    def child(self, lowered: Lowered) -> Emitter:
        return CudaEmitter(lowered, self.kernels)

    def workspace(self) -> list[str]:
        return [name for name, _, _ in self.lowered.workspace]  # device arrays, one per buffer

    def allocate(self, shape, dtype: str) -> str:
        return f"rt.empty({shape}, np.{dtype})"

    def reshaped(self, value: str, shape: tuple) -> str:
        return f"rt.contiguous({value}).reshape({shape_text(shape)})"

    def assign(self, target: str, value: str, indent: str = "") -> None:
        self.emit(f"{indent}rt.copy({value}, {target})")

    def duplicate(self, value: str) -> str:
        return f"rt.duplicate({value})"

    def step(self, array: str, t: str) -> str:
        return f"{array}[{t}]"  # host code: NumPy indexing

    def store_step(self, stack: str, t: str, value: str, scalar: bool) -> None:
        self.emit(f"    rt.copy({value}, {stack}[{t}:{t} + 1])" if scalar else f"    rt.copy({value}, {stack}[{t}])")

    def permuted(self, value: str, shape: tuple, order: tuple) -> str:
        """A kernel writes ``value``'s elements into a new array whose axis k is ``value``'s axis ``order[k]``."""
        moved = tuple(shape[a] for a in order)
        kernel = f"kernel_permute{len(self.kernels)}"
        loop = [f"i{axis}" for axis in range(len(moved))]
        source = [loop[order.index(axis)] for axis in range(len(shape))]
        self.define(kernel, ["source", "target"], int(np.prod(moved)), moved,
                    [f"target[{', '.join(loop)}] = source[{', '.join(source)}]"])
        name = f"permuted{len(self.kernels)}"
        self.emit(f"{name} = rt.empty({moved}, {value}.dtype)")
        self.emit(f"{kernel}[rt.grid({int(np.prod(moved))})]({value}, {name})")
        return name

    def define(self, kernel: str, parameters: list[str], size: int, space: tuple, body: list[str]) -> None:
        """A grid-stride kernel: each thread takes flat indices, unravels them over ``space`` into i0, i1, ...
        and runs ``body`` there."""
        lines = ["@cuda.jit(cache=CACHE)", f"def {kernel}({', '.join(parameters)}):",
                 f"    for flat in range(cuda.grid(1), {size}, cuda.gridsize(1)):"]
        rest = "flat"
        for axis in range(len(space) - 1, 0, -1):
            lines.append(f"        i{axis} = {rest} % {space[axis]}")
            lines.append(f"        rest{axis} = {rest} // {space[axis]}")
            rest = f"rest{axis}"
        lines.append(f"        i0 = {rest}")
        lines += [f"        {line}" for line in body]
        self.kernels.append("\n".join(lines))

    def kernel(self, node: Node, expressions, inputs: list[Node]) -> None:
        """One kernel computing every expression per element."""
        kernel = self.elementwise(node, expressions, inputs)
        body = [f"{input_symbol(position)} = array{position}[{index}]"
                for position, (_, index) in enumerate(kernel.reads)]
        body += kernel.statements
        body += [f"out{k}[{', '.join(kernel.loop)}] = {value}" for k, value in enumerate(kernel.values)]
        name = f"kernel_{self.lowered.names[node]}"
        size = int(np.prod(kernel.space))
        self.define(name, [f"out{k}" for k in range(len(kernel.targets))] +
                    [f"array{p}" for p in range(len(kernel.reads))], size, kernel.space, body)
        sources = [source for source, _ in kernel.reads]
        self.emit(f"{name}[rt.grid({size})]({', '.join(kernel.targets + sources)})")

    def op_transpose(self, node, x, axes):
        if len(axes) == 2:  # numba-cuda's DeviceNDArray.T (a transposed copy, made by its own kernel)
            self.alias(node, f"{x}.T")
        else:
            self.alias(node, self.permuted(x, self.shape(node.inputs[0]), tuple(axes)))

    def op_uniform(self, node, like, instance):
        out = self.target(node)
        # Each uniform node draws its own stream: the call's seed mixed with a number fixed by the node's name.
        self.emit(f"rt.uniform({out}, seed * 1000003 + {zlib.crc32(self.lowered.names[node].encode())})")


def generate(lowered: Lowered, key: str, writes: dict[str, Node] | None = None) -> str:
    """The module source: the kernels, the host entry point ``run`` launching them, and what its caller needs."""
    emitter = CudaEmitter(lowered)
    arguments, returned = program(emitter, writes or {})
    header = [
        f'"""graphc CUDA kernels. Generated; do not edit. key {key}"""',
        "import math",
        "",
        "import numba",
        "import numpy as np",
        "from numba import cuda",
        "",
        "from graphc.backends.runtime import cuda as rt",
        "",
        "CACHE = not rt.SIMULATED  # the simulator compiles nothing",
        *preamble(lowered),
    ]
    kernels = [f"\n\n{kernel}" for kernel in emitter.kernels]
    entry = ["", "", f"def run({', '.join(arguments)}):", *emitter.lines,
             f"    return ({''.join(r + ', ' for r in returned)})"]
    return "\n".join(header + kernels + entry) + "\n"
