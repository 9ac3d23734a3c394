"""graphc.scan: values against NumPy loops, gradients against finite differences, the optimizer's loop rewrites
and the compiled loop against the reference interpreter."""

import ast
import re

import numpy as np
import pytest

import graphc as gc
from graphc.backends.codegen.program import threaded_products
from graphc.backends.runtime.jit import GlueLibrary
from graphc.errors import ShapeError

from .programs import custom_cell

T, B, E, H = 5, 3, 4, 6
RNG = np.random.default_rng(0)
FEEDS = {"x": RNG.normal(size=(T, B, E)), "h0": RNG.normal(size=(B, H)), "c0": RNG.normal(size=(B, H)),
         "W": RNG.normal(size=(E, 4 * H)) * 0.5, "U": RNG.normal(size=(H, 4 * H)) * 0.5, "b": RNG.normal(size=(4 * H,))}
FEEDS = {k: v.astype(np.float32) for k, v in FEEDS.items()}
# The products the CPU program prints: split between graphc's threads where it has two or more (tests/test_threads.py)
PACKED_PRODUCT = "rt.threaded_product(" if threaded_products() else "rt.packed_product("
BLAS_PRODUCT = "rt.threaded_dot(" if threaded_products() else "rt.dot("


def leaves():
    return (gc.input("x", (T, B, E)), gc.input("h0", (B, H)), gc.input("c0", (B, H)), gc.param("W", (E, 4 * H)),
            gc.param("U", (H, 4 * H)), gc.param("b", (4 * H,)))


def lstm_step(W, U, b=None):
    """The step of an LSTM layer with these weights: (h, c), x_t -> (h, c), h."""
    def step(carry, xt):
        h, c = carry
        z = xt @ W + h @ U if b is None else xt @ W + h @ U + b
        i, f, g, o = (z[:, k * H:(k + 1) * H] for k in range(4))
        c = gc.sigmoid(f) * c + gc.sigmoid(i) * gc.tanh(g)
        h = gc.sigmoid(o) * gc.tanh(c)
        return (h, c), h

    return step


def lstm(reverse=False, recompute=False):
    x, h0, c0, W, U, b = leaves()
    (h, c), hs = gc.scan(lstm_step(W, U, b), (h0, c0), x, reverse=reverse, recompute=recompute)
    loss = (hs * hs).sum() + (h * c).sum()
    return loss, (x, h0, c0, W, U, b)


def numpy_lstm(feeds, reverse=False):
    def sigmoid(v):
        return 1 / (1 + np.exp(-v))

    f64 = {k: v.astype(np.float64) for k, v in feeds.items()}
    h, c = f64["h0"], f64["c0"]
    total = 0.0
    for t in (range(T - 1, -1, -1) if reverse else range(T)):
        z = f64["x"][t] @ f64["W"] + h @ f64["U"] + f64["b"]
        i, f, g, o = (z[:, k * H:(k + 1) * H] for k in range(4))
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
        total += (h * h).sum()
    return total + (h * c).sum()


@pytest.mark.parametrize("reverse", [False, True])
def test_values_equal_a_numpy_loop(reverse):
    loss, _ = lstm(reverse)
    assert np.isclose(gc.evaluate(loss, FEEDS, float64=True), numpy_lstm(FEEDS, reverse), rtol=1e-12)


@pytest.mark.parametrize("reverse,recompute", [(False, False), (True, False), (False, True)])
def test_backpropagation_through_time_matches_finite_differences(reverse, recompute):
    loss, wrt = lstm(reverse, recompute)
    for w in wrt:
        assert gc.check_grad(loss, w, FEEDS) < 1e-7, w.name


def test_recompute_stores_only_the_carries():
    def stored(recompute):
        loss, wrt = lstm(recompute=recompute)
        gradients = gc.grad(loss, list(wrt[3:]))
        loops = [n for n in gc.Graph([g.node for g in gradients]).nodes if n.op.name == "scan"]
        forward = max((n for n in loops if not n.attr("reverse")), key=lambda n: len(n.attr("body").outputs))
        return len(forward.attr("body").steps)

    assert stored(True) == 1 + 2  # hs, and the carried h and c
    assert stored(False) > stored(True)


