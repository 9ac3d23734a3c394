"""``view(x, shape)``: ``x.reshape(shape)`` of a C-contiguous array for generated CPU code, without Numba's reshape;
``view_at``: a workspace buffer, a view of the program's one array of its dtype.

The structured ops call their row kernels on 2-D views of their operands, so a program has a reshape at nearly
every structured op (W4's step: 30, most of them of a contiguous array after ``np.ascontiguousarray``). Numba lowers
each ``.reshape`` call site in full (the no-copy attempt for any layout, its error paths): 40 call sites of
``row_sum(contiguous(x).reshape(...), out.reshape(-1))`` compiled in 2.3-2.9 s, the same with ``view`` in 0.85 s,
plain calls in 0.3 s (new processes, empty caches, Intel Xeon, 2026-12-03).

Generated operands are C-contiguous arrays (feeds, buffers, new arrays, a stack's step), and for them this is the
same data pointer with new sizes and row-major strides, a few instructions. The code generator copies a slice or a
transposed view first (``rt.contiguous``); another layout is refused when Numba types the call, since a copy made
here would silently leave a kernel's results in the copy. Every size is given (the code generator knows them; no
-1), and a total that differs from the operand's raises ValueError: never a view past the data.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.core.imputils import impl_ret_borrowed
from numba.extending import intrinsic


# The array values are read and built field by field (extract_value, insert_value), not through Numba's array
# structures (``make_array``, ``populate_array``): those look up an ``__array__`` implementation and store through a
# stack slot with a type check at every field, 5.6 ms of Python a call site (cProfile of 100 ``view_at``s), and the
# bidirectional LSTM's ``run`` has 125 buffers and 51 views.
def _field(context, builder, kind, value, name):
    return builder.extract_value(value, context.data_model_manager[kind].get_field_position(name))


def _row_major(context, builder, sizes, kinds, itemsize):
    """The sizes of a shape tuple as intp, the row-major strides for them in bytes, and their element count."""
    sizes = [context.cast(builder, size, kind, types.intp)
             for size, kind in zip(cgutils.unpack_tuple(builder, sizes), kinds)]
    total = context.get_constant(types.intp, 1)
    strides = []
    for size in reversed(sizes):
        strides.insert(0, builder.mul(total, itemsize))
        total = builder.mul(total, size)
    return sizes, strides, total


def _array(context, builder, kind, source_kind, source, data, sizes, strides, total):
    """An array of type ``kind`` over ``data`` with these sizes and strides, holding ``source``'s reference."""
    fields = {"meminfo": _field(context, builder, source_kind, source, "meminfo"),
              "parent": _field(context, builder, source_kind, source, "parent"),
              "nitems": total, "itemsize": _field(context, builder, source_kind, source, "itemsize"), "data": data,
              "shape": cgutils.pack_array(builder, sizes), "strides": cgutils.pack_array(builder, strides)}
    model = context.data_model_manager[kind]
    value = ir.Constant(context.get_value_type(kind), ir.Undefined)
    for name, part in fields.items():
        value = builder.insert_value(value, part, model.get_field_position(name))
    return impl_ret_borrowed(context, builder, kind, value)  # the view holds a reference


def _product(context, builder, sizes):
    count = context.get_constant(types.intp, 1)
    for size in sizes:
        count = builder.mul(count, size)
    return count


def _elements(context, builder, kind, value):
    return _product(context, builder, cgutils.unpack_tuple(builder, _field(context, builder, kind, value, "shape")))


def _rows_outside(context, builder, lo, hi, size):
    """Whether rows ``lo:hi`` (intp) are not within ``0:size``: no wraparound, generated code never counts from
    the end."""
    zero = context.get_constant(types.intp, 0)
    return builder.or_(builder.icmp_signed("<", lo, zero),
                       builder.or_(builder.icmp_signed("<", hi, lo), builder.icmp_signed(">", hi, size)))


@intrinsic
def view(typing_context, x, shape):
    if not (isinstance(x, types.Array) and x.layout == "C" and isinstance(shape, types.BaseTuple)
            and all(isinstance(size, types.Integer) for size in shape)):
        return None
    result = types.Array(x.dtype, len(shape), "C")

    def codegen(context, builder, signature, arguments):
        value, sizes = arguments
        itemsize = _field(context, builder, x, value, "itemsize")
        sizes, strides, total = _row_major(context, builder, sizes, signature.args[1], itemsize)
        with cgutils.if_unlikely(builder, builder.icmp_signed("!=", total, _elements(context, builder, x, value))):
            context.call_conv.return_user_exc(builder, ValueError, ("view: the sizes do not match the array's",))
        return _array(context, builder, result, x, value, _field(context, builder, x, value, "data"), sizes,
                      strides, total)

    return result(x, shape), codegen


