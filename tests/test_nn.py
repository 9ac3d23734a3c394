"""graphc.nn: recurrent and convolutional layers against torch.nn with the same weights (outputs, final states and
every parameter's gradient, in float64), the LSTM variants of math.md against NumPy, and parameter counts."""

import numpy as np
import pytest
import torch

import graphc as gc
from graphc import nn, optim
from graphc.errors import ShapeError
from graphc.interop import from_torch

T, B, N, M = 5, 3, 4, 6
X = np.random.default_rng(0).normal(size=(T, B, N))


def torch_gradients(module, kind):
    """Gradients of torch's parameters under graphc's names (a summed bias receives either bias's gradient)."""
    grads = {}
    directions = ("", "_reverse") if module.bidirectional else ("",)
    for l in range(module.num_layers):  # noqa: E741
        for suffix, ours in zip(directions, (".", ".reverse.")):
            get = dict(module.named_parameters())
            grads[f"l{l}{ours}W"] = get[f"weight_ih_l{l}{suffix}"].grad.numpy().T
            grads[f"l{l}{ours}U"] = get[f"weight_hh_l{l}{suffix}"].grad.numpy().T
            grads[f"l{l}{ours}b"] = get[f"bias_ih_l{l}{suffix}"].grad.numpy()
            if kind == "GRU":
                grads[f"l{l}{ours}b_hidden"] = get[f"bias_hh_l{l}{suffix}"].grad.numpy()
    return grads


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("layers,bidirectional", [(1, False), (2, False), (1, True), (2, True)])
def test_layers_equal_torch_outputs_states_and_gradients(kind, layers, bidirectional):
    torch.manual_seed(layers + 2 * bidirectional)
    module = getattr(torch.nn, kind)(N, M, num_layers=layers, bidirectional=bidirectional).double()
    layer = getattr(nn, kind)(N, M, num_layers=layers, bidirectional=bidirectional, name=kind.lower(),
                              dtype="float64")
    xs = gc.input("xs", (T, "batch", N), "float64")
    outputs, finals = layer(xs)
    weights = np.random.default_rng(1).normal(size=(T, B, layer.output_size))
    loss = (outputs * gc.input("r", outputs.shape, "float64")).sum() + sum(f[0].sum() for f in finals)
    params = list(layer.params.values())
    feeds = {"xs": X, "r": weights, **from_torch(module, layer)}
    values = gc.evaluate([outputs, *[f[0] for f in finals], *gc.grad(loss, params)], feeds)

    inputs = torch.tensor(X, requires_grad=True)
    expected, state = module(inputs)
    h_n = state[0] if kind == "LSTM" else state
    ((expected * torch.tensor(weights)).sum() + h_n.sum()).backward()
    np.testing.assert_allclose(values[0], expected.detach().numpy(), atol=1e-10)
    for i, final in enumerate(values[1:1 + len(finals)]):
        np.testing.assert_allclose(final, h_n[i].detach().numpy(), atol=1e-10)
    grads = torch_gradients(module, kind)
    for short, got in zip(layer.params, values[1 + len(finals):]):
        np.testing.assert_allclose(got, grads[short], atol=1e-5, err_msg=short)


@pytest.mark.parametrize("kind,count", [("RNN", lambda n, m: m * (n + m) + m),
                                        ("LSTM", lambda n, m: 4 * (m * (n + m) + m)),
                                        ("GRU", lambda n, m: 3 * (m * (n + m) + 2 * m))])
