"""The compiled backends (Numba CPU, numba-cuda) against the reference interpreter: every op, random graphs,
training steps (the disk cache: test_cache.py)."""

import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import graphc
from graphc import nn
from graphc.backends.codegen.program import threaded_products
from graphc.models import mlp

from .op_cases import CASES, build
from .random_graphs import random_graph

ROOT = pathlib.Path(__file__).resolve().parent.parent


def op_table_program() -> tuple[list, dict, list[str]]:
    """Every case of the op table (float64) and its gradients, as one program: outputs, feeds, names."""
    outputs, feeds, names = [], {}, []
    for index, parameter in enumerate(CASES):
        op, case = parameter.values
        out, tensors, floats, case_feeds = build(op, case, "float64")
        rename = {f"in{i}": f"c{index}_in{i}" for i in range(len(tensors))}
        tensors = [graphc.input(rename[t.name], t.shape, t.dtype) for t in tensors]
        out = graphc.ops.apply(op.name, *tensors, **case.attrs)
        outputs.append(out)
        names.append(f"{op.name} case {parameter.id}" + (" (random)" if op.random else ""))
        feeds.update({rename[k]: v for k, v in case_feeds.items()})
        if op.differentiable and out.dtype.kind == "f":
            floats = [t for t in tensors if t.dtype.kind == "f"]
            if floats:
                outputs += graphc.grad((out * out).sum(), floats)
                names += [f"d {op.name} case {parameter.id} / input {i}" for i in range(len(floats))]
    return outputs, feeds, names


def test_every_op_and_its_gradient_matches_the_reference(backend):
    """All the op table's cases (float64, with their gradients) compiled as one program."""
    outputs, feeds, names = op_table_program()
    expected = graphc.evaluate(outputs, feeds)
    got = graphc.compile(outputs, backend=backend)(feeds)
    for name, ours, reference in zip(names, got, expected):
        assert ours.shape == reference.shape and ours.dtype == reference.dtype, name
        if name.endswith("(random)"):  # another generator: same distribution, not the same numbers
            assert 0 <= ours.min() and ours.max() < 1 and len(np.unique(ours)) == ours.size, name
            continue
        np.testing.assert_allclose(ours, reference, rtol=1e-9, atol=1e-9, err_msg=name)


# Random graphs through a compiled backend: on the CPU 200 per run, in 5 parts (so that pytest-xdist spreads them)
# of 10 programs of 4 graphs each (one Numba compilation per program; a program's compile time grows with its
# size); under the CUDA simulator 10 graphs, one per program. The CPU parts took 37-42 s each, 201 s in all, 124 s
# of wall time under -n 2 alone (AMD EPYC, 2026-12-04, pytest --durations; 295 and 185 s on the Intel Xeon of
# 2026-12-03, where a CI rehearsal with them took 26.9 minutes on a slow hour).
GRAPHS_PER_PROGRAM = {"cpu": 4, "cuda": 1}
PARTS = [("cpu", part) for part in range(5)] + [("cuda", 0)]


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
@pytest.mark.parametrize(("target", "part"), PARTS)  # hypothesis takes no function-scoped fixture
def test_random_graphs_match_the_reference(target, part, data):
    cases = [data.draw(random_graph(max_steps=8)) for _ in range(GRAPHS_PER_PROGRAM[target])]
    feeds = cases[0][2]  # every random graph reads the same inputs
    outputs = [value for loss, inputs, _ in cases for value in [loss] + graphc.grad(loss, inputs)]
    reference = graphc.evaluate(outputs, feeds)
    for ours, expected in zip(graphc.compile(outputs, backend=target)(feeds), reference, strict=True):
        finite = np.isfinite(expected)
        np.testing.assert_allclose(np.asarray(ours)[finite], np.asarray(expected)[finite], rtol=1e-8, atol=1e-9)


def test_a_buffer_seen_through_a_transpose_is_not_reused_while_the_transpose_is_read(backend):
    """A 2-D transpose is a view of its input's buffer: the memory plan keeps that buffer until the transpose's
    last reader, not only until the transpose (found by the random graphs: the buffer was given to a later kernel's
    result, which the product then read)."""
    x, w = graphc.input("x", (3, 4), "float64"), graphc.input("w", (4, 4), "float64")
    kept = graphc.softmax(x)  # a planned buffer of shape (3, 4)
    transposed = graphc.transpose(kept)
    direct = graphc.matmul(kept, w)  # the last step that reads the buffer by its own name
    later = graphc.softmax(direct)  # the next (3, 4) result, given a buffer after that step
    product = graphc.matmul(transposed, later)
    rng = np.random.default_rng(0)
    feeds = {"x": rng.normal(size=(3, 4)), "w": rng.normal(size=(4, 4))}
    np.testing.assert_allclose(graphc.compile(product, backend=backend)(feeds), graphc.evaluate(product, feeds),
                               rtol=1e-12)


