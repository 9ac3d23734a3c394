"""graphc.optim against torch.optim: the same model and data in both, five steps, parameters compared after each."""

import numpy as np
import pytest
import torch

import graphc
from graphc import optim
from graphc.optim import TrainingStep
from graphc.optim.step import GRADIENT

STEPS = 5


def model():
    x = graphc.input("x", ("batch", 3), "float64")
    y = graphc.input("y", ("batch", 2), "float64")
    W = graphc.param("W", (3, 4), dtype="float64")
    b = graphc.param("b", (4,), init="normal", dtype="float64")
    V = graphc.param("V", (4, 2), dtype="float64")
    loss = graphc.mean((graphc.tanh(x @ W + b) @ V - y) ** 2)
    return loss, [W, b, V]


def torch_loss(tensors, x, y):
    W, b, V = tensors
    return ((torch.tanh(x @ W + b) @ V - y) ** 2).mean()


CASES = {
    "sgd": (lambda: optim.SGD(0.1), lambda p: torch.optim.SGD(p, lr=0.1), None),
    "momentum": (lambda: optim.SGD(0.1, momentum=0.9), lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9), None),
    "nesterov+decay": (lambda: optim.SGD(0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
                       lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01), None),
    "adagrad": (lambda: optim.Adagrad(0.1), lambda p: torch.optim.Adagrad(p, lr=0.1), None),
    "rmsprop": (lambda: optim.RMSprop(0.01), lambda p: torch.optim.RMSprop(p, lr=0.01), None),
    "rmsprop+momentum": (lambda: optim.RMSprop(0.01, momentum=0.5),
                         lambda p: torch.optim.RMSprop(p, lr=0.01, momentum=0.5), None),
    "adam+decay": (lambda: optim.Adam(0.01, weight_decay=0.01),
                   lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=0.01), None),
    "sgd+clip": (lambda: optim.SGD(0.1, clip_norm=0.05), lambda p: torch.optim.SGD(p, lr=0.1), 0.05),
    "adam+step schedule": (lambda: optim.Adam(0.05, schedule=optim.StepDecay(every=2, gamma=0.5)),
                           lambda p: torch.optim.Adam(p, lr=0.05),
                           lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=2, gamma=0.5)),
    "sgd+cosine schedule": (lambda: optim.SGD(0.1, schedule=optim.Cosine(total=4, minimum=0.2)),
                            lambda p: torch.optim.SGD(p, lr=0.1),
                            lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=4, eta_min=0.02)),
    "adam+warmup schedule": (lambda: optim.Adam(0.05, schedule=optim.Warmup(3, start=0.25)),
                             lambda p: torch.optim.Adam(p, lr=0.05),
                             lambda o: torch.optim.lr_scheduler.LinearLR(o, start_factor=0.25, total_iters=3)),
    "rmsprop+exponential+clip": (
        lambda: optim.RMSprop(0.01, clip_norm=0.5, schedule=optim.ExponentialDecay(0.8)),
        lambda p: torch.optim.RMSprop(p, lr=0.01), (0.5, lambda o: torch.optim.lr_scheduler.ExponentialLR(o, 0.8))),
}


@pytest.mark.parametrize("case", CASES)
def test_each_optimizer_matches_torch_optim_step_for_step(case):
    make, make_torch, extra = CASES[case]
    clip = extra if isinstance(extra, float) else extra[0] if isinstance(extra, tuple) else None
    make_schedule = extra[1] if isinstance(extra, tuple) else extra if callable(extra) else None
    loss, params = model()
    rng = np.random.default_rng(1)
    data = {"x": rng.normal(size=(6, 3)), "y": rng.normal(size=(6, 2))}
    values = graphc.init_params(params, seed=3)
    tensors = [torch.tensor(values[p.name].copy(), requires_grad=True) for p in params]
    torch_optimizer = make_torch(tensors)
    scheduler = make_schedule(torch_optimizer) if make_schedule else None
    step = optim.TrainingStep(loss, params, make())
    x, y = torch.tensor(data["x"]), torch.tensor(data["y"])
    for _ in range(STEPS):
        ours = float(step({**data, **values}))
        torch_optimizer.zero_grad()
        theirs = torch_loss(tensors, x, y)
        theirs.backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(tensors, clip)
        torch_optimizer.step()
        if scheduler is not None:
            scheduler.step()
        assert ours == pytest.approx(float(theirs.detach()), rel=1e-12)
        for p, t in zip(params, tensors):
            np.testing.assert_allclose(values[p.name], t.detach().numpy(), rtol=1e-10, atol=1e-13)
    assert step.steps_taken == STEPS


