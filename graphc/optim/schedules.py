"""Learning-rate schedules: the factor the base learning rate is multiplied by at each optimizer step.

``schedule(step)`` takes the number of steps already taken (0 for the first); ``StepDecay(every=100, gamma=0.5)``
halves the rate every 100 steps, as ``torch.optim.lr_scheduler.StepLR`` does when stepped once per optimizer step
(``Cosine`` is ``CosineAnnealingLR``, ``Warmup`` is ``LinearLR`` followed by another schedule).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod

from ..errors import GraphcError


class Schedule(ABC):
    name = ""

    @abstractmethod
    def __call__(self, step: int) -> float:
        """The factor at step ``step``."""

    def config(self) -> dict:
        return {"name": self.name, **vars(self)}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in vars(self).items())})"


class Constant(Schedule):
    name = "constant"

    def __call__(self, step):
        return 1.0


class StepDecay(Schedule):
    """``gamma ** (step // every)``."""

    name = "step"

    def __init__(self, every: int, gamma: float = 0.1):
        _check_steps("step", "every", every)
        _check_gamma(gamma)
        self.every, self.gamma = every, float(gamma)

    def __call__(self, step):
        return self.gamma ** (step // self.every)


class ExponentialDecay(Schedule):
    """``gamma ** step``."""

    name = "exponential"

    def __init__(self, gamma: float):
        _check_gamma(gamma)
        self.gamma = float(gamma)

    def __call__(self, step):
        return self.gamma ** step


class Cosine(Schedule):
    """Half a cosine from 1 down to ``minimum`` over ``total`` steps, then ``minimum``:
    ``minimum + (1 - minimum) (1 + cos(pi min(step, total) / total)) / 2``."""

    name = "cosine"

    def __init__(self, total: int, minimum: float = 0.0):
        _check_steps("cosine", "total", total)
        _check_factor("cosine", "minimum", minimum)
        self.total, self.minimum = total, float(minimum)

    def __call__(self, step):
        progress = min(step, self.total) / self.total
        return self.minimum + (1.0 - self.minimum) * (1.0 + math.cos(math.pi * progress)) / 2.0


class Warmup(Schedule):
    """A linear warm-up over ``steps`` steps from ``start`` to 1, then ``then`` (counted from the warm-up's end):
    ``start + (1 - start) step / steps`` while ``step < steps``, else ``then(step - steps)``."""

    name = "warmup"

    def __init__(self, steps: int, start: float = 0.1, then: Schedule | None = None):
        _check_steps("warmup", "steps", steps)
        _check_factor("warmup", "start", start)
        self.steps, self.start, self.then = steps, float(start), then or Constant()

    def __call__(self, step):
        if step < self.steps:
            return self.start + (1.0 - self.start) * step / self.steps
        return self.then(step - self.steps)

    def config(self) -> dict:
        return {"name": self.name, "steps": self.steps, "start": self.start, "then": self.then.config()}


SCHEDULES = {schedule.name: schedule for schedule in (Constant, StepDecay, ExponentialDecay, Cosine, Warmup)}


def schedule_from_config(config) -> Schedule:
    """A schedule from ``Schedule.config()``, or from a name alone (``"constant"``)."""
    settings = {"name": config} if isinstance(config, str) else dict(config)
    name = settings.pop("name", "constant")
    if name not in SCHEDULES:
        raise GraphcError(f"unknown schedule {name!r}; known: {', '.join(SCHEDULES)}")
    if "then" in settings:  # a warm-up's following schedule
        settings["then"] = schedule_from_config(settings["then"])
    try:
        return SCHEDULES[name](**settings)
    except TypeError as error:
        raise GraphcError(f"{name} schedule: {error}") from None


def _check_steps(schedule: str, name: str, value) -> None:
    if not isinstance(value, int) or value < 1:
        raise GraphcError(f"{schedule} schedule: {name} must be a positive integer, got {value!r}")


def _check_factor(schedule: str, name: str, value) -> None:
    if not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise GraphcError(f"{schedule} schedule: {name} must be in [0, 1], got {value!r}")


def _check_gamma(gamma) -> None:
    if not isinstance(gamma, (int, float)) or not 0 < gamma <= 1:
        raise GraphcError(f"a decay factor gamma must be in (0, 1], got {gamma!r}")