def test_truncated_bptt_stops_at_the_window_boundary():
    x, h0, c0, W, U, b = leaves()

    def step(h, xt):
        h = gc.tanh(xt @ W[:, :H] + h @ U[:, :H])
        return h, h

    first, _ = gc.scan(step, h0, x)
    carried = gc.input("carried", (B, H))
    second, _ = gc.scan(step, gc.stop_gradient(first), x)
    fed, _ = gc.scan(step, carried, x)
    truncated = gc.grad(second.sum(), [W, U])
    separate = gc.grad(fed.sum(), [W, U])
    boundary = gc.evaluate(first, FEEDS)
    values = gc.evaluate(truncated, FEEDS)
    expected = gc.evaluate(separate, {**FEEDS, "carried": boundary})
    for got, want in zip(values, expected):
        np.testing.assert_allclose(got, want, rtol=1e-6)
    no_path = gc.grad(second.sum(), h0)[0]  # zeros: nothing flows back through the boundary
    assert "scan" not in gc.Graph([no_path.node]).count_by_op()


def test_length_without_sequences_and_no_outputs():
    h0 = gc.input("h0", (B, H))
    final, ys = gc.scan(lambda h, _: (h * 0.5 + 1.0, None), h0, length=4)
    assert ys is None
    expected = FEEDS["h0"].astype(np.float64)
    for _ in range(4):
        expected = expected * 0.5 + 1.0
    np.testing.assert_allclose(gc.evaluate(final, FEEDS, float64=True), expected)


def test_optimizer_hoists_projections_and_fuses_each_step():
    loss, wrt = lstm()
    outputs = [loss] + gc.grad(loss, list(wrt))
    optimized, report = gc.optimize(outputs, report=True)
    counts = gc.Graph([t.node for t in optimized]).count_by_op()
    assert counts["scan"] == 2  # the forward loop and its copy from differentiation merged
    # In the loops only h @ U (forward) and dz @ Uᵀ (backward) stay; x @ W, dx, dW and dU are one GEMM each.
    assert counts["scan/matmul"] == 2 and counts["matmul"] == 4
    assert counts["scan/fused"] == 2 and "scan/sigmoid" not in counts  # one kernel per step each way
    hoist = [row for row in report.rows if row[0] == "hoist"][0]
    assert hoist[2]["matmul"] > hoist[1].get("matmul", 0)
    reference = gc.evaluate(outputs, FEEDS, float64=True)
    for got, want in zip(gc.evaluate(optimized, FEEDS, float64=True), reference):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("reverse", [False, True])
def test_compiled_loop_equals_the_reference(reverse, backend):
    loss, wrt = lstm(reverse)
    outputs = [loss] + gc.grad(loss, list(wrt))
    compiled = gc.compile(outputs, backend=backend)(FEEDS)
    for got, want in zip(compiled, gc.evaluate(outputs, FEEDS)):
        np.testing.assert_allclose(got, want, rtol=2e-4, atol=2e-5)


def test_compiled_scalar_steps_and_swapped_carries(backend):
    h0, x = gc.input("h0", (B, H)), gc.input("x", (T, B, E))

    def step(carry, xt):
        a, b = carry
        return (b, a + xt.sum(1, keepdims=True)), xt.sum()

    (a, b), totals = gc.scan(step, (h0, h0 * 2.0), x)
    outputs = [a, b, totals]
    for got, want in zip(gc.compile(outputs, backend=backend)(FEEDS), gc.evaluate(outputs, FEEDS)):
        np.testing.assert_allclose(got, want, rtol=1e-5)