def test_clipping_only_shrinks_and_the_gradient_norms_are_reported():
    loss, params = model()
    rng = np.random.default_rng(2)
    data = {"x": rng.normal(size=(6, 3)), "y": 10 * rng.normal(size=(6, 2))}
    values = graphc.init_params(params, seed=0)
    before = {k: v.copy() for k, v in values.items()}
    gradients = graphc.evaluate(graphc.grad(loss, params), {**data, **values})
    step = optim.TrainingStep(loss, params, optim.SGD(1.0, clip_norm=0.25), gradient_norms=True)
    step({**data, **values})
    for p, g in zip(params, gradients):
        assert step.last_gradient_norms[p.name] == pytest.approx(np.linalg.norm(g), rel=1e-12)
    moved = np.sqrt(sum(np.sum((values[p.name] - before[p.name]) ** 2) for p in params))
    assert moved == pytest.approx(0.25, rel=1e-5)  # lr 1: the update is the clipped gradient, of norm 0.25


def test_optimizer_state_round_trips_and_is_checked():
    loss, params = model()
    step = optim.TrainingStep(loss, params, optim.Adam(0.01))
    data = {"x": np.ones((2, 3)), "y": np.zeros((2, 2))}
    values = graphc.init_params(params, seed=0)
    step({**data, **values})
    saved = {k: v.copy() for k, v in step.state_dict().items()}
    assert sorted(saved) == sorted(["steps_taken"] + [f"optimizer.{s}.{p.name}" for p in params
                                                       for s in ("mean", "mean_square")])
    again = optim.TrainingStep(loss, params, optim.Adam(0.01))
    again.load_state_dict(saved)
    assert again.steps_taken == 1 and all(np.array_equal(again.state[k], saved[k]) for k in again.state)
    with pytest.raises(graphc.GraphcError, match="missing"):
        optim.TrainingStep(loss, params, optim.SGD(0.1, momentum=0.9)).load_state_dict(saved)


@pytest.mark.parametrize("config, message", [
    ({"name": "adamw"}, "unknown optimizer 'adamw'"),
    ({"name": "sgd", "lr": -1}, "lr must be a number >= 0"),
    ({"name": "sgd", "lr": 0.1, "nesterov": True}, "Nesterov momentum needs momentum > 0"),
    ({"name": "adam", "schedule": {"name": "step", "every": 0}}, "every must be a positive integer"),
    ({"name": "adam", "schedule": "onecycle"}, "unknown schedule 'onecycle'"),
    ({"name": "adam", "schedule": {"name": "cosine"}}, "cosine schedule: "),
    ({"name": "rmsprop", "beta": 0.9}, "unexpected keyword argument 'beta'"),
])
def test_bad_optimizer_settings_are_named(config, message):
    with pytest.raises(graphc.GraphcError, match=message):
        optim.from_config(config)


def test_an_optimizer_config_rebuilds_the_same_optimizer():
    adam = optim.Adam(0.002, betas=(0.8, 0.99), clip_norm=1.0, schedule=optim.StepDecay(10, 0.5))
    again = optim.from_config(adam.config())
    assert again.config() == adam.config()
    assert [again.learning_rate(s) for s in (0, 9, 10, 25)] == [0.002, 0.002, 0.001, 0.0005]


def test_a_warmup_then_cosine_schedule_and_its_config_round_trip():
    schedule = optim.Warmup(2, start=0.5, then=optim.Cosine(total=4, minimum=0.1))
    expected = [0.5, 0.75, 1.0] + [0.1 + 0.9 * (1 + np.cos(np.pi * k / 4)) / 2 for k in (1, 2, 3, 4)] + [0.1]
    assert [schedule(step) for step in range(8)] == pytest.approx(expected, rel=1e-15)
    again = optim.schedule_from_config(schedule.config())
    assert [again(step) for step in range(8)] == [schedule(step) for step in range(8)]
    with pytest.raises(graphc.GraphcError, match="total must be a positive integer"):
        optim.Cosine(total=0)
    with pytest.raises(graphc.GraphcError, match="start must be in"):
        optim.Warmup(3, start=2)


def test_an_update_of_fed_gradients_is_the_training_step_without_its_backward_pass():
    """``TrainingStep(None, ...)``, the update half of a data-parallel step, clips, decays and applies fed gradients
    exactly as the whole step does with its own."""
    x = graphc.input("x", ("batch", 3), "float64")
    w = graphc.param("w", (3, 2), dtype="float64")
    b = graphc.param("b", (2,), dtype="float64")
    loss = graphc.tanh(x @ w + b).sum()
    whole = TrainingStep(loss, [w, b], optim.Adam(0.1, clip_norm=0.5, weight_decay=0.01))
    update = TrainingStep(None, [w, b], optim.Adam(0.1, clip_norm=0.5, weight_decay=0.01), gradient_norms=True)
    gradients = graphc.compile(graphc.grad(loss, [w, b]))
    start = graphc.init_params([w, b], seed=2)
    mine, theirs = ({k: v.copy() for k, v in start.items()} for _ in range(2))
    rng = np.random.default_rng(5)
    for _ in range(4):
        feeds = {"x": rng.normal(size=(4, 3))}
        whole({**feeds, **theirs})
        fed = dict(zip((GRADIENT + "w", GRADIENT + "b"), gradients({**feeds, **mine})))
        assert update({**mine, **fed}) is None
    for name in start:
        np.testing.assert_allclose(mine[name], theirs[name], rtol=1e-13, atol=1e-15)
    assert set(update.last_gradient_norms) == {"w", "b"}
