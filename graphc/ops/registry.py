"""The op table: what an op is, how one is registered, and how a node of it is built.

An op is one class holding everything about it: its shape rule (``infer``), its NumPy reference implementation
(``reference``), its derivative rule (``vjp``, which builds graph nodes) and flags. Element-wise ops are SymPy scalar
expressions instead; their derivatives come from ``sympy.diff`` unless the op overrides them with a form written in
terms of its output. ``OPS`` is the single table that the interpreter, autodiff, the tests and the backends read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import sympy

from .. import ir
from ..errors import DTypeError, GraphcError, ShapeError, user_location
from ..tensor import Tensor, node_of
from ..types import TensorType, format_shape, is_float

OPS: dict[str, Op] = {}
# The public function of each op (and of composites such as ``mean``), by name: what graphc exports.
PUBLIC: dict[str, Callable] = {}

OUT = sympy.Symbol("out", real=True)  # an element-wise op's own output, usable in its derivative rules


@dataclass(frozen=True)
class Case:
    """How the table-driven tests call an op: input shapes, attributes, and the inputs that are not floats.

    ``integers`` maps an input's position to the exclusive upper bound of its values (labels, indices);
    ``booleans`` lists boolean inputs; ``domain`` gives (low, high) per float input (None: the op's default).
    """

    shapes: tuple
    attrs: dict = field(default_factory=dict)
    integers: dict = field(default_factory=dict)
    booleans: tuple = ()
    domain: tuple | None = None


def register(cls):
    """Class decorator: instantiate the op and put it in ``OPS`` under its name; an op that makes its own public
    function (an element-wise op's is made from its arguments) puts it in ``PUBLIC``."""
    op = cls()
    if op.name in OPS:
        raise RuntimeError(f"op {op.name!r} is registered twice")
    OPS[op.name] = op
    builder = op.builder()
    if builder is not None:
        public(builder)
    return cls


def public(function: Callable) -> Callable:
    """Decorator: ``function`` is part of graphc's public API under its own name."""
    if function.__name__ in PUBLIC:
        raise RuntimeError(f"public function {function.__name__!r} is defined twice")
    PUBLIC[function.__name__] = function
    return function


class Op:
    """Base class of every op; subclasses set ``name`` and override the methods that apply."""

    name: str = ""
    differentiable = True  # False: its inputs receive no gradient through it (comparisons, one_hot, ...)
    commutative = False  # inputs may be put in canonical order (CSE)
    random = False  # never merged with an equal-looking node
    elementwise = False
    leaf = False  # inputs, parameters, constants
    fed = False  # its value is given at each evaluation by name (inputs and parameters)
    shape_only: tuple[int, ...] = ()  # inputs read for their shape only, never their values
    nested = False  # runs a subgraph (a loop body): its reference implementation gets ``run(outputs, given)``
    internal = False  # built by passes (fused kernels, projections), never by users: tested through the passes
    stable_at_extremes = False  # math.md: finite values and gradients for inputs with |x| up to 1e4
    domain: tuple = (-3.0, 3.0)  # where tests draw float inputs: (low, high), or one such pair per input
    cases: tuple[Case, ...] = ()  # how tests call it; every non-leaf op needs at least one
    derivative_text: tuple[str, ...] = ()  # how pictures write d out / d input_i (g: the upstream gradient)
    # Facts that passes and backends read (each op says its own; nothing keeps a list of names):
    trainable = False  # a parameter: what init_params fills and optimizers update
    literal = False  # its value is known when the graph is built (constants)
    placeholder = False  # stands for a value a loop gives its body at each step (slots)
    projection = False  # takes one result out of a node with several (item)
    kernel = False  # a fused element-wise kernel with several results
    view = False  # its result is its first input's data seen another way: it keeps that buffer alive
    planned = False  # writes into a buffer the memory plan provides, rather than allocating its own
    passthrough = False  # its value is its input's (identity, stop_gradient): dead-code removal drops it
    broadcast = False  # spreads its input over a larger shape (broadcast_to, broadcast_like)
    layout = False  # only moves data (reshape, transpose, slice, ...): summaries name the ops around it
    positive = False  # every result is > 0 (exp, sigmoid, softplus, softmax): rewrites that need x > 0 may fire
    batched = False  # per-step instances in a loop are worth merging into one product over every step (hoisting)
    dtype_attribute = False  # its ``dtype`` attribute is its result's dtype (float64 mode widens a float one)
    indices: int | None = None  # the input holding integer indices that every backend checks (``index_bound``)
    evaluation_input: int | None = None  # in evaluation (not training) the node is this input (dropout: its x)
    sizes: tuple[str, ...] = ()  # attributes that hold sizes along axes: compiled code takes them as arguments

    # --- the three parts of every op -------------------------------------------------------------------------------
    def infer(self, types: Sequence[TensorType], **attrs) -> TensorType:
        """The output type, or ShapeError/DTypeError saying why the inputs do not fit."""
        raise NotImplementedError(self.name)

    def reference(self, *arrays: np.ndarray, **attrs) -> np.ndarray:
        """The exact NumPy result: the oracle every backend is tested against."""
        raise NotImplementedError(self.name)

    def vjp(self, inputs: Sequence, out, grad, **attrs) -> list:
        """Gradients of the inputs as Tensors (or None), given the output ``out`` and its gradient ``grad``.

        Results may have the output's broadcast shape: autodiff reduces them to each input's shape.
        """
        raise NotImplementedError(self.name)

    def local_derivatives(self, names: tuple[str, ...] = (), **attrs) -> tuple[str, ...]:
        """The local derivative with respect to each input, as text for pictures of the chain rule."""
        return self.derivative_text

    def index_bound(self, shapes: Sequence[tuple], **attrs) -> int:
        """How many places the ``indices`` input may name (valid indices are 0 .. bound - 1), from the inputs'
        resolved shapes and attributes."""
        raise NotImplementedError(self.name)

    def keeps_rows(self, rows: Sequence[bool], shapes: Sequence[tuple], out: tuple, **attrs) -> bool:
        """Whether each row of the result (its axis 0, of ``out``'s first size) is computed from the same row of
        the inputs that have those rows (``rows``, by input; the others are read whole) and from nothing else of
        them: what lets a loop run its rows (a batch) on separate threads (``loops/rows.py``). Not unless the op
        says so."""
        return False

    def generalize_attributes(self, attrs: dict, generalize: Callable) -> dict:
        """``attrs`` with the sizes in them (``sizes``) passed through ``generalize``: how a program compiled for
        one hidden size serves another (``lowering.fixed_sizes``)."""
        return {key: generalize(value) if key in self.sizes else value for key, value in attrs.items()}

    def builder(self) -> Callable | None:
        """The public function this op makes for itself (None: its module defines one with ``@public``, or it has
        none)."""
        return None

    def __repr__(self) -> str:
        return f"<op {self.name}>"

    def __reduce__(self):
        return registered, (self.name,)  # an op is one per process: unpickled as that process's own


def registered(name: str) -> Op:
    """The op registered under ``name`` (how an op is unpickled)."""
    return OPS[name]


def apply(op_name: str, /, *inputs, **attrs):
    """Build (or find) the node ``name(inputs; attrs)`` and return it as a Tensor.

    Shape and dtype rules run here, so a mismatch is reported where the user built the graph.
    """
    op = OPS[op_name]
    nodes = tuple(node_of(v) for v in inputs)

    def infer():
        try:
            return op.infer([n.type for n in nodes], **attrs)
        except GraphcError as error:
            raise type(error)(f"{op_name}: {error.message}", user_location()) from None
        except ValueError as error:  # broadcasting and axis helpers speak ValueError
            shapes = ", ".join(format_shape(n.shape) for n in nodes)
            raise ShapeError(f"{op_name}: {error} (input shapes {shapes})", user_location()) from None

    return Tensor(ir.intern(op, nodes, attrs, infer, user_location()))


def aligned_rows(rows: Sequence[bool], shapes: Sequence[tuple], out: tuple) -> bool:
    """``keeps_rows`` of an element-wise op: each input with rows has the result's rank, since broadcasting aligns
    trailing axes (a shorter input's axis 0 would be another axis of the result)."""
    return all(len(shape) == len(out) for shape, has in zip(shapes, rows) if has)


def require_float(op: str, types: Sequence[TensorType]):
    for t in types:
        if not is_float(t.dtype):
            raise DTypeError(f"needs floating-point inputs, got {t.dtype.name}")


def require_same_dtype(types: Sequence[TensorType]):
    dtypes = [t.dtype for t in types]
    if any(d != dtypes[0] for d in dtypes):
        names = " and ".join(d.name for d in dtypes)
        raise DTypeError(f"dtypes {names} differ; graphc does not promote silently, use .astype()")
