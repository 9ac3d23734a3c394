"""The disk caches: graphc's generated modules and Numba's machine code are loaded by a second process instead of
compiled, every kind of damaged file is reported in one line and compiled again (never loaded, never fatal),
processes compiling at once leave a sound cache, and clearing removes only graphc's files."""

import os
import pathlib
import pickle
import shutil
import subprocess
import sys

import pytest

from graphc.backends.compiled import cache
from graphc.backends.runtime import jit

from .test_cpu_backend import LISTENING

ROOT = pathlib.Path(__file__).resolve().parent.parent


def environment(cache_dir, numba_dir=None) -> dict:
    variables = {**os.environ, "GRAPHC_CACHE_DIR": str(cache_dir), "PYTHONPATH": str(ROOT)}
    if numba_dir is not None:  # else the runtime's kernels keep their machine code in the source tree's __pycache__
        variables.update(NUMBA_CACHE_DIR=str(numba_dir), GRAPHC_RUNTIME_CACHE_DIR=str(numba_dir))
    return variables


def run_python(code: str, cache_dir, *arguments, numba_dir=None, debug=False) -> subprocess.CompletedProcess:
    variables = environment(cache_dir, numba_dir)
    if debug:
        variables["GRAPHC_DEBUG"] = "1"
    return subprocess.run([sys.executable, "-c", code, *arguments], cwd=ROOT, env=variables, capture_output=True,
                          text=True, timeout=300)


# An MLP's loss compiled, in float32 or in the dtype given as the first argument.
COMPILE_MLP = """
import sys
import numpy as np, graphc
from graphc.models import mlp
dtype = sys.argv[1] if len(sys.argv) > 1 else "float32"
m = mlp.build(sizes=(5, 7, 3), dtype=dtype)
feeds = {**graphc.init_params(m.params, 0), "x": np.ones((4, 5), dtype), "labels": np.zeros(4, np.int64)}
f = graphc.compile(m.loss)
print(float(f(feeds)))
run = next(iter(f.specializations.values())).module.run
print("hits", len(run.stats.cache_hits), "misses", len(run.stats.cache_misses))
"""


def test_a_second_process_loads_compiled_code_from_the_disk_cache(tmp_path):
    first = run_python(COMPILE_MLP, tmp_path)
    second = run_python(COMPILE_MLP, tmp_path)
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert first.stdout.splitlines()[0] == second.stdout.splitlines()[0]
    assert "misses 1" in first.stdout or "hits 0" in first.stdout
    assert "hits 1 misses 0" in second.stdout  # machine code loaded, not compiled


# An LSTM language model's training step (loops, unlinked kernels, packed weights) run once; prints its loss, how
# many functions Numba compiled, and how often Numba's target context was refreshed (its typing and lowering
# registries imported and installed: what compiling needs, not loading).
STEP_LSTM = LISTENING + """
from numba.core.cpu import CPUContext
from graphc import nn
from graphc.train import language
refreshed = []
refresh = CPUContext.refresh
CPUContext.refresh = lambda context: (refreshed.append(1), refresh(context))[1]
model = nn.language_model("lstm", 12, embed=4, hidden=8)
step = graphc.compile_step(model.loss, model.params, lr=0.1)
rng = np.random.default_rng(0)
feeds = {**graphc.init_params(model.params, 0), "tokens": rng.integers(0, 12, (6, 3)),
         "targets": rng.integers(0, 12, (6, 3)), **language.zero_state(model, 3)}
print(repr(float(step(feeds))), "compiled", len(compiled), "refreshed", len(refreshed))
"""


def test_a_process_that_loads_machine_code_compiles_nothing_and_leaves_numbas_registries_alone(tmp_path):
    first = run_python(STEP_LSTM, tmp_path)
    second = run_python(STEP_LSTM, tmp_path)
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    loss, *counts = first.stdout.split()
    assert int(counts[1]) > 0 and int(counts[3]) > 0  # the first process compiled its model's functions
    assert second.stdout.split() == [loss, "compiled", "0", "refreshed", "0"]


# An MLP's loss compiled, with the runtime's source digest given as the first argument; prints how many of the
# runtime's kernels Numba compiled.
COMPILE_UNDER_DIGEST = LISTENING + """
from graphc.backends.runtime import jit
jit.RUNTIME_DIGEST = sys.argv[1]
from graphc.models import mlp
m = mlp.build(sizes=(5, 7, 3))
graphc.compile(m.loss)({**graphc.init_params(m.params, 0), "x": np.ones((4, 5), np.float32),
                        "labels": np.zeros(4, np.int64)})
print(sum(name.startswith("graphc.backends.runtime") for name in compiled))
"""


