"""Kernels called unlinked (runtime/unlinked.py): the same results and exceptions as a linked call, the callee's
code kept out of its callers, and callers cached in one process loaded by another, or compiled again where a
callee's machine code is gone."""

import shutil

import numba
import numpy as np
import pytest

from graphc.backends.runtime import unlinked

from .test_cpu_backend import COMPILE_MLP, compiled_functions


@numba.njit
def halved(values):
    if values.size and values[0] < 0:
        raise ValueError("a negative first value")
    return values / 2


call_halved = unlinked.unlinked(halved)


@numba.njit
def caller(values):
    return call_halved(values) + 1


def test_an_unlinked_call_returns_what_a_linked_one_does_for_each_signature():
    for dtype in ("float32", "float64"):
        values = np.arange(5, dtype=dtype)
        result = caller(values)
        assert result.dtype == values.dtype and np.array_equal(result, values / 2 + 1)
    names = [name for name in unlinked.REGISTERED if ".halved." in name]
    assert len(names) == 2  # one symbol per signature


def test_an_exception_in_an_unlinked_kernel_reaches_the_caller():
    with pytest.raises(ValueError, match="a negative first value"):
        caller(np.array([-1.0, 2.0]))


def test_the_callers_code_declares_the_kernel_and_holds_none_of_it():
    caller(np.ones(3))
    (code,) = [caller.inspect_llvm(signature) for signature in caller.signatures if signature[0].dtype == numba.float64]
    (name,) = [name for name in unlinked.REGISTERED if ".halved." in name and name in code]
    assert f"declare i32 @{name}(" in code
    assert "a negative first value" not in code  # the kernel's message is in its own module


def test_names_in_machine_code_that_no_kernel_has_are_not_resolved():
    assert unlinked.resolve(b"no kernel is called here")
    assert not unlinked.resolve(b"\0graphc.kernel.tests.test_unlinked.halved.0123456789abcdef\0")  # no such signature
    assert not unlinked.resolve(b"\0graphc.kernel.nowhere.kernel.0123456789abcdef\0")  # no such module


def test_a_cached_program_loads_in_a_new_process_without_compiling_anything(tmp_path):
    first = compiled_functions(COMPILE_MLP, tmp_path, 6, 16, 4)
    assert {"run", "row_cross_entropy"} <= set(first), first
    assert compiled_functions(COMPILE_MLP, tmp_path, 6, 16, 4) == []  # its kernels' names resolved from their caches


def test_a_cached_program_whose_kernels_are_gone_is_compiled_again(tmp_path):
    compiled_functions(COMPILE_MLP, tmp_path, 6, 16, 4)
    shutil.rmtree(tmp_path / "runtime")  # the kernels' machine code: the cached run names symbols no one defines
    again = compiled_functions(COMPILE_MLP, tmp_path, 6, 16, 4)
    assert {"run", "row_cross_entropy"} <= set(again), again  # a miss, not LLVM's abort on an unresolved symbol
