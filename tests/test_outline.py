"""Loops printed as functions of their own (codegen/outline.py), on lines written here: which names become
parameters, which loops share a function, and which stay inline."""

from graphc.backends.codegen.outline import outline

ARGUMENTS = ["a", "b", "dim_n", "dim_m"]


def loop(source: str, target: str, size: str, step: str = "x_t") -> list[str]:
    return [f"    for {step} in range({size}):",
            f"        # {source}_2 = tanh({source}): one commented line per node",
            f"        {source}_2 = {source}[{step}]",
            "        for i0 in range(3):",
            f"            {target}[{step}, i0] = {source}_2[i0]"]


def test_loops_that_differ_only_in_names_share_one_function():
    lines = ["    c = b.copy()", *loop("a", "c", "dim_n"), *loop("b", "c", "dim_m", "y_t"), "    print(c)"]
    regions = [(1, 6), (6, 11)]
    functions, body = outline(lines, regions, ARGUMENTS)
    assert body == ["    c = b.copy()", "    loop0(dim_n, a, c)", "    loop0(dim_m, b, c)", "    print(c)"]
    assert functions[:3] == ["@njit(error_model='numpy')", "def loop0(dim0, v0, v1):", "    for t in range(dim0):"]
    # a name is renamed with its results (a_2: result 2 of node a), in the comments too
    assert functions[3:5] == ["        # v0_2 = tanh(v0): one commented line per node", "        v0_2 = v0[t]"]
    assert sum(line.startswith("def ") for line in functions) == 1


def test_a_loop_of_a_structure_seen_once_stays_inline():
    lines = ["    c = b.copy()", *loop("a", "c", "dim_n"), "    print(c)"]
    assert outline(lines, [(1, 6)], ARGUMENTS) == ([], lines)


def test_a_loop_that_rebinds_a_name_of_run_or_binds_one_read_after_it_stays_inline():
    def twice(binding: str) -> list[str]:
        return [f"    for {step} in range(dim_n):\n        {binding} = a[{step}]" for step in ("x_t", "y_t")]

    for before, binding, after in (["    s = b"], "s", []), ([], "last", ["    print(last)"]):
        lines = [*before, *"\n".join(twice(binding)).splitlines(), *after]
        regions = [(len(before), len(before) + 2), (len(before) + 2, len(before) + 4)]
        assert outline(lines, regions, ARGUMENTS) == ([], lines)
    # two such loops, each binding a name of its own: one function
    lines = [line.replace("last", name) for name, loop_lines in zip(("first", "second"), twice("last"))
             for line in loop_lines.splitlines()]
    functions, body = outline(lines, [(0, 2), (2, 4)], ARGUMENTS)
    assert body == ["    loop0(dim_n, a)", "    loop0(dim_n, a)"] and "def loop0(dim0, v0):" in functions
