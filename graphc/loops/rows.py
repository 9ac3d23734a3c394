"""Whether a loop's rows are independent: each row of its carries (along axis 0, a named dimension such as the
batch) computed at every step from the same row of the carries and of the step's inputs, and from whole values
without those rows (weights). Such a loop can run on separate rows in separate threads, each thread going through
every step on its own rows without meeting the others (the CPU code generator's split by rows).

What each op does to rows is the op's own fact (``Op.keeps_rows``); a random op (its draws would depend on which
thread runs a row), an index check (its report is one place), a nested loop or an op that does not say keeps a loop
whole. A value without the rows inside the body must be a view (a slice of a weight): anything computed into a
buffer is computed by every thread, so it must have rows for each thread to write its own.
"""

from __future__ import annotations

import sympy

from .body import Body


def _mentions(sizes: tuple, rows: sympy.Symbol) -> bool:
    return any(rows in sympy.sympify(size).free_symbols for size in sizes)


def has_rows(shape: tuple, rows: sympy.Symbol) -> bool:
    """Whether ``shape`` has the rows at axis 0 and nowhere else."""
    return bool(shape) and shape[0] == rows and not _mentions(shape[1:], rows)


def _free(shape: tuple, rows: sympy.Symbol) -> bool:
    return not _mentions(shape, rows)


def independent_rows(body: Body) -> sympy.Symbol | None:
    """The named dimension along which ``body``'s rows are independent (axis 0 of every carry), or None."""
    if not body.carries or not body.carries[0].type.shape:
        return None
    rows = body.carries[0].type.shape[0]
    if not isinstance(rows, sympy.Symbol):
        return None  # a fixed size: nothing tells the rows from another axis of that size
    if not all(has_rows(c.type.shape, rows) for c in body.carries) or not all(has_rows(s.type.shape, rows)
                                                                            for s in body.steps):
        return None
    slots = set(body.slots)
    for node in body.graph.nodes:
        if node in slots:
            if not (has_rows(node.type.shape, rows) or _free(node.type.shape, rows)):
                return None
            continue
        if node.op.random or node.op.indices is not None or node.op.nested:
            return None
        if node.op.projection:  # one result of a node already looked at
            continue
        results = node.type if isinstance(node.type, tuple) else (node.type,)
        shapes = [i.type.shape for i in node.inputs]
        if all(_free(shape, rows) for shape in [r.shape for r in results]):
            if not node.op.view:
                return None
            continue
        if not all(has_rows(r.shape, rows) for r in results) or not all(has_rows(s, rows) or _free(s, rows)
                                                                      for s in shapes):
            return None
        if not node.op.keeps_rows([has_rows(s, rows) for s in shapes], shapes, results[0].shape, **node.attributes):
            return None
    return rows