def test_parameter_counts_are_the_frameworks(kind, count):
    assert getattr(nn, kind)(N, M, name=kind).parameter_count() == count(N, M)
    assert getattr(nn, kind)(N, M, bidirectional=True, name=f"{kind}2").parameter_count() == 2 * count(N, M)
    torch_count = sum(p.numel() for p in getattr(torch.nn, kind)(N, M).parameters())
    two_biases = 0 if kind == "GRU" else count(N, M) // (M * (N + M) + M) * M  # torch keeps b_ih and b_hh
    assert count(N, M) + two_biases == torch_count


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def numpy_lstm(params, name, peephole, gates):
    order = [g for g in ("input", "forget") if g in gates] + ["cell"] + (["output"] if "output" in gates else [])
    W, U, b = (params[f"{name}.l0.{k}"] for k in "WUb")
    h = c = np.zeros((B, M))
    outputs = []
    for t in range(T):
        z = X[t] @ W + h @ U + b
        pre = {g: z[:, k * M:(k + 1) * M] for k, g in enumerate(order)}

        def gate(g, cell, pre=pre):
            if g not in gates:
                return 1.0
            return sigmoid(pre[g] + (params[f"{name}.l0.peephole_{g}"] * cell if peephole else 0))

        c = gate("forget", c) * c + gate("input", c) * np.tanh(pre["cell"])
        h = gate("output", c) * np.tanh(c)
        outputs.append(h)
    return np.stack(outputs)


@pytest.mark.parametrize("peephole,gates", [(True, ("input", "forget", "output")), (False, ("forget",)),
                                            (True, ("input", "output")), (False, ())])
def test_lstm_variants(peephole, gates):
    name = f"lstm_{int(peephole)}_{'_'.join(gates) or 'gateless'}"
    layer = nn.LSTM(N, M, peephole=peephole, gates=gates, name=name, dtype="float64")
    assert layer.parameter_count() == (len(gates) + 1) * (M * (N + M) + M) + (len(gates) * M if peephole else 0)
    xs = gc.input("xs", (T, B, N), "float64")
    outputs, _ = layer(xs)
    params = gc.init_params(list(layer.params.values()), seed=3)
    params = {k: v + 0.1 for k, v in params.items()}  # non-zero peepholes and biases
    np.testing.assert_allclose(gc.evaluate(outputs, {"xs": X, **params}), numpy_lstm(params, name, peephole, gates),
                               atol=1e-12)
    assert gc.check_grad(outputs, list(layer.params.values()), {"xs": X, **params}) < 1e-7


def test_gru_with_reset_before_the_matmul_is_math_md():
    layer = nn.GRU(N, M, reset_after=False, name="gru_before", dtype="float64")
    assert layer.parameter_count() == 3 * (M * (N + M) + M)
    outputs, _ = layer(gc.input("xs", (T, B, N), "float64"))
    params = {k: v + 0.1 for k, v in gc.init_params(list(layer.params.values()), seed=4).items()}
    W, U, b = (params[f"gru_before.l0.{k}"] for k in "WUb")
    h, expected = np.zeros((B, M)), []
    for t in range(T):
        gx = X[t] @ W + b
        r = sigmoid(gx[:, :M] + h @ U[:, :M])
        u = 1 - sigmoid(gx[:, M:2 * M] + h @ U[:, M:2 * M])  # math.md's update gate
        candidate = np.tanh(gx[:, 2 * M:] + (r * h) @ U[:, 2 * M:])
        h = (1 - u) * h + u * candidate
        expected.append(h)
    np.testing.assert_allclose(gc.evaluate(outputs, {"xs": X, **params}), np.stack(expected), atol=1e-12)
    assert gc.check_grad(outputs, list(layer.params.values()), {"xs": X, **params}) < 1e-7


@pytest.mark.parametrize("merge", ["sum", "product"])
def test_bidirectional_merges(merge):
    layer = nn.RNN(N, M, bidirectional=True, merge=merge, name=f"birnn_{merge}", dtype="float64")
    forward = nn.RNN(N, M, name=f"birnn_{merge}.forward_check", dtype="float64")
    outputs, _ = layer(gc.input("xs", (T, B, N), "float64"))
    params = gc.init_params(list(layer.params.values()), seed=5)
    assert outputs.shape == (T, B, M)
    both = gc.evaluate(outputs, {"xs": X, **params})
    single = {f"birnn_{merge}.forward_check.l0.{k}": params[f"birnn_{merge}.l0.{k}"] for k in "WUb"}
    reverse = {f"birnn_{merge}.forward_check.l0.{k}": params[f"birnn_{merge}.l0.reverse.{k}"] for k in "WUb"}
    xs = gc.input("xs", (T, B, N), "float64")
    ahead = gc.evaluate(forward(xs)[0], {"xs": X, **single})
    behind = gc.evaluate(forward(xs)[0], {"xs": X[::-1].copy(), **reverse})[::-1]
    np.testing.assert_allclose(both, ahead + behind if merge == "sum" else ahead * behind, atol=1e-12)


