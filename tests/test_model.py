"""graphc.Model and model files: parameters found from the graph, counts, configuration parsing."""

import pytest

from graphc.modelfile import ModelFileError, parse_config
from graphc.models import lstm_step, mlp


def test_parameters_are_found_and_counted_like_common_frameworks():
    model = mlp.build(sizes=(4, 8, 3))
    assert [p.name for p in model.params] == ["W1", "b1", "W2", "b2"]
    assert model.parameter_count() == 4 * 8 + 8 + 8 * 3 + 3
    n, m = 5, 3  # an LSTM cell with one bias per gate: 4 (m (n + m) + m)
    assert lstm_step.build(inputs=n, hidden=m).parameter_count() == 4 * (m * (n + m) + m)


def test_configuration_values_are_python_literals_or_strings():
    assert parse_config(["sizes=(2, 8, 1)", "activation=relu", "hidden=4"]) == {
        "sizes": (2, 8, 1), "activation": "relu", "hidden": 4}
    assert parse_config(["bidirectional=false", "peephole=TRUE", "recompute=False"]) == {
        "bidirectional": False, "peephole": True, "recompute": False}
    with pytest.raises(ModelFileError, match="NAME=VALUE"):
        parse_config(["oops"])
