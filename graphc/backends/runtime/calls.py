"""What generated CPU modules call (as ``rt``): the runtime's kernels over arrays unlinked (``unlinked.py``), so that
a new model compiles only its own code; the scalar ones linked, since LLVM inlines them into the loops that call
them, and those loops then vectorize."""

from __future__ import annotations

from . import cpu, packed
from .parts import by_parts, threads_within  # noqa: F401 - a loop split by rows runs by them
from .unlinked import unlinked  # noqa: F401 - generated modules unlink their loops by it

sigmoid, softplus, sign, maximum = cpu.sigmoid, cpu.softplus, cpu.sign, cpu.maximum

copy = unlinked(cpu.copy)
dot = unlinked(cpu.dot)
contiguous = unlinked(cpu.contiguous)
empty = unlinked(cpu.empty)
fill = unlinked(cpu.fill)
row_sum = unlinked(cpu.row_sum)
column_sum = unlinked(cpu.column_sum)
row_max = unlinked(cpu.row_max)
row_argmax = unlinked(cpu.row_argmax)
row_log_softmax = unlinked(cpu.row_log_softmax)
row_softmax = unlinked(cpu.row_softmax)
row_cross_entropy = unlinked(cpu.row_cross_entropy)
row_pick = unlinked(cpu.row_pick)
gather_rows = unlinked(cpu.gather_rows)
scatter_add_rows = unlinked(cpu.scatter_add_rows)
one_hot_rows = unlinked(cpu.one_hot_rows)
pack_panels = unlinked(packed.pack_panels)
packed_product = unlinked(packed.packed_product)
threaded_product = unlinked(packed.threaded_product)


def __getattr__(name: str):
    """``threaded_dot``, on first use: its module starts graphc's threads, which a program that does not split its
    products (one thread, ``GRAPHC_PARALLEL=0``) should not start."""
    if name != "threaded_dot":
        raise AttributeError(name)
    from . import blas

    globals()[name] = unlinked(blas.threaded_dot)
    return globals()[name]