def test_dense_and_embedding_equal_torch():
    torch.manual_seed(0)
    linear, embedding = torch.nn.Linear(N, M).double(), torch.nn.Embedding(7, N).double()
    dense, table = nn.Dense(N, M, "tanh", name="dense", dtype="float64"), nn.Embedding(7, N, name="emb",
                                                                                      dtype="float64")
    ids = np.array([[1, 6], [0, 3]])
    out = dense(table(gc.input("ids", (2, 2), "int64")))
    feeds = {"ids": ids, **from_torch(linear, dense), **from_torch(embedding, table)}
    expected = torch.tanh(linear(embedding(torch.tensor(ids)))).detach().numpy()
    np.testing.assert_allclose(gc.evaluate(out, feeds), expected, atol=1e-12)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_compiled_stacked_bidirectional_layers_equal_the_reference(kind):
    layer = getattr(nn, kind)(N, M, num_layers=2, bidirectional=True, name=f"compiled_{kind}")
    outputs, _ = layer(gc.input("xs", (T, "batch", N)))
    loss = (outputs * outputs).sum()
    params = list(layer.params.values())
    feeds = {"xs": X.astype(np.float32), **gc.init_params(params, seed=6)}
    everything = [loss, *gc.grad(loss, params)]
    for got, want in zip(gc.compile(everything)(feeds), gc.evaluate(everything, feeds)):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("width,stride,padding", [(3, 1, 0), (3, 2, 1), (1, 1, 0), (4, 3, 2)])
def test_conv1d_equals_torch_outputs_and_gradients(width, stride, padding):
    torch.manual_seed(width + stride)
    module = torch.nn.Conv1d(N, M, width, stride=stride, padding=padding).double()
    conv = nn.Conv1D(N, M, width, stride=stride, padding=padding, name="conv", dtype="float64")
    xs = gc.input("xs", ("time", "batch", N), "float64")  # named dimensions: the windows are built symbolically
    ys = conv(xs)
    loss = (ys * ys * ys).sum()
    feeds = {"xs": X, **from_torch(module, conv)}
    got = gc.evaluate([ys, *gc.grad(loss, [conv.W, conv.b, xs])], feeds)
    x = torch.tensor(X.transpose(1, 2, 0), requires_grad=True)  # torch's layout: (batch, channels, time)
    y = module(x)
    (y * y * y).sum().backward()
    want = [y.detach().numpy().transpose(2, 0, 1), module.weight.grad.numpy().transpose(2, 1, 0),
            module.bias.grad.numpy(), x.grad.numpy().transpose(2, 0, 1)]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, atol=1e-12)
    assert conv.parameter_count() == sum(p.numel() for p in module.parameters())


def test_text_cnn_is_counted_like_torch_compiles_like_the_reference_and_learns():
    model = nn.text_cnn_classifier(vocabulary=20, classes=3, embed=8, channels=6, widths=(2, 4))
    torch_count = 20 * 8 + sum(8 * 6 * w + 6 for w in (2, 4)) + (2 * 6 * 3 + 3)
    assert model.parameter_count() == torch_count
    rng = np.random.default_rng(3)
    tokens, labels = rng.integers(0, 20, (9, 16)), rng.integers(0, 3, 16)
    feeds = {"tokens": tokens, "labels": labels, **gc.init_params(model.params, seed=1)}
    everything = [model.loss, *gc.grad(model.loss, model.params)]
    for got, want in zip(gc.compile(everything)(feeds), gc.evaluate(everything, feeds)):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    step = gc.compile_step(model.loss, model.params, optimizer=optim.Adam(0.05))
    losses = [float(step(feeds)) for _ in range(40)]
    assert losses[-1] < 0.2 * losses[0]  # it fits a batch of 16 random labels


