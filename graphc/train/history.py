"""``History``: what a training run measured, kept in checkpoints and drawn by ``graphc.train.plots``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class History:
    losses: list[float] = field(default_factory=list)  # the training loss of every step
    epochs: list[dict] = field(default_factory=list)  # per epoch: loss, metrics, validation_<metric>
    gradient_norms: list[dict] = field(default_factory=list)  # {"step": s, parameter name: norm, ...}
    stopped: str = ""  # completed, max steps, time limit, early stopping or interrupted

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, saved: dict) -> History:
        return cls(**saved)