def test_machine_code_of_another_version_of_the_runtime_is_compiled_again_not_loaded(tmp_path):
    # Numba would key a runtime kernel by its own bytecode and file only: row_softmax, in runtime/cpu.py, holds
    # cpu_math's exp, and kept loading machine code built with an older exp after cpu_math.py changed.
    runtime = tmp_path / "runtime"
    counts = [run_python(COMPILE_UNDER_DIGEST, tmp_path / "graphc", digest, numba_dir=runtime) for digest in
              ("one", "one", "two")]
    assert all(count.returncode == 0 for count in counts), [count.stderr for count in counts]
    first, again, changed = (int(count.stdout.split()[-1]) for count in counts)
    assert first > 0 and again == 0 and changed == first


def test_a_corrupt_cache_entry_is_detected_and_rebuilt(tmp_path):
    assert run_python(COMPILE_MLP, tmp_path).returncode == 0
    (module,) = tmp_path.glob("graphc_*.py")
    module.write_text(module.read_text()[:200])  # truncated
    again = run_python(COMPILE_MLP, tmp_path)
    assert again.returncode == 0, again.stderr
    assert cache._intact(module.read_text())


@pytest.mark.parametrize("damage", ["garbage machine code", "empty index", "module not UTF-8", "empty module"])
def test_a_corrupt_cache_file_is_compiled_again_with_a_warning_never_loaded(tmp_path, damage):
    assert run_python(COMPILE_MLP, tmp_path).returncode == 0
    (module,) = tmp_path.glob("graphc_*.py")
    (index,) = (tmp_path / "__pycache__").glob("*.nbi")
    if damage == "garbage machine code":
        for code in (tmp_path / "__pycache__").glob("*.nbc"):
            code.write_bytes(b"garbage\n")
    elif damage == "empty index":
        index.write_bytes(b"")
    elif damage == "module not UTF-8":
        module.write_bytes(b"\xff\xfe" + module.read_bytes()[2:])
    else:
        module.write_bytes(b"")
    again = run_python(COMPILE_MLP, tmp_path)
    assert again.returncode == 0, again.stderr
    assert "CacheWarning" in again.stderr and ("compiled again" in again.stderr or "generated again" in again.stderr)
    assert again.stdout.splitlines()[0] == run_python(COMPILE_MLP, tmp_path).stdout.splitlines()[0]
    third = run_python(COMPILE_MLP, tmp_path)
    assert "hits 1 misses 0" in third.stdout and "CacheWarning" not in third.stderr  # the rebuilt entry is trusted


def test_debug_prints_the_generated_source(tmp_path):
    result = run_python(COMPILE_MLP, tmp_path, debug=True)
    assert "def run(" in result.stderr and "# v" in result.stderr


def test_the_cache_location_is_configurable_and_clearable(tmp_path):
    folder = tmp_path / "kernels"
    assert run_python(COMPILE_MLP, folder).returncode == 0
    assert list(folder.glob("graphc_*.py")) and list(folder.glob("__pycache__/graphc_*.nbc"))
    assert folder.stat().st_mode & 0o777 == 0o700  # private: generated code is imported from it
    (folder / "notes.txt").write_text("the user's own file")
    clear = [sys.executable, "-m", "graphc", "cache", "--clear"]
    result = subprocess.run(clear, cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "GRAPHC_CACHE_DIR": str(folder)})
    assert result.returncode == 0 and "removed 1" in result.stdout
    assert not list(folder.glob("graphc_*")) and not list(folder.glob("__pycache__/graphc_*"))
    assert (folder / "notes.txt").read_text() == "the user's own file"  # only what graphc wrote is removed
    # A folder graphc never used is refused whole, as GRAPHC_CACHE_DIR=~/data graphc cache --clear would be.
    theirs = tmp_path / "data"
    theirs.mkdir()
    (theirs / "graphc_results.py").write_text("x = 1")
    result = subprocess.run(clear, cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "GRAPHC_CACHE_DIR": str(theirs)})
    assert result.returncode != 0 and "is not a graphc cache" in result.stderr and "Traceback" not in result.stderr
    assert (theirs / "graphc_results.py").read_text() == "x = 1"