def mlp_feeds(batch=8, dtype=np.float32, sizes=(6, 16, 4)):
    model = mlp.build(sizes=sizes, dtype=np.dtype(dtype).name)
    rng = np.random.default_rng(0)
    feeds = {**graphc.init_params(model.params, 0), "x": rng.normal(size=(batch, sizes[0])).astype(dtype),
             "labels": rng.integers(0, sizes[-1], batch)}
    return model, feeds


def test_a_training_step_is_one_call_that_updates_parameters_in_place(backend):
    model, feeds = mlp_feeds()
    reference = {k: v.copy() for k, v in feeds.items()}
    step = graphc.compile_step(model.loss, model.params, lr=0.1, backend=backend)
    arrays = {p.name: feeds[p.name] for p in model.params}
    for _ in range(3):
        loss = step(feeds)
        gradients = graphc.evaluate([model.loss] + graphc.grad(model.loss, model.params), reference)
        np.testing.assert_allclose(loss, gradients[0], rtol=1e-5)
        for p, g in zip(model.params, gradients[1:]):
            reference[p.name] = reference[p.name] - np.float32(0.1) * g
    step.synchronize()  # the GPU backend updates its device copies; the caller's arrays on request
    for p in model.params:
        assert feeds[p.name] is arrays[p.name]  # the same arrays, updated in place
        np.testing.assert_allclose(feeds[p.name], reference[p.name], rtol=1e-4, atol=1e-6)


def test_named_dimensions_bind_per_call_and_dtypes_are_kept(backend):
    model, feeds = mlp_feeds(dtype=np.float64)
    function = graphc.compile(model.loss, backend=backend)
    for batch in (3, 9, 3):
        model_feeds = {**feeds, "x": feeds["x"][:1].repeat(batch, 0), "labels": np.zeros(batch, np.int64)}
        result = function(model_feeds)
        assert result.dtype == np.float64 and result.shape == ()
        np.testing.assert_allclose(result, graphc.evaluate(model.loss, model_feeds), rtol=1e-12)
    assert len(function.specializations) == 2  # batch 3's buffers allocated once, batch 9's once
    with pytest.raises(graphc.FeedError, match="dtype float32 but the input is float64"):
        function({**feeds, "x": feeds["x"].astype(np.float32)})


def test_python_numbers_and_lists_take_the_declared_dtype(backend):
    x = graphc.input("x", ("n",))
    function = graphc.compile(graphc.tanh(x) * 2.0, backend=backend)
    result = function({"x": [0.5, -1.0, 2.0]})
    assert result.dtype == np.float32
    np.testing.assert_allclose(result, 2 * np.tanh([0.5, -1.0, 2.0]), rtol=1e-6)
    function({"x": np.array([1.0, 2.0, 3.0], np.float32)})
    if backend == "cuda":  # its run is host Python; its kernels are compiled per argument type as Numba's are
        return
    run = next(iter(function.specializations.values())).module.run
    assert len(run.signatures) == 1  # the list was passed as float32: no second, float64 compilation


def compilations(function) -> int:
    """How many times Numba compiled the entry points of ``function``'s programs (one per argument types)."""
    return sum(len(module.run.signatures) for module, _, _ in function.programs.values())


def test_every_binding_of_the_named_dimensions_runs_one_compiled_program():
    """Named dimensions are arguments of the generated code: a new batch size compiles nothing."""
    model, feeds = mlp_feeds(dtype=np.float64)
    function = graphc.compile(model.loss)
    rng = np.random.default_rng(3)
    for batch in (3, 9, 1, 17):
        model_feeds = {**feeds, "x": rng.normal(size=(batch, feeds["x"].shape[1])),
                       "labels": rng.integers(0, 3, batch)}
        np.testing.assert_allclose(function(model_feeds), graphc.evaluate(model.loss, model_feeds), rtol=1e-12)
    assert len(function.programs) == 1 and compilations(function) == 1
    assert len(function.specializations) == 4  # each binding only gets its own workspace buffers
    assert "dim_batch" in function.source and "range(dim_batch)" in function.source