def test_compiled_source_does_not_grow_with_the_sequence_length(backend):
    def source(length):
        x = gc.input("x", (length, B, E))
        W = gc.param("W", (E, H))
        final, _ = gc.scan(lambda h, xt: (gc.tanh(xt @ W + h), None), gc.input("h0", (B, H)), x)
        loss = final.sum()
        fn = gc.compile_step(loss, [W], lr=0.1, backend=backend)
        feeds = {"x": np.zeros((length, B, E), np.float32), "h0": np.zeros((B, H), np.float32),
                 "W": np.zeros((E, H), np.float32)}
        fn(feeds)
        return fn.source

    length = 1024 if backend == "cpu" else 40  # the simulator runs every CUDA thread in Python
    short, long = source(16), source(length)
    assert len(short.splitlines()) == len(long.splitlines())
    if backend == "cpu":  # the length is an argument (a fixed size): both lengths run one program
        assert short == long
        # each loop is a function called with its range over the steps: forward, then backward
        assert re.search(r"loop\d+\(0, dim_fixed\d+, 1, ", long)
        assert re.search(r"loop\d+\(dim_fixed\d+ - 1, -1, -1, ", long)
    else:  # CUDA writes every size into its kernels
        assert f"range({length})" in long and f"range({length - 1}, -1, -1)" in long


def test_a_matrix_multiplied_by_at_every_step_is_packed_once_before_each_loop():
    """U forward, and Uᵀ in the backward loop: each packed before its loop, the loop's products read the packed
    copy (runtime/packed.py), never BLAS. Each loop is a function (codegen/outline.py) that ``run`` calls with the
    packed copy as an argument."""
    loss, wrt = lstm()
    fn = gc.compile([loss] + gc.grad(loss, list(wrt)))
    fn(FEEDS)
    functions = {f.name: f for f in ast.parse(fn.source).body if isinstance(f, ast.FunctionDef)}
    run = functions["run"].body
    calls = [(k, s.value) for k, s in enumerate(run) if isinstance(s, ast.Expr) and isinstance(s.value, ast.Call)
             and ast.unparse(s.value.func).startswith("loop")]
    assert len(calls) == 2  # forward and backward
    for position, call in calls:
        loop = functions[ast.unparse(call.func)]
        given = dict(zip((a.arg for a in loop.args.args), (ast.unparse(a) for a in call.args), strict=True))
        packed = {ast.unparse(s.targets[0]) for s in run[:position] if isinstance(s, ast.Assign)
                  and ast.unparse(s.value).startswith("rt.pack_panels(")}
        body = ast.unparse(loop).splitlines()
        inside = [line for line in body if PACKED_PRODUCT in line]
        assert inside and all(given[re.search(r"(\w+_packed), ", line).group(1)] in packed for line in inside)
        assert not any(BLAS_PRODUCT in line for line in body)


def test_with_its_loops_as_functions_run_is_glue_compiled_without_the_vectorizers():
    """In a program with loops over steps every loop nest is a function (codegen/outline.py), so ``run`` only calls
    and views, and LLVM optimizes it at -O1 (runtime/jit.GlueLibrary); a program without such loops keeps its
    kernels inline in ``run``, at -O3."""
    loss, wrt = lstm()
    recurrent = gc.compile([loss] + gc.grad(loss, list(wrt)))
    recurrent(FEEDS)
    x, w = gc.input("x", (B, E)), gc.param("w", (E, H))
    feedforward = gc.compile(gc.tanh(gc.matmul(x, w)).sum())
    feedforward({"x": FEEDS["x"][0], "w": np.ones((E, H), np.float32)})
    for fn, glue in ((recurrent, True), (feedforward, False)):
        (specialization,) = fn.specializations.values()
        run = ast.unparse(next(f for f in ast.parse(fn.source).body if getattr(f, "name", "") == "run"))
        assert (" for " not in run) == glue and ("GlueCompiler" in run) == glue
        (compiled,) = specialization.module.run.overloads.values()
        assert isinstance(compiled.library, GlueLibrary) == glue


