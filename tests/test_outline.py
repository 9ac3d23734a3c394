"""Loops printed as functions of their own (codegen/outline.py), on lines written here: which names become
parameters, which loops share a function, and which stay inline."""

from graphc.backends.codegen.outline import outline
from graphc.backends.codegen.program import RowSplit

CALLED_FROM_CODE = "error_model='numpy', no_cpython_wrapper=True, no_cfunc_wrapper=True"
ARGUMENTS = ["a", "b", "dim_n", "dim_m"]


def loop(source: str, target: str, size: str, step: str = "x_t") -> list[str]:
    return [f"    for {step} in range({size}):",
            f"        # {source}_2 = tanh({source}): one commented line per node",
            f"        {source}_2 = {source}[{step}]",
            "        for i0 in range(3):",
            f"            {target}[{step}, i0] = {source}_2[i0]"]


def test_loops_that_differ_only_in_names_share_one_function():
    lines = ["    c = b.copy()", *loop("a", "c", "dim_n"), *loop("b", "c", "dim_m", "y_t"), "    print(c)"]
    regions = [(1, 6, None), (6, 11, None)]
    functions, body = outline(lines, regions, ARGUMENTS)
    # the range over the steps is given: (t_first, t_stop, t_step)
    assert body == ["    c = b.copy()", "    loop0(0, dim_n, 1, a, c)", "    loop0(0, dim_m, 1, b, c)", "    print(c)"]
    # unlinked: compiled once, its callers call its machine code (runtime/unlinked.py); only compiled code calls it,
    # so Numba builds no wrapper for Python or C callers
    assert functions[:4] == ["@rt.unlinked", f"@njit({CALLED_FROM_CODE})",
                             "def loop0(t_first, t_stop, t_step, v0, v1):",
                             "    for t in range(t_first, t_stop, t_step):"]
    # a name is renamed with its results (a_2: result 2 of node a), in the comments too
    assert functions[4:6] == ["        # v0_2 = tanh(v0): one commented line per node", "        v0_2 = v0[t]"]
    assert sum(line.startswith("def ") for line in functions) == 1


def test_a_loop_and_the_same_loop_reversed_share_one_function():
    # a bidirectional layer's two directions: the loops differ only in the order of their steps
    reversed_loop = loop("b", "c", "dim_m", "y_t")
    reversed_loop[0] = "    for y_t in range((dim_m - 1), -1, -1):"
    lines = ["    c = b.copy()", *loop("a", "c", "dim_n"), *reversed_loop]
    functions, body = outline(lines, [(1, 6, None), (6, 11, None)], ARGUMENTS)
    assert body == ["    c = b.copy()", "    loop0(0, dim_n, 1, a, c)", "    loop0(dim_m - 1, -1, -1, b, c)"]
    assert sum(line.startswith("def ") for line in functions) == 1


def test_a_loop_over_a_contiguous_copy_and_one_over_an_array_share_one_function():
    # a bidirectional layer's backward loops: one reads its strided half of a gradient from a copy (x_rows), the
    # other a contiguous sequence; both are arrays of one layout, so one function serves them
    lines = ["    c = b.copy()", "    a_rows = rt.contiguous(a)", *loop("a_rows", "c", "dim_n"),
             *loop("b", "c", "dim_m", "y_t")]
    functions, body = outline(lines, [(2, 7, None), (7, 12, None)], ARGUMENTS)
    assert body[2:] == ["    loop0(0, dim_n, 1, a_rows, c)", "    loop0(0, dim_m, 1, b, c)"]
    assert sum(line.startswith("def ") for line in functions) == 1


def test_a_loop_of_a_structure_seen_once_stays_inline():
    lines = ["    c = b.copy()", *loop("a", "c", "dim_n"), "    print(c)"]
    assert outline(lines, [(1, 6, None)], ARGUMENTS) == ([], lines)


def test_a_loop_that_rebinds_a_name_of_run_or_binds_one_read_after_it_stays_inline():
    def twice(binding: str) -> list[str]:
        return [f"    for {step} in range(dim_n):\n        {binding} = a[{step}]" for step in ("x_t", "y_t")]

    for before, binding, after in (["    s = b"], "s", []), ([], "last", ["    print(last)"]):
        lines = [*before, *"\n".join(twice(binding)).splitlines(), *after]
        regions = [(len(before), len(before) + 2, None), (len(before) + 2, len(before) + 4, None)]
        assert outline(lines, regions, ARGUMENTS) == ([], lines)
    # two such loops, each binding a name of its own: one function
    lines = [line.replace("last", name) for name, loop_lines in zip(("first", "second"), twice("last"))
             for line in loop_lines.splitlines()]
    functions, body = outline(lines, [(0, 2, None), (2, 4, None)], ARGUMENTS)
    assert body == ["    loop0(0, dim_n, 1, a)", "    loop0(0, dim_n, 1, a)"]
    assert "def loop0(t_first, t_stop, t_step, v0):" in functions


def test_a_loop_split_by_rows_is_a_function_of_rows_lo_hi_that_the_runtime_calls_on_each_part():
    # program.loop prints a loop whose rows are independent with each step's rows lo:hi of its inputs and outputs;
    # as a function it takes its rows of the carries and buffers, their count as the rows' size, and one thread for
    # the products inside where it runs in parts, and is called even when seen once, through the runtime kernel
    # that gives each thread its part of the rows.
    lines = ["    c = b.copy()",
             "    for x_t in range(dim_n):",
             "        s = view_step(a, x_t, lo, hi)",
             "        rt.threaded_product(view(c, (dim_m, 3)), w, s, threads)",
             "        c[0, 0] = s[0, 0]",
             "    print(c)"]
    split = RowSplit("dim_m", ("c",))
    functions, body = outline(lines, [(1, 5, split)], [*ARGUMENTS, "w", "threads"])
    assert body == ["    c = b.copy()", "    loop0_rows(0, dim_n, 1, a, c, dim_m, w, threads, dim_m, threads)",
                    "    print(c)"]
    # the threads first (one for each part's products where there are several parts), then its rows
    assert functions[:7] == ["@rt.unlinked", f"@njit({CALLED_FROM_CODE})",
                             "def loop0(t_first, t_stop, t_step, v0, v1, dim0, v2, v3, lo, hi):",
                             "    v3 = rt.threads_within(dim0, v3)", "    v1 = view_rows(v1, lo, hi)",
                             "    dim0 = hi - lo", "    for t in range(t_first, t_stop, t_step):"]
    assert functions[7] == "        v4 = view_step(v0, t, lo, hi)"
    # the runtime's parallel loop runs it on each thread's part (runtime/parts.py): no parallel function here
    assert "loop0_rows = rt.by_parts(loop0)" in functions and not any("parallel" in line for line in functions)
    # kept inline (it rebinds b, a name of run's), the same loop reads every row
    rebinding = [*lines[:2], "        b = view_step(a, x_t, lo, hi)", *lines[3:]]
    functions, body = outline(rebinding, [(1, 5, split)], [*ARGUMENTS, "w", "threads"])
    assert functions == [] and body[2] == "        b = view_step(a, x_t)" and body[3:] == rebinding[3:]