def test_conv1d_mistakes_are_named():
    with pytest.raises(ShapeError, match="width >= 1"):
        nn.Conv1D(4, 2, 0)
    with pytest.raises(ShapeError, match=r"takes \(time, batch, 4\), not \(5, 3, 7\)"):
        nn.Conv1D(4, 2, 3)(gc.input("x", (5, 3, 7)))
    with pytest.raises(ShapeError, match="'max' or 'mean'"):
        nn.pool_over_time(gc.input("y", (5, 3, 2)), "sum")


def test_dropout_between_layers_is_training_only_and_evaluation_equals_torch_in_eval_mode():
    torch.manual_seed(0)
    module = torch.nn.LSTM(N, M, num_layers=2, dropout=0.5).double().eval()
    layer = nn.LSTM(N, M, num_layers=2, dropout=0.5, name="lstm", dtype="float64")
    xs = gc.input("xs", (T, "batch", N), "float64")
    outputs, _ = layer(xs)
    assert gc.Graph([outputs.node]).count_by_op().get("dropout") == 1  # between the two layers, not after
    model = gc.Model("stack", {"xs": xs}, {"outputs": outputs}, outputs.sum())
    feeds = {"xs": X, **from_torch(module, layer)}
    expected = module(torch.tensor(X))[0].detach().numpy()
    np.testing.assert_allclose(model.evaluate(feeds)["outputs"], expected, atol=1e-10)  # evaluation: no dropout
    trained = gc.evaluate(outputs, feeds)  # the graph as built (training) drops half of layer 0's outputs
    assert np.abs(trained - expected).max() > 1e-3
    with pytest.raises(ShapeError, match="dropout must be a rate"):
        nn.GRU(N, M, num_layers=2, dropout=1.0)


def test_dropout_zeroes_about_its_rate_and_scales_the_survivors(backend):
    x = gc.input("x", (100, 400), "float64")
    for values in (gc.evaluate(gc.dropout(x, 0.3), {"x": np.ones((100, 400))}),
                   gc.compile(gc.dropout(x, 0.3), backend=backend)({"x": np.ones((100, 400))})):
        values = np.asarray(values)
        assert abs((values == 0).mean() - 0.3) < 0.01
        np.testing.assert_allclose(np.unique(values), [0.0, 1 / 0.7], rtol=1e-15)


def test_tied_weights_share_the_embedding_table_and_both_uses_reach_its_gradient():
    from graphc.gradcheck import check_grad
    from graphc.train import zero_state

    tied = nn.language_model("lstm", 11, embed=6, hidden=6, tie_weights=True, dtype="float64")
    untied = nn.language_model("lstm", 11, embed=6, hidden=6, dtype="float64")
    assert {p.name for p in untied.params} - {p.name for p in tied.params} == {"output.W"}
    assert untied.parameter_count() - tied.parameter_count() == 6 * 11
    rng = np.random.default_rng(0)
    feeds = {"tokens": rng.integers(0, 11, (T, B)), "targets": rng.integers(0, 11, (T, B)),
             **zero_state(tied, B), **gc.init_params(tied.params, 0)}
    assert check_grad(tied.loss, tied.params, feeds) < 1e-6
    same = {**feeds, "output.W": feeds["embedding.table"].T.copy()}  # untied, with W set to the table's transpose
    assert float(gc.evaluate(tied.loss, feeds)) == pytest.approx(float(gc.evaluate(untied.loss, same)), rel=1e-12)
    with pytest.raises(ShapeError, match=r"tie_weights needs the recurrent layers' output size \(6\) to equal"):
        nn.language_model("lstm", 11, embed=4, hidden=6, tie_weights=True)


def test_evaluation_leaves_dropout_out_and_warns_about_a_loop_body_that_keeps_it():
    x = gc.input("x", (T, "batch", N), "float64")
    outside = gc.dropout(x, 0.5)
    evaluated = gc.passes.for_evaluation(gc.Graph([outside.node]))
    assert evaluated.outputs == (x.node,)
    final, _ = gc.scan(lambda h, xt: (gc.dropout(h + xt, 0.5), None), gc.input("h0", ("batch", N), "float64"), x)
    with pytest.warns(UserWarning, match="a loop body with dropout keeps it in evaluation"):
        gc.passes.for_evaluation(gc.Graph([final.node]))
