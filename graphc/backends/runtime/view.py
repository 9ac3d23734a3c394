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

from numba import types
from numba.core import cgutils
from numba.core.imputils import impl_ret_borrowed
from numba.extending import intrinsic
from numba.np.arrayobj import make_array, populate_array


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


@intrinsic
def view(typing_context, x, shape):
    if not (isinstance(x, types.Array) and x.layout == "C" and isinstance(shape, types.BaseTuple)
            and all(isinstance(size, types.Integer) for size in shape)):
        return None
    result = types.Array(x.dtype, len(shape), "C")

    def codegen(context, builder, signature, arguments):
        value, sizes = arguments
        source = make_array(x)(context, builder, value)
        sizes, strides, total = _row_major(context, builder, sizes, signature.args[1], source.itemsize)
        elements = context.get_constant(types.intp, 1)
        for size in cgutils.unpack_tuple(builder, source.shape):
            elements = builder.mul(elements, size)
        with cgutils.if_unlikely(builder, builder.icmp_signed("!=", total, elements)):
            context.call_conv.return_user_exc(builder, ValueError, ("view: the sizes do not match the array's",))
        target = make_array(result)(context, builder)
        populate_array(target, data=source.data, shape=sizes, strides=strides, itemsize=source.itemsize,
                       meminfo=source.meminfo, parent=source.parent)
        return impl_ret_borrowed(context, builder, result, target._getvalue())  # the view holds a reference

    return result(x, shape), codegen


@intrinsic
def view_at(typing_context, workspace, starts, index, shape):
    """``workspace[start:start + n].reshape(shape)``, ``start = starts[index]``: a workspace buffer, carved from the
    one array of its dtype that the program takes (``Lowered.workspace_layout``). A function's compile time grows
    faster than its number of array arguments: the 2-layer bidirectional LSTM's ``run`` with its 125 buffers as
    arguments compiled in 5.8 s, carving them from one array in 4.3 s (``benchmarks/profile_compile.py``'s model,
    AMD EPYC, 2026-12-05). A buffer past the array's end, or an index past ``starts``, raises ValueError."""
    if not (isinstance(workspace, types.Array) and workspace.layout == "C" and workspace.ndim == 1
            and isinstance(starts, types.Array) and starts.ndim == 1 and isinstance(starts.dtype, types.Integer)
            and isinstance(index, types.Integer) and isinstance(shape, types.BaseTuple)
            and all(isinstance(size, types.Integer) for size in shape)):
        return None
    result = types.Array(workspace.dtype, len(shape), "C")

    def codegen(context, builder, signature, arguments):
        value, offsets, position, sizes = arguments
        source = make_array(workspace)(context, builder, value)
        table = make_array(starts)(context, builder, offsets)
        position = context.cast(builder, position, signature.args[2], types.intp)
        count = cgutils.unpack_tuple(builder, table.shape)[0]
        outside = builder.or_(builder.icmp_signed("<", position, context.get_constant(types.intp, 0)),
                              builder.icmp_signed(">=", position, count))
        with cgutils.if_unlikely(builder, outside):
            context.call_conv.return_user_exc(builder, ValueError, ("view_at: no such buffer",))
        start = context.cast(builder, builder.load(cgutils.get_item_pointer(context, builder, starts, table,
                                                                              [position])),
                             starts.dtype, types.intp)
        sizes, strides, total = _row_major(context, builder, sizes, signature.args[3], source.itemsize)
        length = cgutils.unpack_tuple(builder, source.shape)[0]
        past = builder.or_(builder.icmp_signed("<", start, context.get_constant(types.intp, 0)),
                           builder.icmp_signed(">", builder.add(start, total), length))
        with cgutils.if_unlikely(builder, past):
            context.call_conv.return_user_exc(builder, ValueError, ("view_at: the buffer lies past the workspace",))
        target = make_array(result)(context, builder)
        populate_array(target, data=builder.gep(source.data, [start]), shape=sizes, strides=strides,
                       itemsize=source.itemsize, meminfo=source.meminfo, parent=source.parent)
        return impl_ret_borrowed(context, builder, result, target._getvalue())  # the buffer holds a reference

    return result(workspace, starts, index, shape), codegen
