"""The update rules of math.md as graphs: SGD (plain, momentum, Nesterov), Adagrad, RMSprop and Adam.

An optimizer turns one parameter, its gradient and its state slots into the new parameter and new slots. Everything
that changes from step to step without being per-parameter state (the scheduled learning rate, Adam's bias
corrections) is a scalar ``scalars(step)`` computes on the host in float64 and feeds to the compiled step, so the
step's graph, and its kernels, stay the same for the whole run. The rules follow ``torch.optim``'s formulas (and its
defaults), so the two agree step for step.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod

from ..errors import GraphcError
from ..ops import sqrt
from ..tensor import Tensor
from .schedules import Constant, Schedule, schedule_from_config


class Optimizer(ABC):
    """Base class: hyperparameters, the slots kept per parameter, and the update as graph nodes."""

    name = ""
    slots: tuple[str, ...] = ()  # per-parameter state, each shaped like its parameter, starting at zero

    def __init__(self, lr: float, *, weight_decay: float = 0.0, clip_norm: float | None = None,
                 schedule: Schedule | None = None):
        _check("lr", lr, allow_zero=True)  # 0 leaves the parameters as they are (useful to test a pipeline)
        _check("weight_decay", weight_decay, allow_zero=True)
        if clip_norm is not None:
            _check("clip_norm", clip_norm)
        self.lr = float(lr)
        self.weight_decay = float(weight_decay)
        self.clip_norm = None if clip_norm is None else float(clip_norm)
        self.schedule = schedule or Constant()

    def learning_rate(self, step: int) -> float:
        """The learning rate of step ``step`` (0 for the first)."""
        return self.lr * self.schedule(step)

    def scalars(self, step: int) -> dict[str, float]:
        """The per-step scalars the update reads, for step ``step`` (0 for the first)."""
        return {"lr": self.learning_rate(step)}

    @abstractmethod
    def update(self, p: Tensor, g: Tensor, slots: dict[str, Tensor], scalars: dict[str, Tensor]):
        """(new parameter, {slot: new value}) for one parameter."""

    def config(self) -> dict:
        """Everything needed to rebuild this optimizer (stored in checkpoints)."""
        return {"name": self.name, "lr": self.lr, "weight_decay": self.weight_decay, "clip_norm": self.clip_norm,
                "schedule": self.schedule.config(), **self._hyperparameters()}

    def _hyperparameters(self) -> dict:
        return {}

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={v!r}" for k, v in self.config().items()
                             if k != "name" and v not in (None, 0, False, {"name": "constant"}))
        return f"{type(self).__name__}({settings})"


class SGD(Optimizer):
    """Stochastic gradient descent, with optional (Nesterov) momentum."""

    name = "sgd"

    def __init__(self, lr: float = 0.1, momentum: float = 0.0, nesterov: bool = False, **options):
        super().__init__(lr, **options)
        if not 0 <= momentum < 1:
            raise GraphcError(f"sgd: momentum must be in [0, 1), got {momentum}")
        if nesterov and momentum == 0:
            raise GraphcError("sgd: Nesterov momentum needs momentum > 0")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)
        self.slots = ("velocity",) if momentum else ()

    def update(self, p, g, slots, scalars):
        if not self.momentum:
            return p - scalars["lr"] * g, {}  # θ ← θ - η g
        velocity = self.momentum * slots["velocity"] + g  # v ← μ v + g
        direction = g + self.momentum * velocity if self.nesterov else velocity  # Nesterov: g + μ v; else v
        return p - scalars["lr"] * direction, {"velocity": velocity}  # θ ← θ - η d

    def _hyperparameters(self):
        return {"momentum": self.momentum, "nesterov": self.nesterov}


class Adagrad(Optimizer):
    """Per-coordinate steps shrinking with the sum of squared gradients seen so far."""

    name = "adagrad"
    slots = ("sum_of_squares",)

    def __init__(self, lr: float = 0.01, eps: float = 1e-10, **options):
        super().__init__(lr, **options)
        self.eps = float(eps)

    def update(self, p, g, slots, scalars):
        total = slots["sum_of_squares"] + g * g  # s ← s + g²
        return p - scalars["lr"] * g / (sqrt(total) + self.eps), {"sum_of_squares": total}  # θ ← θ - η g/(√s + ε)

    def _hyperparameters(self):
        return {"eps": self.eps}


class RMSprop(Optimizer):
    """Steps divided by a running root-mean-square of the gradient, with optional momentum."""

    name = "rmsprop"

    def __init__(self, lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8, momentum: float = 0.0, **options):
        super().__init__(lr, **options)
        if not 0 <= alpha < 1 or not 0 <= momentum < 1:
            raise GraphcError(f"rmsprop: alpha and momentum must be in [0, 1), got {alpha} and {momentum}")
        self.alpha, self.eps, self.momentum = float(alpha), float(eps), float(momentum)
        self.slots = ("mean_square", "velocity") if momentum else ("mean_square",)

    def update(self, p, g, slots, scalars):
        mean_square = self.alpha * slots["mean_square"] + (1 - self.alpha) * g * g  # a ← α a + (1-α) g²
        scaled = g / (sqrt(mean_square) + self.eps)  # g / (√a + ε)
        if not self.momentum:
            return p - scalars["lr"] * scaled, {"mean_square": mean_square}
        velocity = self.momentum * slots["velocity"] + scaled  # v ← μ v + g/(√a + ε)
        return p - scalars["lr"] * velocity, {"mean_square": mean_square, "velocity": velocity}

    def _hyperparameters(self):
        return {"alpha": self.alpha, "eps": self.eps, "momentum": self.momentum}


class Adam(Optimizer):
    """Steps from bias-corrected running means of the gradient and of its square."""

    name = "adam"
    slots = ("mean", "mean_square")

    def __init__(self, lr: float = 0.001, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, **options):
        super().__init__(lr, **options)
        if not all(0 <= beta < 1 for beta in betas):
            raise GraphcError(f"adam: betas must be in [0, 1), got {betas}")
        self.beta1, self.beta2 = (float(beta) for beta in betas)
        self.eps = float(eps)

    def scalars(self, step):
        t = step + 1
        # the bias corrections 1 - β^t, folded into the step size and the denominator as torch.optim does
        return {"step_size": self.learning_rate(step) / (1 - self.beta1 ** t),
                "root_correction": math.sqrt(1 - self.beta2 ** t)}

    def update(self, p, g, slots, scalars):
        mean = self.beta1 * slots["mean"] + (1 - self.beta1) * g  # m ← β₁ m + (1-β₁) g
        mean_square = self.beta2 * slots["mean_square"] + (1 - self.beta2) * g * g  # v ← β₂ v + (1-β₂) g²
        denominator = sqrt(mean_square) / scalars["root_correction"] + self.eps  # √(v / (1-β₂ᵗ)) + ε
        return p - scalars["step_size"] * (mean / denominator), {"mean": mean, "mean_square": mean_square}
        # θ ← θ - η/(1-β₁ᵗ) · m / (√(v/(1-β₂ᵗ)) + ε)

    def _hyperparameters(self):
        return {"betas": [self.beta1, self.beta2], "eps": self.eps}


OPTIMIZERS = {rule.name: rule for rule in (SGD, Adagrad, RMSprop, Adam)}


def from_config(config: dict) -> Optimizer:
    """The optimizer that ``Optimizer.config()`` describes (or a hand-written subset of it: name and options)."""
    settings = dict(config)
    name = settings.pop("name", "sgd")
    if name not in OPTIMIZERS:
        raise GraphcError(f"unknown optimizer {name!r}; known: {', '.join(OPTIMIZERS)}")
    if "schedule" in settings:
        settings["schedule"] = schedule_from_config(settings["schedule"])
    if "betas" in settings:
        settings["betas"] = tuple(settings["betas"])
    try:
        return OPTIMIZERS[name](**settings)
    except TypeError as error:
        raise GraphcError(f"{name}: {error}") from None


def _check(what: str, value, allow_zero: bool = False) -> None:
    if (not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value)
            or value < 0 or (value == 0 and not allow_zero)):
        kind = "a number >= 0" if allow_zero else "a positive number"
        raise GraphcError(f"{what} must be {kind}, got {value!r}")
