"""Fixed sizes (a hidden width, an embedding width, a vocabulary) as arguments of the generated code: a model of
another size runs the program compiled for the first, with results equal to the reference interpreter."""

import re

import numpy as np

import graphc
from graphc import nn
from graphc.backends.lowering import fixed_sizes


def lstm_gradients(hidden: int, embed: int = 4, vocabulary: int = 11):
    """A language model's loss, final states and every parameter's gradient, and feeds for it."""
    model = nn.language_model("lstm", vocabulary, embed=embed, hidden=hidden, dtype="float64")
    outputs = [model.loss, *model.outputs.values(), *graphc.grad(model.loss, model.params)]
    rng = np.random.default_rng(hidden)
    time, batch = 5, 3
    feeds = {**graphc.init_params(model.params, seed=hidden), "tokens": rng.integers(0, vocabulary, (time, batch)),
             "targets": rng.integers(0, vocabulary, (time, batch)),
             **{name: rng.normal(size=(batch, hidden)) for name in model.state}}
    return outputs, feeds


def program_of(function):
    (module, _, _), = function.programs.values()
    return module


def test_a_model_of_another_hidden_size_runs_the_program_compiled_for_the_first():
    functions = []
    for hidden in (8, 12, 20):
        outputs, feeds = lstm_gradients(hidden)
        function = graphc.compile(outputs)
        for ours, expected in zip(function(feeds), graphc.evaluate(outputs, feeds)):
            np.testing.assert_allclose(ours, expected, rtol=1e-10, atol=1e-12)
        functions.append(function)
    first = program_of(functions[0])
    assert all(program_of(f) is first for f in functions)  # one module, loaded once
    assert len(first.run.signatures) == 1  # compiled once, for the first model: the others compiled nothing
    # the sizes are run's arguments, which it passes to its loops (a loop function names them dim<k>)
    source = functions[0].source
    assert "dim_fixed0" in source and re.search(r"range\(dim(_fixed)?\d+\)", source) and "range(8)" not in source


def test_sizes_equal_in_other_places_get_a_program_of_their_own():
    """Hidden 4 equals the embedding width 4: a size shared by two roles is one argument, so this graph's program
    is not the one where they differ (which could not give them different values)."""
    outputs, feeds = lstm_gradients(8)
    differing = graphc.compile(outputs)
    differing(feeds)
    outputs, feeds = lstm_gradients(4)
    shared = graphc.compile(outputs)
    for ours, expected in zip(shared(feeds), graphc.evaluate(outputs, feeds)):
        np.testing.assert_allclose(ours, expected, rtol=1e-10, atol=1e-12)
    assert shared.graph_key != differing.graph_key and program_of(shared) is not program_of(differing)


def test_fixed_sizes_are_symbols_in_order_of_first_use_and_a_one_stays_literal():
    x = graphc.input("x", ("batch", 3), dtype="float64")
    w = graphc.param("w", (3, 5), dtype="float64")
    b = graphc.param("b", (1, 5), dtype="float64")
    y = (x @ w + b)[:, 1:3].sum()
    sizes = fixed_sizes(graphc.Graph([y.node]))
    assert list(sizes) == [3, 5, 2]  # x's 3, w's 5, the slice's stop 3 (already named) and its length 2
    assert [str(s) for s in sizes.values()] == ["fixed0", "fixed1", "fixed2"]
    assert 1 not in sizes  # the slice's start and b's leading 1 (broadcasting) are literal


def test_a_users_dimension_named_like_a_fixed_size_is_never_confused_with_one():
    x = graphc.input("x", ("fixed0", 3), dtype="float64")
    y = graphc.tanh(x @ graphc.param("w", (3, 2), dtype="float64")).sum()
    sizes = fixed_sizes(graphc.Graph([y.node]))
    assert "fixed0" not in {str(s) for s in sizes.values()}
    function = graphc.compile(y)
    feeds = {"x": np.linspace(-1, 1, 12).reshape(4, 3), "w": np.arange(6.0).reshape(3, 2) / 6}
    np.testing.assert_allclose(function(feeds), graphc.evaluate(y, feeds), rtol=1e-12)
