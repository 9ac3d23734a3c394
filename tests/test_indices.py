"""Integer indices out of range (a token past the vocabulary, a negative label) are errors in every backend, named
with the op, the feed, the first bad position and value, the valid range and the user's line; nothing wraps and
no memory outside an array is touched. The cases come from the op table: every op with an ``indices`` input."""

import numpy as np
import pytest

import graphc
from graphc.errors import IndexRangeError
from graphc.ops import OPS

from .op_cases import build

INDEXED = [pytest.param(op, case, id=op.name) for op in OPS.values() if op.indices is not None
           for case in op.cases[:1]]
BACKENDS = ["reference", "cpu", "cuda"]


def bound_of(op, case) -> int:
    """How many places the case's indices may name (the integers it draws are below it)."""
    return case.integers[op.indices]


def run(backend: str, out, feeds: dict):
    if backend == "reference":
        return graphc.evaluate(out, feeds)
    return graphc.compile(out, backend=backend)(feeds)


def test_every_indexing_op_is_covered():
    assert {p.values[0].name for p in INDEXED} >= {"gather", "scatter_add", "pick", "one_hot", "cross_entropy"}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("op, case", INDEXED)
@pytest.mark.parametrize("bad", ["bound", "negative", "huge"])
def test_an_index_out_of_range_is_an_error_naming_op_feed_position_value_and_range(op, case, bad, backend):
    out, tensors, _, feeds = build(op, case, dtype="float32")
    name = f"in{op.indices}"
    bound = bound_of(op, case)
    assert bound == op.index_bound([np.shape(feeds[f"in{k}"]) for k in range(len(case.shapes))],
                                   **{k: v for k, v in case.attrs.items()})
    indices = feeds[name].copy()
    value = {"bound": bound, "negative": -1, "huge": 10**9}[bad]
    position = (0,) * (indices.ndim - 1) + (1,)
    indices[position] = value
    out = graphc.sum(out)
    with pytest.raises(IndexRangeError) as error:
        run(backend, out, {**feeds, name: indices})
    message = str(error.value)
    shown = position[0] if len(position) == 1 else position
    for words in (op.name, f"feed '{name}'", f"index {value}", f"position {shown}", f"0..{bound - 1}",
                  "op_cases.py"):
        assert words in message, (words, message)


@pytest.mark.parametrize("backend", ["cpu", "cuda"])
def test_the_gradient_of_an_embedding_lookup_never_writes_outside_the_table(backend):
    table = graphc.param("table", (4, 3))
    rows = graphc.input("rows", (2,), "int64")
    (gradient,) = graphc.grad(graphc.sum(graphc.gather(table, rows)), [table])
    compiled = graphc.compile(gradient, backend=backend)
    values = np.ones((4, 3), np.float32)
    np.testing.assert_array_equal(compiled({"table": values, "rows": np.array([0, 3])}),
                                  [[1, 1, 1], [0, 0, 0], [0, 0, 0], [1, 1, 1]])
    with pytest.raises(IndexRangeError, match=r"scatter_add: index 4 at position 1 of feed 'rows'"):
        compiled({"table": values, "rows": np.array([0, 4])})
    # The function still works after the error (its status was reset).
    np.testing.assert_array_equal(compiled({"table": values, "rows": np.array([1, 1])})[1], [2, 2, 2])


def test_a_training_step_with_a_bad_label_changes_no_parameter():
    x, y = graphc.input("x", (3, 2)), graphc.input("y", (3,), "int64")
    weight = graphc.param("W", (2, 4))
    step = graphc.compile_step(graphc.cross_entropy(x @ weight, y), [weight], lr=0.5)
    values = {"W": np.ones((2, 4), np.float32), "x": np.ones((3, 2), np.float32)}
    before = values["W"].copy()
    with pytest.raises(IndexRangeError, match="cross_entropy: index 4 at position 2 of feed 'y'"):
        step({**values, "y": np.array([0, 1, 4])})
    np.testing.assert_array_equal(values["W"], before)


def test_an_index_computed_inside_the_graph_is_checked_too():
    table = graphc.param("table", (3, 2))
    rows = graphc.input("rows", (2,), "int64")
    shifted = graphc.gather(table, rows + 1)
    with pytest.raises(IndexRangeError, match=r"gather: index 3 at position 1 of its indices"):
        graphc.compile(shifted)({"table": np.ones((3, 2), np.float32), "rows": np.array([0, 2])})


def test_a_bad_token_inside_a_recurrent_loop_is_reported():
    from graphc import nn
    from graphc.train import language

    model = nn.language_model("rnn", 5, embed=3, hidden=4)
    step = graphc.compile_step(model.loss, model.params, lr=0.1)
    tokens = np.zeros((3, 2), np.int64)
    tokens[2, 1] = 7
    feeds = {**graphc.init_params(model.params), "tokens": tokens, "targets": np.zeros((3, 2), np.int64),
             **language.zero_state(model, 2)}
    with pytest.raises(IndexRangeError, match=r"gather: index 7 at position \(2, 1\) of feed 'tokens'.*0\.\.4"):
        step(feeds)