def test_a_recurrent_step_serves_every_window_length_and_batch(language_data):
    vocabulary, _, _ = language_data
    model = nn.language_model("lstm", len(vocabulary), embed=4, hidden=8, dtype="float64")
    step = graphc.compile([model.loss, *model.outputs.values()])
    params = graphc.init_params(model.params, seed=1)
    rng = np.random.default_rng(4)
    for time, batch in ((6, 4), (1, 1), (9, 2), (6, 4)):
        feeds = {**params, "tokens": rng.integers(0, len(vocabulary), (time, batch)),
                 "targets": rng.integers(0, len(vocabulary), (time, batch))}
        feeds.update({name: rng.normal(size=(batch, 8)) for name in model.state})
        expected = graphc.evaluate([model.loss, *model.outputs.values()], feeds)
        for ours, reference in zip(step(feeds), expected):
            np.testing.assert_allclose(ours, reference, rtol=1e-10, atol=1e-12)
    assert compilations(step) == 1 and len(step.specializations) == 3


@pytest.mark.parametrize("backend, product", [("cpu", "rt.threaded_dot(" if threaded_products() else "rt.dot("),
                                              ("cuda", "rt.matmul(")])
def test_generated_source_is_readable_and_kept(backend, product):
    model, feeds = mlp_feeds()
    function = graphc.compile(model.loss, backend=backend)
    function(feeds)
    assert "def run(" in function.source and product in function.source
    assert "# v" in function.source and "models/mlp.py" in function.source  # one commented line per node
    assert function.workspace_bytes() > 0


# The start of a script that prints every Numba function compiled while it runs (nested calls included).
LISTENING = """
import sys
import numpy as np, graphc
from numba.core import event
compiled = []
class Listener(event.Listener):
    def on_start(self, ev):
        function = ev.data["dispatcher"].py_func
        compiled.append(f"{function.__module__}:{function.__qualname__}")
    def on_end(self, ev):
        pass
event.register("numba:compile", Listener())
"""


def compiled_functions(script: str, caches, *arguments, runtime=None, modules: bool = False) -> list[str]:
    """The functions Numba compiles running ``LISTENING + script`` in a new process over graphc and Numba caches in
    the folder ``caches`` and the runtime's kernels' machine code in ``runtime`` (default: in ``caches`` too), each
    as its name (``module:name`` with ``modules``), once per compilation."""
    environment = {**os.environ, "GRAPHC_CACHE_DIR": str(caches), "NUMBA_CACHE_DIR": str(caches / "numba"),
                   "GRAPHC_RUNTIME_CACHE_DIR": str(runtime or caches / "runtime"), "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", LISTENING + script + 'print(" ".join(sorted(compiled)))',
                             *map(str, arguments)], cwd=ROOT, env=environment, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    names = result.stdout.split()
    return names if modules else [name.partition(":")[2] for name in names]


# A bidirectional LSTM's step (concat, loop stores, gather, scatter-add) compiled with empty caches. Numba compiles a
# formatted shape-mismatch message for each array-to-slice assignment (``out[r, :] = row``), and its string code
# was 6.6 s of W4's cold compile.
COMPILE_BIDIRECTIONAL = """
from graphc import nn
from graphc.train import language
model = nn.language_model("lstm", 7, embed=3, hidden=4, bidirectional=True)
step = graphc.compile_step(model.loss, model.params, lr=0.1)
rng = np.random.default_rng(0)
feeds = {**graphc.init_params(model.params), "tokens": rng.integers(0, 7, (3, 2)),
         "targets": rng.integers(0, 7, (3, 2)), **language.zero_state(model, 2)}
step(feeds)
"""


def test_compiled_code_assigns_no_array_to_a_slice(tmp_path):
    compiled = compiled_functions(COMPILE_BIDIRECTIONAL, tmp_path)
    assert "run" in compiled and "copy" in compiled and "gather_rows" in compiled  # the listener saw them compile
    assert not [name for name in compiled if "raise_with_shape_context" in name or "unicode" in name], compiled


def test_each_function_of_a_program_compiles_once(tmp_path):
    # The IR's constants are read-only arrays, which Numba types apart from writable ones: passed as they were, a
    # kernel called with a constant and with a buffer (the loss's division by the count, and its gradient's) compiled
    # twice.
    compiled = compiled_functions(COMPILE_BIDIRECTIONAL, tmp_path, modules=True)
    generated = [name for name in compiled if name.startswith("graphc_kernels_")]
    assert [name for name in generated if name.endswith(":kernel0")], generated
    assert len(generated) == len(set(generated)), generated