@pytest.mark.parametrize("batch", [1, 3, 9, 17])
def test_a_custom_cell_with_packed_weights_equals_the_reference_in_float64(batch):
    """A user's cell (peephole-style gates reading the cell state, a weight used twice per step) over sizes that
    fill no tile and no panel exactly: 5 hidden units, 1 to 17 rows; values and every gradient."""
    outputs, feeds = custom_cell(T, E, hidden=5, seed=batch)
    feeds = feeds(batch)
    fn = gc.compile(outputs)
    for got, want in zip(fn(feeds), gc.evaluate(outputs, feeds), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert PACKED_PRODUCT in fn.source


def test_a_kernel_writes_the_values_a_step_stores_straight_into_their_stacks(backend):
    loss, wrt = lstm()
    outputs = [loss] + gc.grad(loss, list(wrt))
    fn = gc.compile(outputs, backend=backend)
    for got, want in zip(fn(FEEDS), gc.evaluate(outputs, FEEDS)):
        np.testing.assert_allclose(got, want, rtol=2e-4, atol=2e-5)
    # a step's view of the stack: view_step(stack, t) in a CPU loop function, stack[x_t] in CUDA's host code
    direct = re.findall(r"= (view_step\(\w+, (?:\w+_)?t\)|\w+\[\w+_t\])  # written in place", fn.source)
    assert len(direct) >= 4  # the forward kernel's gates and cell, at least
    # and no copy into the stack after it
    assert not any(re.search(rf"rt\.copy\(\w+, {re.escape(row)}\)|{re.escape(row)} = ", fn.source) for row in direct)


def test_a_carry_that_changes_type_is_reported_on_the_users_line():
    h0 = gc.input("h0", (B, H))
    x = gc.input("x", (T, B, E))
    with pytest.raises(ShapeError, match=r"carry 0 must keep its type float32\(3, 6\).*float32\(3, 4\)") as error:
        gc.scan(lambda h, xt: (xt, None), h0, x)
    assert "test_scan.py" in str(error.value)
    with pytest.raises(ShapeError, match="output 0 must be a graphc tensor, got float"):
        gc.scan(lambda h, xt: (h, 1.0), h0, x)
    with pytest.raises(ShapeError, match="leading"):
        gc.scan(lambda h, xs: (h, None), h0, (x, gc.input("y", (T + 1, B))))


def test_loops_of_one_structure_share_one_function_and_equal_the_reference():
    """Two stacked layers of one cell (other widths: E in, H out; H in, H out): their loops forward and backward
    are printed once each as functions (codegen/outline.py) and called twice; values and gradients in float64."""
    x = gc.input("x", (T, "batch", E), "float64")
    layers = [(gc.param(f"W{k}", (width, 4 * H), dtype="float64"), gc.param(f"U{k}", (H, 4 * H), dtype="float64"))
              for k, width in enumerate((E, H))]
    h0 = gc.input("h0", ("batch", H), "float64")
    sequence = x
    for W, U in layers:
        _, sequence = gc.scan(lstm_step(W, U), (h0, h0), sequence)
    loss = (sequence * sequence).sum()
    wrt = [x, h0, *(p for layer in layers for p in layer)]
    outputs = [loss] + gc.grad(loss, wrt)
    rng = np.random.default_rng(3)
    feeds = {"x": rng.normal(size=(T, 2, E)), "h0": rng.normal(size=(2, H)),
             **{p.name: rng.normal(size=p.shape) * 0.5 for layer in layers for p in layer}}
    fn = gc.compile(outputs)
    for got, want in zip(fn(feeds), gc.evaluate(outputs, feeds), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    functions = re.findall(r"^def (loop\d+)\(", fn.source, re.MULTILINE)
    calls = re.findall(r"^    (loop\d+)(?:_rows)?\(", fn.source, re.MULTILINE)  # _rows: split by rows
    assert len(calls) == 4 and sorted(set(calls)) == sorted(functions) and len(functions) == 2
