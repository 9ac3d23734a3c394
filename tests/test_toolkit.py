"""The model summary, the gradient diagnostics and the plots."""

import numpy as np
import pytest

import graphc
from graphc import data, nn
from graphc.train import History, diagnostics, plots


def test_summary_lists_layers_shapes_and_the_parameter_counts_of_the_frameworks():
    n, m, vocabulary = 16, 32, 65
    text = nn.language_model("lstm", vocabulary, embed=n, hidden=m, layers=2).summary()
    rows = {line.split()[0]: line for line in text.splitlines()}
    assert rows["embedding"].split()[-1] == f"{vocabulary * n:,}"
    assert rows["lstm.l0"].split()[-1] == f"{4 * (m * (n + m) + m):,}"  # one bias per gate
    assert rows["lstm.l1"].split()[-1] == f"{4 * (m * (m + m) + m):,}"
    assert rows["output"].split()[-1] == f"{m * vocabulary + vocabulary:,}"
    assert "(time, batch, 32), (batch, 32) x2" in rows["lstm.l0"] and "(time, batch, 65)" in rows["output"]
    total = vocabulary * n + 4 * (m * (n + m) + m) + 4 * (m * 2 * m + m) + m * vocabulary + vocabulary
    assert f"Total parameters: {total:,}" in text
    tagger = nn.sequence_tagger(50, 8, embed=4, hidden=6).summary()
    assert "lstm.l0.reverse" in tagger and f"{4 * (6 * (4 + 6) + 6):,}" in tagger


def test_scoped_parameters_of_a_handwritten_model_are_counted_in_their_scope():
    x = graphc.input("x", ("batch", 3))
    with graphc.scope("encoder"):
        h = graphc.tanh(x @ graphc.param("W", (3, 5)))
    with graphc.scope("decoder"):
        y = h @ graphc.param("V", (5, 2))
    text = graphc.Model("toy", {"x": x}, {"y": y}, y.sum()).summary()
    rows = {line.split()[0]: line for line in text.splitlines()}
    assert rows["encoder"].split()[-1] == "15" and "(batch, 5)" in rows["encoder"]
    assert rows["decoder"].split()[-1] == "10" and "Total parameters: 25" in text


def test_hidden_gradient_norms_match_finite_differences():
    model = nn.language_model("rnn", 7, embed=3, hidden=4, dtype="float64")
    params = graphc.init_params(model.params, seed=1)
    rng = np.random.default_rng(0)
    tokens, targets = rng.integers(0, 7, (5, 1)), rng.integers(0, 7, (5, 1))
    norms = diagnostics.hidden_gradient_norms(model, params, tokens, targets)
    finals = model.outputs["final.rnn.l0.h"]
    last = graphc.cross_entropy(model.outputs["logits"][-1], model.inputs["targets"][-1])
    for t in range(5):
        state = np.zeros((1, 4)) if t == 0 else graphc.evaluate(
            finals, {"tokens": tokens[:t], "targets": targets[:t], "state.rnn.l0.h": np.zeros((1, 4)), **params})
        feeds = {"tokens": tokens[t:], "targets": targets[t:], **params}
        numeric = []
        for i in range(4):
            step = np.zeros((1, 4))
            step[0, i] = 1e-6
            up = graphc.evaluate(last, {**feeds, "state.rnn.l0.h": state + step})
            down = graphc.evaluate(last, {**feeds, "state.rnn.l0.h": state - step})
            numeric.append((up - down) / 2e-6)
        assert norms[t] == pytest.approx(np.linalg.norm(numeric), rel=1e-6)


def _png_size(path):
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")


def test_plots_are_png_files_with_a_panel_per_measure(tmp_path):
    rng = np.random.default_rng(0)
    losses = list(3 * np.exp(-np.arange(40) / 20) + rng.uniform(0, 0.1, 40))
    epochs = [{"epoch": 1, "steps": 20, "loss": 2.0, "perplexity": 7.4, "validation_loss": 2.1,
               "validation_perplexity": 8.2}, {"epoch": 2, "steps": 40, "loss": 1.5, "perplexity": 4.5,
                                               "validation_loss": 1.7, "validation_perplexity": 5.5}]
    both = _png_size(plots.loss_curve(History(losses, epochs), tmp_path / "lm.png", "lstm_lm"))
    alone = _png_size(plots.loss_curve(History(losses), tmp_path / "loss.png"))
    assert both[0] > 1.5 * alone[0] and both[1] == alone[1]  # a second panel for the perplexity
    norms = [{"step": s, "W": 1.0 / s, "b": 0.5 / s} for s in range(1, 10)]
    assert _png_size(plots.gradient_norms(History(losses, [], norms), tmp_path / "g.png"))[0] > 0
    curves = {"rnn": np.geomspace(1e-6, 1e-1, 10), "lstm": np.geomspace(1e-4, 1e-1, 10)}
    assert _png_size(plots.vanishing_gradients(curves, tmp_path / "v.png"))[0] > 0


def test_windows_and_examples_cover_the_data_once_per_epoch():
    windows = data.Windows(np.arange(101), seq_len=5, batch=4)
    assert len(windows) == 5 and sum(windows.units(b) for b in windows.batches()) == 100
    examples = data.Examples({"x": np.arange(10.0), "y": np.arange(10)}, batch=4)
    first = list(examples.batches(epoch=0, seed=1))
    assert [len(b["x"]) for b in first] == [4, 4, 2]
    assert sorted(np.concatenate([b["y"] for b in first])) == list(range(10))
    assert all(np.array_equal(b["x"], b["y"]) for b in first)  # the arrays are shuffled together
    again = list(examples.batches(epoch=0, seed=1))
    other = list(examples.batches(epoch=1, seed=1))
    assert all(np.array_equal(a["y"], b["y"]) for a, b in zip(first, again))
    assert not all(np.array_equal(a["y"], b["y"]) for a, b in zip(first, other))
    with pytest.raises(graphc.GraphcError, match="disagree on the number of examples"):
        data.Examples({"x": np.zeros(3), "y": np.zeros(4)}, batch=2)


def test_a_summary_prints_as_text_and_draws_as_an_html_table_in_jupyter():
    x = graphc.input("x", ("batch", 3))
    with graphc.scope("<encoder>"):  # a name HTML must escape
        y = graphc.tanh(x @ graphc.param("W", (3, 5)))
    summary = graphc.Model("toy", {"x": x}, {"y": y}, y.sum()).summary()
    assert isinstance(summary, str) and "Total parameters: 15" in summary
    table = summary._repr_html_()
    assert table.startswith("<table>") and table.count("<tr>") == len(summary.rows) + 2  # header, rows, total
    assert "<td style='text-align:left'>&lt;encoder&gt;</td>" in table and ">15</td>" in table