def test_only_run_has_a_wrapper_for_python_and_nothing_has_one_for_c():
    # Numba builds a CPython wrapper (unboxing every argument) and a C wrapper for every function it compiles; the
    # generated loops and kernels are called by run's machine code only, and run by Python only. Building the
    # wrappers took 0.88 s of a 12.8 s cProfile of the 2-layer bidirectional LSTM's first step, most of it for
    # wrappers nothing called (docs/benchmarks.md).
    namespace = {"graphc": graphc, "np": np}
    exec(COMPILE_BIDIRECTIONAL, namespace)  # noqa: S102 - the script above, run in this process
    ((module, _, _),) = namespace["step"].compiled.programs.values()
    called_from_code = [value.dispatcher for value in vars(module).values() if hasattr(value, "dispatcher")]
    assert len(called_from_code) >= 3  # the loops of both directions and the fused kernels

    def wrappers(dispatcher) -> list[tuple[bool, bool]]:
        return [(bool(result.library.get_pointer_to_function(result.fndesc.llvm_cpython_wrapper_name)),
                 bool(result.library.get_pointer_to_function(result.fndesc.llvm_cfunc_wrapper_name)))
                for result in dispatcher.overloads.values()]

    assert wrappers(module.run) == [(True, False)]
    assert all(wrappers(dispatcher) == [(False, False)] for dispatcher in called_from_code)


# An MLP's training step, its layer sizes given as the script's arguments.
COMPILE_MLP = """
from graphc.models import mlp
sizes = tuple(int(s) for s in sys.argv[1:])
model = mlp.build(sizes=sizes)
step = graphc.compile_step(model.loss, model.params, lr=0.1)
rng = np.random.default_rng(0)
step({**graphc.init_params(model.params), "x": rng.normal(size=(5, sizes[0])).astype(np.float32),
      "labels": rng.integers(0, sizes[-1], 5)})
"""


def test_a_new_model_loads_the_runtime_kernels_another_model_compiled(tmp_path):
    # Products and allocations are calls of runtime kernels, so Numba's implementations of np.dot and np.empty are
    # compiled once per signature and cached, not again for every model.
    dot = "threaded_dot" if threaded_products() else "dot"
    first = compiled_functions(COMPILE_MLP, tmp_path, 6, 16, 4)
    assert {"run", dot, "empty", "row_cross_entropy"} <= set(first), first
    second = compiled_functions(COMPILE_MLP, tmp_path, 6, 16, 8, 4)  # another structure: a layer more
    assert "run" in second
    runtime = {dot, "contiguous", "empty", "row_cross_entropy", "row_softmax", "column_sum", "one_hot_rows"}
    assert not runtime & set(second) and not [name for name in second if name.startswith("dot_")], second



def test_after_precompiling_a_new_model_compiles_only_its_own_code(tmp_path):
    # graphc cache --precompile (setup runs it) compiles the runtime's kernels that the built-in models call, and a
    # new model then compiles its own program and nothing of the runtime's, though NUMBA_CACHE_DIR is empty.
    runtime = tmp_path / "runtime"
    precompiling = "from graphc.cli.caches import precompile\nprecompile(['mlp'], report=lambda line: None)\n"
    first = compiled_functions(precompiling, tmp_path / "first", runtime=runtime, modules=True)
    assert [name for name in first if name.startswith("graphc.backends.runtime.")], first
    second = compiled_functions(COMPILE_MLP, tmp_path / "second", 6, 16, 8, 4, runtime=runtime, modules=True)
    assert [name for name in second if name.endswith(":run")], second
    assert not [name for name in second if name.startswith("graphc.backends.runtime.")], second

# A cross-entropy over 5 classes, after an embedding lookup when argv[1] is "lookup": its index check is then the
# second of the program (number 1), else the first (number 0).
COMPILE_CHECKED = """
x = graphc.input("x", (4, 5), "float64")
labels = graphc.input("labels", (4,), "int64")
if sys.argv[1] == "lookup":
    table = graphc.input("table", (5, 5), "float64")
    x = x + table[labels]
loss = graphc.cross_entropy(x, labels)
rng = np.random.default_rng(0)
graphc.compile(loss)({"x": rng.normal(size=(4, 5)), "labels": np.array([0, 4, 2, 1]), "table": rng.normal(size=(5, 5))})
"""


def test_checked_kernels_are_shared_whatever_their_check_number(tmp_path):
    # A check number passed as a literal made Numba compile row_cross_entropy (and out_of_range) once per number.
    first = compiled_functions(COMPILE_CHECKED, tmp_path, "plain")
    assert {"run", "row_cross_entropy", "out_of_range"} <= set(first), first
    second = compiled_functions(COMPILE_CHECKED, tmp_path, "lookup")
    assert "run" in second and "gather_rows" in second, second
    assert not {"row_cross_entropy", "out_of_range"} & set(second), second


def test_unknown_backends_are_refused_clearly():
    x = graphc.input("x", (2,))
    with pytest.raises(graphc.GraphcError, match="unknown backend 'tpu'"):
        graphc.compile(x * 2.0, backend="tpu")
