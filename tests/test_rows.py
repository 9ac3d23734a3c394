"""Loops whose rows are independent (loops/rows.py) and how the CPU code runs them on separate rows in graphc's
threads unless told not to (GRAPHC_SPLIT_LOOPS=0, codegen/program.py's RowSplit): which loops qualify, that a split loop
equals the reference interpreter in float64 (values and every gradient, rows not a multiple of the parts), that a
child forked after graphc's threads ran runs it on one thread, that loops are split unless told not to, and how the
runtime runs a split loop on each thread's part (runtime/parts.py)."""

import multiprocessing

import numba
import numpy as np
import pytest

import graphc as gc
from graphc.backends.codegen.program import threaded_products
from graphc.backends.runtime import packed, parts
from graphc.backends.runtime.unlinked import unlinked
from graphc.ir import Graph
from graphc.loops.rows import independent_rows

from .programs import custom_cell

SPLITS = threaded_products() and packed.THREADS > 1


def body_of(step, batch="batch", hidden: int = 6):
    """The body of ``scan(step)`` over a (5, batch, 4) sequence from a (batch, hidden) carry."""
    x = gc.input("x", (5, batch, 4))
    h0 = gc.input("h0", (batch, hidden))
    _, ys = gc.scan(step, h0, x)
    (loop,) = [node for node in Graph([ys.node]).nodes if node.op.name == "scan"]
    return loop.attr("body")


W = gc.param("W", (4, 6))
U = gc.param("U", (6, 6))


def cell(h, x):
    new = gc.tanh(x @ W + h @ U)
    return new, new


@pytest.mark.parametrize("step, independent", [
    (cell, True),
    (lambda h, x: (gc.concat([h[:, :3], gc.sigmoid(h[:, 3:])], axis=1) + x @ W, h), True),
    (lambda h, x: (h - h.mean(axis=0) + x @ W, h), False),  # a mean over the rows mixes them
    (lambda h, x: (gc.concat([h[1:], h[:1]], axis=0) + x @ W, h), False),  # every row, but rotated
    (lambda h, x: (h @ (h.T @ h) + x @ W, h), False),  # a product over the rows
    (lambda h, x: (gc.dropout(h, 0.5) + x @ W, h), False),  # its draws would depend on the thread
], ids=["lstm-like", "slices and concat", "mean over rows", "rotated rows", "product over rows", "dropout"])
def test_which_loops_have_independent_rows(step, independent):
    rows = independent_rows(body_of(step))
    assert (rows is not None) == independent and (rows is None or str(rows) == "batch")


def test_rows_of_a_fixed_size_are_not_told_from_other_axes():
    assert independent_rows(body_of(cell, batch=6)) is None  # 6 rows, and 6 hidden units


def test_loops_are_split_unless_told_not_to(monkeypatch):
    outputs, feeds = custom_cell(6, 5, 12, seed=7, scale=0.3)
    monkeypatch.delenv("GRAPHC_SPLIT_LOOPS", raising=False)
    split = gc.compile(outputs)
    split(feeds(37))
    monkeypatch.setenv("GRAPHC_SPLIT_LOOPS", "0")
    whole = gc.compile(outputs)
    for got, want in zip(whole(feeds(37)), split(feeds(37)), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert ("_rows(" in split.source) == SPLITS and "_rows(" not in whole.source and "prange" not in whole.source


@pytest.mark.skipif(not SPLITS, reason="one thread: loops are not split")
@pytest.mark.parametrize("batch", [37, 3])  # split (19 + 18 rows), and too few rows for two tiles: one part
def test_a_loop_split_by_rows_equals_the_reference_in_float64(batch, monkeypatch):
    monkeypatch.setenv("GRAPHC_SPLIT_LOOPS", "1")
    outputs, feeds = custom_cell(6, 5, 12, seed=7, scale=0.3)
    compiled = gc.compile(outputs)
    results = compiled(feeds(batch))
    assert "_rows(" in compiled.source and "rt.by_parts(loop" in compiled.source and "prange" not in compiled.source
    for got, want in zip(results, gc.evaluate(outputs, feeds(batch)), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def forked_child_result(compiled, feeds, queue):
    queue.put([np.asarray(value) for value in compiled(feeds)])


@pytest.mark.skipif(not SPLITS, reason="one thread: loops are not split")
def test_a_child_forked_after_split_loops_ran_runs_them_on_one_thread(monkeypatch):
    # GNU OpenMP cannot run in a child forked from a process that used it: the loop's parallel function must not
    # enter its parallel region there (one part, called directly).
    monkeypatch.setenv("GRAPHC_SPLIT_LOOPS", "1")
    outputs, feeds = custom_cell(6, 5, 12, seed=7, scale=0.3)
    compiled = gc.compile(outputs)
    parent = compiled(feeds(37))
    assert "_rows(" in compiled.source
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=forked_child_result, args=(compiled, feeds(37), queue))
    child.start()
    results = queue.get(timeout=60)
    child.join(60)
    assert child.exitcode == 0
    for got, want in zip(results, parent, strict=True):
        np.testing.assert_array_equal(got, want)  # each row computed as in the parent, whichever thread ran it


@numba.njit(error_model="numpy", no_cpython_wrapper=True, no_cfunc_wrapper=True)
def _mark_rows(out, lo, hi):
    """out[i] = the thread that ran row i; a row already negative makes the part fail."""
    for i in range(lo, hi):
        if out[i] < 0:
            raise ValueError("a negative row")
        out[i] = numba.get_thread_id()


_marked_rows = parts.by_parts(unlinked(_mark_rows))


@numba.njit
def _mark_every_row(out, threads):
    _marked_rows(out, out.shape[0], threads)


@pytest.mark.skipif(not SPLITS, reason="one thread: loops are not split")
def test_the_runtime_runs_a_split_function_on_each_threads_part_and_reports_a_failed_part():
    """runtime/parts.py: one parallel runtime kernel runs a loop function on each thread's rows (no parallel
    function of the caller's own); a part that fails makes the caller raise. Too few rows for two tiles: one part,
    on the calling thread."""
    rows = packed.THREADS * packed.ROWS * 3 + 1
    out = np.zeros(rows, np.int64)
    _mark_every_row(out, packed.THREADS)
    assert len(np.unique(out)) == packed.THREADS  # every row marked, by as many threads as there are parts
    few = np.full(packed.THREADS * packed.ROWS - 1, 7, np.int64)
    _mark_every_row(few, packed.THREADS)
    assert len(np.unique(few)) == 1 and few[0] != 7
    out[-1] = -1
    with pytest.raises(RuntimeError, match="_mark_rows failed on a part of its rows"):
        _mark_every_row(out, packed.THREADS)
