"""Loops printed as functions of their own: a top-level loop of ``run`` (a ``scan``) whose structure recurs (a
stacked or bidirectional network's layers, a user's cell applied twice) becomes a call of one function that takes
the arrays and sizes the loop reads, and the range of its steps (so a loop and the same loop reversed, a
bidirectional layer's two directions, are one function); so does an element-wise kernel's loop nest that recurs
(the optimizer's update of each weight), in a program that has loops over steps. Regions of one structure print
the same text once their names are made canonical (by order of first appearance): the text without its comments
is the function's key.

A function is called unlinked (``runtime/unlinked.py``): it is compiled as a module of its own, and ``run`` calls
its machine code, so its code is typed, optimized and emitted once however many times it is called (linked, Numba
would copy its code into ``run``'s module and optimize it there again). The 2-layer bidirectional LSTM of
``benchmarks/compile.py`` went from 7.4-8.0 s to 6.1 s to its first step with its recurring kernels as functions
(``benchmarks/profile_compile.py bidirectional``, empty caches, AMD EPYC); W1, without loops, keeps its kernels
inline: as functions they made its step 12% slower (30.2 against 34.0 us, interleaved new processes), about half
a microsecond a call, which a step that loops over time does not feel (W3, W6 within 2%).
In a program with loops over steps, a region seen once is a function too (``every``): ``run`` is then glue, calls
and views without a loop of its own, which LLVM need not optimize at -O3 (``runtime/jit.GlueCompiler``). That
took the bidirectional LSTM's cold start from 6.28 to 4.95 s (means of 4 pairs of interleaved new processes, every
pair lower; AMD EPYC at a slow hour); W4's stayed as it was (3.10 and 3.18 s, 3 pairs), and the steps of W3-W6
within 5% (medians of interleaved processes: W4 0.98 and 1.04 of before, W6 1.02, W5 0.95, W3 1.01).
A loop whose rows are independent (``loops/rows.py``: a batch, each row of it computed from the same rows; unless
``GRAPHC_SPLIT_LOOPS=0``) is a function even when seen once: it runs on rows ``lo:hi``, and the runtime's
parallel loop calls it on each thread's part (``program.RowSplit``, ``runtime/parts.py``), so each thread goes
through every step on its own rows and the threads meet once per loop, not once per step. Otherwise
single-threaded code only: a loop with ``prange`` inside would need a parallel function of its own."""

from __future__ import annotations

import ast
import collections
import re

from .program import ROWS_SPAN

IDENTIFIER = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*\b")
# Names every kernel prints the same way (element indices, per-element temporaries, a batched product's operands):
# they are the same in loops of one structure, and kept, so the loop reads as the kernels elsewhere do.
KEPT = re.compile(r"^(i|t|in|b)\d+$|^(left|right)$")
STEP = re.compile(r"\s*for (\w+) in ")
RANGE = re.compile(r"^(\s*)for (\w+) in range\((.*)\):$")
# Numba builds a CPython wrapper (unboxing every argument) and a C wrapper for each function it compiles; a function
# that only compiled code calls needs neither.
CALLED_FROM_CODE = "error_model='numpy', no_cpython_wrapper=True, no_cfunc_wrapper=True"
BOUNDS = ("t_first", "t_stop", "t_step")  # a loop function's range over its steps t
SUFFIX = re.compile(r"_(packed|next)$")
RESULT = re.compile(r"_\d+$")


def outline(lines: list[str], regions: list[tuple], arguments: list[str],
            every: bool = False) -> tuple[list[str], list[str]]:
    """(functions, lines): the source of the functions, and ``run``'s body with the regions of ``lines`` (loop
    nests, each from its ``for`` line to its end, with its ``RowSplit`` or None) whose structure recurs, or that
    are split by rows, or with ``every`` all of them, replaced by calls. A region that rebinds a name ``run``
    defined before it or reads after it stays inline (a split one then on every row)."""
    names = _names(lines)
    splits = []
    for start, stop, rows in regions:
        bound = {name for line, name, stored in names if stored and start <= line < stop}
        defined = {name for line, name, stored in names if stored and line < start} | set(arguments)
        later = {name for line, name, stored in names if not stored and line >= stop}
        region, bounds = _ranged(lines[start:stop])
        split = _split(region, bound, defined, later)
        if split is not None:
            parameters, renamed_parameters, renamed = split
            if rows is not None:
                renamed = _taking_rows(parameters, renamed_parameters, rows) + renamed
            split = bounds + parameters, list(BOUNDS[:len(bounds)]) + renamed_parameters, renamed
        key = split and "\n".join(_code(line).rstrip() for line in split[2] if _code(line).strip())
        splits.append((start, stop, split, key, rows))
    occurrences = collections.Counter(key for *_, key, _ in splits)
    functions: dict[str, tuple[str, list[str]]] = {}  # key (code without comments) -> (name, source lines)
    body, position = [], 0
    for start, stop, split, key, rows in splits:
        body += lines[position:start]
        position = stop
        if split is None or (occurrences[key] == 1 and rows is None and not every):
            # an unsplit region reads every row: the slices it was printed with for a split say all of them
            body += [line.replace(ROWS_SPAN, "") for line in lines[start:stop]]
            continue
        parameters, names, renamed = split
        if key not in functions:
            kind = "kernel" if KEPT.match(STEP.match(lines[start]).group(1)) else "loop"  # for i0 / for x_t
            name = f"{kind}{sum(name.startswith(kind) for name, _ in functions.values())}"
            given = ", ".join(names)
            source = ["@rt.unlinked", f"@njit({CALLED_FROM_CODE})",
                      f"def {name}({given}{', lo, hi' if rows else ''}):", *renamed]
            functions[key] = (name, source + (_by_rows(name) if rows else []))
        name = functions[key][0]
        extra = f", {rows.dimension}, threads" if rows else ""
        body.append(f"    {name}{'_rows' if rows else ''}({', '.join(parameters)}{extra})")
    body += lines[position:]
    return [line for _, source in functions.values() for line in [*source, "", ""]], body