@intrinsic
def view_at(typing_context, workspace, starts, index, shape):
    """``workspace[start:start + n].reshape(shape)``, ``start = starts[index]``: a workspace buffer, carved from the
    one array of its dtype that the program takes (``Lowered.workspace_layout``). A function's compile time grows
    faster than its number of array arguments: the 2-layer bidirectional LSTM's ``run`` with its 125 buffers as
    arguments compiled in 5.8 s, carving them from one array in 4.3 s (``benchmarks/profile_compile.py``'s model,
    AMD EPYC, 2026-12-05). A buffer past the array's end, or an index past ``starts``, raises ValueError."""
    if not (isinstance(workspace, types.Array) and workspace.layout == "C" and workspace.ndim == 1
            and isinstance(starts, types.Array) and starts.ndim == 1 and starts.layout == "C"
            and isinstance(starts.dtype, types.Integer) and isinstance(index, types.Integer)
            and isinstance(shape, types.BaseTuple) and all(isinstance(size, types.Integer) for size in shape)):
        return None
    result = types.Array(workspace.dtype, len(shape), "C")

    def codegen(context, builder, signature, arguments):
        value, offsets, position, sizes = arguments
        position = context.cast(builder, position, signature.args[2], types.intp)
        count = _elements(context, builder, starts, offsets)
        outside = builder.or_(builder.icmp_signed("<", position, context.get_constant(types.intp, 0)),
                              builder.icmp_signed(">=", position, count))
        with cgutils.if_unlikely(builder, outside):
            context.call_conv.return_user_exc(builder, ValueError, ("view_at: no such buffer",))
        start = builder.load(builder.gep(_field(context, builder, starts, offsets, "data"), [position]))
        start = context.cast(builder, start, starts.dtype, types.intp)
        itemsize = _field(context, builder, workspace, value, "itemsize")
        sizes, strides, total = _row_major(context, builder, sizes, signature.args[3], itemsize)
        length = _elements(context, builder, workspace, value)
        past = builder.or_(builder.icmp_signed("<", start, context.get_constant(types.intp, 0)),
                           builder.icmp_signed(">", builder.add(start, total), length))
        with cgutils.if_unlikely(builder, past):
            context.call_conv.return_user_exc(builder, ValueError, ("view_at: the buffer lies past the workspace",))
        data = builder.gep(_field(context, builder, workspace, value, "data"), [start])
        return _array(context, builder, result, workspace, value, data, sizes, strides, total)

    return result(workspace, starts, index, shape), codegen


@intrinsic
def view_step(typing_context, x, t, *rows):
    """``x[t]``, or ``x[t, lo:hi]`` given ``lo, hi``: one step of a loop's sequence or stack (rank 2 or more) as a
    view of it. Numba lowers each such indexing through its generic ``basic_indexing`` (every index kind, its
    wraparound and error paths): with it W4's loops split by rows compiled in 0.87 + 0.80 s, with this and
    ``view_rows`` in 0.71 + 0.60 s, as the unsplit ones (whose cold start did not change measurably). Built field by
    field like ``view``; ``t`` or the rows outside ``x`` raise IndexError (no wraparound)."""
    if not (isinstance(x, types.Array) and x.ndim >= 2 and isinstance(t, types.Integer) and len(rows) in (0, 2)
            and all(isinstance(bound, types.Integer) for bound in rows)):
        return None
    result = types.Array(x.dtype, x.ndim - 1, "C" if x.layout == "C" else "A", readonly=not x.mutable)

    def codegen(context, builder, signature, arguments):
        value, position = arguments[0], context.cast(builder, arguments[1], t, types.intp)
        sizes = cgutils.unpack_tuple(builder, _field(context, builder, x, value, "shape"), x.ndim)
        strides = cgutils.unpack_tuple(builder, _field(context, builder, x, value, "strides"), x.ndim)
        outside = _rows_outside(context, builder, position, builder.add(position, context.get_constant(types.intp, 1)),
                                sizes[0])
        offset = builder.mul(position, strides[0])
        sizes = sizes[1:]
        if rows:
            lo, hi = (context.cast(builder, bound, kind, types.intp)
                      for bound, kind in zip(cgutils.unpack_tuple(builder, arguments[2], 2), rows))
            outside = builder.or_(outside, _rows_outside(context, builder, lo, hi, sizes[0]))
            offset = builder.add(offset, builder.mul(lo, strides[1]))
            sizes[0] = builder.sub(hi, lo)
        with cgutils.if_unlikely(builder, outside):
            context.call_conv.return_user_exc(builder, IndexError, ("view_step: the step lies outside the array",))
        data = _field(context, builder, x, value, "data")
        return _array(context, builder, result, x, value, cgutils.pointer_add(builder, data, offset, data.type),
                      sizes, strides[1:], _product(context, builder, sizes))

    return result(x, t, types.StarArgTuple.from_types(rows)), codegen


@intrinsic
def view_rows(typing_context, x, lo, hi):
    """``x[lo:hi]``: rows ``lo:hi`` of an array, as a view (a loop split by rows takes its rows of its carries and
    buffers so; ``view_step`` says why not Numba's indexing). Rows outside ``x`` raise IndexError."""
    if not (isinstance(x, types.Array) and isinstance(lo, types.Integer) and isinstance(hi, types.Integer)):
        return None
    result = x if x.layout == "C" else x.copy(layout="A")  # rows of an F-ordered array are not F-ordered

    def codegen(context, builder, signature, arguments):
        value, lo_value, hi_value = arguments
        lo_value, hi_value = (context.cast(builder, bound, kind, types.intp)
                              for bound, kind in zip((lo_value, hi_value), (lo, hi)))
        sizes = cgutils.unpack_tuple(builder, _field(context, builder, x, value, "shape"), x.ndim)
        strides = cgutils.unpack_tuple(builder, _field(context, builder, x, value, "strides"), x.ndim)
        with cgutils.if_unlikely(builder, _rows_outside(context, builder, lo_value, hi_value, sizes[0])):
            context.call_conv.return_user_exc(builder, IndexError, ("view_rows: the rows lie outside the array",))
        sizes = [builder.sub(hi_value, lo_value), *sizes[1:]]
        data = _field(context, builder, x, value, "data")
        data = cgutils.pointer_add(builder, data, builder.mul(lo_value, strides[0]), data.type)
        return _array(context, builder, result, x, value, data, sizes, strides, _product(context, builder, sizes))

    return result(x, lo, hi), codegen