# --- Numba's machine code, of the runtime's kernels and of generated modules ------------------------------------------
@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    """A graphc cache and a Numba cache that the MLP was compiled into (the runtime's kernels' machine code too)."""
    folder = tmp_path_factory.mktemp("filled")
    first = run_python(COMPILE_MLP, folder / "graphc", numba_dir=folder / "numba")
    assert first.returncode == 0, first.stderr
    return folder, first.stdout.splitlines()[0]


def damage_files(folder: pathlib.Path, damage: str) -> int:
    """Damage every index and machine-code file under ``folder``; returns how many there were."""
    files = sorted(folder.rglob("*.nb[ic]"))
    for file in files:
        data = file.read_bytes()
        if damage == "empty":
            file.write_bytes(b"")
        elif damage == "truncated":
            file.write_bytes(data[: len(data) // 2])
        elif damage == "garbage":
            file.write_bytes(b"garbage\n" * 10)
        elif damage == "one byte changed":
            middle = len(data) // 2
            file.write_bytes(data[:middle] + bytes([data[middle] ^ 0x20]) + data[middle + 1:])
        elif damage == "another Numba's" and file.suffix == ".nbi":
            file.write_bytes(jit.sealed(pickle.dumps("0.1.0", protocol=-1) + b"whatever that version wrote"))
    return len(files)


@pytest.mark.parametrize("damage", ["empty", "truncated", "garbage", "one byte changed", "another Numba's"])
def test_damaged_machine_code_is_reported_in_one_line_removed_and_compiled_again(filled, tmp_path, damage):
    folder, loss = filled
    shutil.copytree(folder / "numba", tmp_path / "numba")
    count = damage_files(tmp_path / "numba", damage)
    assert count >= 10  # run's files and the runtime kernels' (row_sum, row_cross_entropy, fill, ...)
    again = run_python(COMPILE_MLP, folder / "graphc", numba_dir=tmp_path / "numba")
    assert again.returncode == 0 and "Traceback" not in again.stderr, again.stderr
    assert again.stdout.splitlines() == [loss, "hits 0 misses 1"]  # the same result, from code compiled again
    warnings = [line for line in again.stderr.splitlines() if line]
    if damage == "another Numba's":  # not damage: an entry of another version is stale, as Numba treats it
        assert warnings == []
    else:
        assert len(warnings) >= 5 and all("CacheWarning: graphc: Numba's cached machine code for" in line
                                          and "it was removed and is compiled again" in line for line in warnings)
        assert any(" run could not be loaded" in line for line in warnings)
        assert any(" row_cross_entropy could not be loaded" in line for line in warnings)  # a runtime kernel
    third = run_python(COMPILE_MLP, folder / "graphc", numba_dir=tmp_path / "numba")
    assert third.stdout.splitlines() == [loss, "hits 1 misses 0"] and third.stderr == ""  # the new entries load


def test_an_index_entry_naming_another_signatures_file_is_a_miss_not_its_code(tmp_path):
    # Two processes adding signatures of one function at once can both take file number 1 (Numba's index update is
    # read-modify-write); the index of one then names the other's machine code.
    files = jit.CheckedFiles(str(tmp_path), "kernel-1.py311", source_stamp=(1.0, 100))
    files.save(("float32 signature",), b"machine code for float32")
    assert files.load(("float32 signature",)) == b"machine code for float32"
    (name,) = files._load_index().values()
    files._save_index({("float64 signature",): name})  # the other process's index, written last
    assert files.load(("float64 signature",)) is None


# Processes started together, with empty caches: two compile the same model in float32, one in float64 (another
# signature of the same runtime kernels, written into the same files at the same time).
def test_processes_compiling_at_once_leave_a_sound_cache(tmp_path):
    variables = environment(tmp_path / "graphc", tmp_path / "numba")
    dtypes = ["float32", "float32", "float64"]
    processes = [subprocess.Popen([sys.executable, "-c", COMPILE_MLP, dtype], cwd=ROOT, env=variables, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE) for dtype in dtypes]
    results = [process.communicate(timeout=300) + (process.returncode,) for process in processes]
    for _, stderr, returncode in results:
        assert returncode == 0 and stderr == "", stderr
    losses = [stdout.splitlines()[0] for stdout, _, _ in results]
    assert losses[0] == losses[1]
    for dtype, loss in zip(dtypes[1:], losses[1:]):
        after = run_python(COMPILE_MLP, tmp_path / "graphc", dtype, numba_dir=tmp_path / "numba")
        assert after.stderr == "" and after.stdout.splitlines() == [loss, "hits 1 misses 0"]
