"""Loops printed as functions of their own: each top-level loop of ``run`` (a ``scan``) becomes a call of a
function that takes the arrays and sizes the loop reads, and loops that differ only in the names of what they read
share one function, so Numba types and lowers that code once (a stacked or bidirectional network's layers, a
custom cell used twice). Loops of one structure print the same text once their names are made canonical (by order
of first appearance), so the text without its comments is the function's key.

What it saves is Numba's typing and lowering, not LLVM's work: Numba links every callee's code into its caller's
module, optimizes that module again and emits machine code for all of it (a 2-layer bidirectional LSTM's ``run``,
its eight loops in four functions: 13.6 s of LLVM module passes and 7.0 s emitting code, ``NUMBA_LLVM_PASS_TIMINGS``).
Single-threaded code only: a loop with ``prange`` would need a parallel function of its own."""

from __future__ import annotations

import ast
import re

IDENTIFIER = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*\b")
# Names every kernel prints the same way (element indices, per-element temporaries, a batched product's operands):
# they are the same in loops of one structure, and kept, so the loop reads as the kernels elsewhere do.
KEPT = re.compile(r"^(i|t|in|b)\d+$|^(left|right)$")
STEP = re.compile(r"\s*for (\w+) in ")
SUFFIX = re.compile(r"_(packed|rows|next)$")
RESULT = re.compile(r"_\d+$")


def outline(lines: list[str], regions: list[tuple[int, int]], arguments: list[str]) -> tuple[list[str], list[str]]:
    """(functions, lines): the source of the loop functions, and ``run``'s body with each region of ``lines`` (a
    loop, from its ``for`` line to its end) replaced by a call. A region that rebinds a name ``run`` defined
    before it or reads after it stays inline."""
    functions: dict[str, tuple[str, list[str]]] = {}  # key (code without comments) -> (name, source lines)
    body, position = [], 0
    for start, stop in regions:
        body += lines[position:start]
        position = stop
        region = lines[start:stop]
        split = _split(region, defined=_stored(lines[:start]) | set(arguments), later=lines[stop:])
        if split is None:
            body += region
            continue
        parameters, names, renamed = split
        key = "\n".join(_code(line).rstrip() for line in renamed if _code(line).strip())
        if key not in functions:
            name = f"loop{len(functions)}"
            functions[key] = (name, ["@njit(error_model='numpy')", f"def {name}({', '.join(names)}):", *renamed])
        name = functions[key][0]
        body.append(f"    {name}({', '.join(parameters)})")
    body += lines[position:]
    return [line for _, source in functions.values() for line in [*source, "", ""]], body


def _split(region: list[str], defined: set[str], later: list[str]):
    """(the names the region reads from ``run``, in order; their names in the function; the region with canonical
    names), or None when a name the region binds is not its own."""
    bound = _stored(region)
    stored = {name for name in bound if not KEPT.match(name)}  # kept names are bound before every use
    if stored & (defined | _loaded(later)):
        return None
    parameters = list(dict.fromkeys(name for line in region for name in IDENTIFIER.findall(_code(line))
                                    if name in defined and name not in bound))
    # The step index is t; every parameter and every other name bound inside is renamed by first appearance:
    # sizes dim<k>, the rest v<k>, keeping the suffix that says what a copy is for (_packed, _rows, _next) and a
    # kernel result's number (v<k>_0 for its node v<k>, which the comments name).
    mapping = {STEP.match(region[0]).group(1): "t"}
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


def _names(lines: list[str]) -> list[ast.Name]:
    tree = ast.parse("\n".join(["def region():", *(line for line in lines if _code(line).strip()), "    pass"]))
    return [node for node in ast.walk(tree) if isinstance(node, ast.Name)]


def _stored(lines: list[str]) -> set[str]:
    return {node.id for node in _names(lines) if isinstance(node.ctx, ast.Store)}


def _loaded(lines: list[str]) -> set[str]:
    return {node.id for node in _names(lines) if isinstance(node.ctx, ast.Load)}
