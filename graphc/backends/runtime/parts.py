"""A loop split by rows (``codegen/program.py``'s ``RowSplit``) run on each thread's part of the rows, with no
parallel function compiled for it.

Why: a parallel function per split loop made each model compile its own ``prange`` (Numba's parfor passes and the
gufunc they outline): W4's cold start 2.93 -> 5.02 s with its loops split. Here one parallel function, ``on_parts``,
is a runtime kernel, compiled once for every model: it calls a *task*, a C function ``int32 task(void *values, int64
lo, int64 hi)``, on each part. A caller's ``loop_rows(values..., rows, threads)`` (``by_parts(loop)``) stores the
loop's values in one struct on its stack and emits, into its own module, the loop's task: a few instructions that
load them and call the loop (unlinked, ``unlinked.py``) on rows ``lo:hi``. The task returns whether the loop failed;
``on_parts`` counts the failures, and the caller raises if there was one (an exception's details cannot cross
threads).
"""

from __future__ import annotations

import numba
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from .jit import njit
from .packed import JIT, row_parts
from .unlinked import PREFIX, call_by_name, register

INT32, INT64 = ir.IntType(32), ir.IntType(64)
TASK = ir.FunctionType(INT32, [ir.IntType(8).as_pointer(), INT64, INT64])
BOUNDS = (types.int64, types.int64)  # lo, hi: the rows a loop split by rows runs on
RUNNER = (types.int64,) * 4  # on_parts's arguments: the task's address, its values' address, the rows, the threads


@intrinsic
def call_task(typing_context, task, values, lo, hi):
    """``task(values, lo, hi)``: 1 if the loop it runs failed, else 0; the task and its values are addresses."""

    def codegen(context, builder, signature, arguments):
        task, values, lo, hi = arguments
        function = builder.inttoptr(task, TASK.as_pointer())
        failed = builder.call(function, [builder.inttoptr(values, ir.IntType(8).as_pointer()), lo, hi])
        return builder.zext(failed, INT64)

    return types.int64(types.int64, types.int64, types.int64, types.int64), codegen


@njit(parallel=True, **JIT)
def on_parts(task, values, rows, threads):
    """Runs ``task`` on each thread's part of ``rows`` (``row_parts``), or on all of them at once where there is one
    part (no parallel region then: a child forked from a process that used GNU OpenMP could not enter one); returns
    how many parts failed."""
    parts = row_parts(rows, threads)
    if parts == 1:
        return call_task(task, values, 0, rows)
    share = (rows + parts - 1) // parts
    failed = 0
    for part in numba.prange(parts):
        failed += call_task(task, values, part * share, min(rows, (part + 1) * share))
    return failed


@njit(inline="always", **JIT)
def threads_within(rows, threads):
    """The threads a loop split by rows may use inside each part: one where it runs in parts (its parts are the
    threads), else all of them, for its products (a batch too small to split, with a large hidden size)."""
    return 1 if row_parts(rows, threads) > 1 else threads


def _task(context, module, name: str, returned, given: tuple) -> ir.Function:
    """The task that runs the loop function ``name`` (unlinked) on rows ``lo:hi`` with the values a caller stored
    in one struct: emitted into the caller's module once, however often it is called."""
    task_name = name.replace(PREFIX, "graphc.task.")  # not a kernel's name: ``resolve`` looks for none by it
    existing = module.globals.get(task_name)
    if existing is not None:
        return existing
    task = ir.Function(module, TASK, task_name)
    task.linkage = "internal"
    builder = ir.IRBuilder(task.append_basic_block())
    values, lo, hi = task.args
    layout = ir.LiteralStructType([context.get_value_type(value) for value in given])
    stored = builder.load(builder.bitcast(values, layout.as_pointer()))
    status, _ = call_by_name(context, builder, name, returned, given + BOUNDS,
                             [builder.extract_value(stored, k) for k in range(len(given))] + [lo, hi])
    builder.ret(builder.zext(status.is_error, INT32))
    return task


def by_parts(call):
    """An intrinsic ``(values..., rows, threads)`` that runs the unlinked loop function ``call`` (``unlinked``) on
    each thread's part of ``rows``, through ``on_parts``."""
    dispatcher = call.dispatcher

    @intrinsic
    def split(typing_context, *arguments):
        arguments = tuple(types.unliteral(argument) for argument in arguments)
        given = arguments[:-2]
        name, result = register(dispatcher, given + BOUNDS)
        returned = result.signature.return_type
        runner, _ = register(on_parts, RUNNER)

        def codegen(context, builder, signature, values):
            values = cgutils.unpack_tuple(builder, values[0], len(arguments))
            task = _task(context, builder.module, name, returned, given)
            stored = cgutils.alloca_once_value(builder, cgutils.pack_struct(builder, values[:-2]))
            addresses = [builder.ptrtoint(task, INT64), builder.ptrtoint(stored, INT64)]
            status, failed = call_by_name(context, builder, runner, types.int64, RUNNER, addresses + list(values[-2:]))
            with cgutils.if_unlikely(builder, status.is_error):
                context.call_conv.return_status_propagate(builder, status)
            with cgutils.if_unlikely(builder, builder.icmp_signed("!=", failed, ir.Constant(INT64, 0))):
                context.call_conv.return_user_exc(
                    builder, RuntimeError, (f"graphc: {dispatcher.py_func.__name__} failed on a part of its rows",))
            return context.get_dummy_value()

        return types.none(types.StarArgTuple.from_types(arguments)), codegen

    return split