def _ranged(region: list[str]) -> tuple[list[str], list[str]]:
    """The region with its loop over steps running over ``range(t_first, t_stop, t_step)``, and the values its range had
    for them: a loop and the same loop reversed (a bidirectional layer's two directions) are then one function. A
    kernel's loop nest is left as it is."""
    loop = RANGE.match(region[0])
    if loop is None or KEPT.match(loop.group(2)):
        return region, []
    values = [ast.unparse(value) for value in ast.parse(f"range({loop.group(3)})").body[0].value.args]
    values = {1: ["0", *values, "1"], 2: [*values, "1"], 3: values}[len(values)]
    return [f"{loop.group(1)}for {loop.group(2)} in range({', '.join(BOUNDS)}):", *region[1:]], values


def _taking_rows(parameters: list[str], names: list[str], rows) -> list[str]:
    """The first lines of a loop function split by rows: the threads its products may use (one in each of several
    parts), its rows ``lo:hi`` of the carries, buffers and captured values with rows, and their count as the rows'
    size."""
    given = dict(zip(parameters, names))
    lines = []
    if "threads" in given and rows.dimension in given:
        lines.append(f"    {given['threads']} = rt.threads_within({given[rows.dimension]}, {given['threads']})")
    for parameter, name in zip(parameters, names):
        if parameter in rows.sliced:
            lines.append(f"    {name} = view_rows({name}, lo, hi)")
        elif parameter == rows.dimension:
            lines.append(f"    {name} = hi - lo")
    return lines


def _by_rows(name: str) -> list[str]:
    """``<name>_rows``, which runs the loop function ``name`` on each thread's part of the rows: a runtime kernel's
    parallel loop calls it through a task ``run``'s module holds (``runtime/parts.py``), so no model compiles a
    parallel function of its own."""
    return ["", "", f"{name}_rows = rt.by_parts({name})"]


def _split(region: list[str], bound: set[str], defined: set[str], later: set[str]):
    """(the names the region reads from ``run``, in order; their names in the function; the region with canonical
    names), or None when a name the region binds (``bound``) is one ``run`` bound before it (``defined``) or reads
    after it (``later``)."""
    stored = {name for name in bound if not KEPT.match(name)}  # kept names are bound before every use
    if stored & (defined | later):
        return None
    parameters = list(dict.fromkeys(name for line in region for name in IDENTIFIER.findall(_code(line))
                                    if name in defined and name not in bound))
    # The step index is t; every parameter and every other name bound inside is renamed by first appearance:
    # sizes dim<k>, the rest v<k>, keeping the suffix that says what a copy is for (_packed, _next) and a
    # kernel result's number (v<k>_0 for its node v<k>, which the comments name). A contiguous copy (_rows) gets a
    # name of its own: a loop called with a copy and one called with a contiguous array are then one function.
    step = STEP.match(region[0]).group(1)  # the loop over steps, or a kernel's first index (kept)
    mapping = {} if KEPT.match(step) else {step: "t"}
    counts = {"dim": 0, "v": 0}

    def canonical(name: str) -> str:
        if name not in mapping:
            suffix = SUFFIX.search(name) or (None if name.startswith("dim_") else RESULT.search(name))
            if suffix:
                mapping[name] = canonical(name[:suffix.start()]) + suffix.group(0)
            else:
                kind = "dim" if name.startswith("dim_") else "v"
                mapping[name] = f"{kind}{counts[kind]}"
                counts[kind] += 1
        return mapping[name]

    for name in parameters + [name for line in region for name in IDENTIFIER.findall(_code(line)) if name in stored]:
        canonical(name)
    renamed = [IDENTIFIER.sub(lambda match: mapping.get(match.group(0), match.group(0)), line) for line in region]
    return parameters, [mapping[name] for name in parameters], renamed


def _code(line: str) -> str:
    """The line without its comment (generated code never prints a ``#`` inside a string)."""
    return line.split("#", 1)[0]


def _names(lines: list[str]) -> list[tuple[int, str, bool]]:
    """(line, name, whether it is bound there) for every name in ``lines``, from one parse of them all."""
    tree = ast.parse("\n".join(["def region():", *lines, "    pass"]))
    return [(node.lineno - 2, node.id, isinstance(node.ctx, ast.Store)) for node in ast.walk(tree)
            if isinstance(node, ast.Name)]
