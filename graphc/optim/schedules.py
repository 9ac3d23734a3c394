"""Learning-rate schedules: the factor the base learning rate is multiplied by at each optimizer step.

``schedule(step)`` takes the number of steps already taken (0 for the first); ``StepDecay(every=100, gamma=0.5)``
halves the rate every 100 steps, as ``torch.optim.lr_scheduler.StepLR`` does when stepped once per optimizer step.
"""

from __future__ import annotations

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
        if not isinstance(every, int) or every < 1:
            raise GraphcError(f"step schedule: every must be a positive integer, got {every!r}")
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


SCHEDULES = {schedule.name: schedule for schedule in (Constant, StepDecay, ExponentialDecay)}


def schedule_from_config(config) -> Schedule:
    """A schedule from ``Schedule.config()``, or from a name alone (``"constant"``)."""
    settings = {"name": config} if isinstance(config, str) else dict(config)
    name = settings.pop("name", "constant")
    if name not in SCHEDULES:
        raise GraphcError(f"unknown schedule {name!r}; known: {', '.join(SCHEDULES)}")
    try:
        return SCHEDULES[name](**settings)
    except TypeError as error:
        raise GraphcError(f"{name} schedule: {error}") from None


def _check_gamma(gamma) -> None:
    if not isinstance(gamma, (int, float)) or not 0 < gamma <= 1:
        raise GraphcError(f"a decay factor gamma must be in (0, 1], got {gamma!r}")
