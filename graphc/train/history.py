"""``History``: what a training run measured, drawn by ``graphc.train.plots``, and its log beside a checkpoint.

A long run's history grows with every step, so a checkpoint does not hold it: rewriting it after every epoch made
a run's cost grow with the square of its length (issue 18 measured ``graphc train xor --epochs N`` at 10.6 s for
500 and 239.5 s for 4000; with the log, 8.7 s and 31.6 s on 2026-12-02, AMD EPYC). It is appended to a JSON-lines
file beside the checkpoint (``checkpoint.history.jsonl``), one line per save with what is new, and the checkpoint
records how many of each kind of record belong to it, so lines an interrupted run appended after its last
checkpoint are never read back.
"""

from __future__ import annotations

import json
import os
import pathlib
import warnings
from dataclasses import dataclass, field

from ..files import atomic_write

KINDS = ("losses", "epochs", "gradient_norms")
# The keys of an epoch record that say where it stands, not what was measured (the rest are losses and metrics).
RECORD_KEYS = ("epoch", "steps", "partial")


@dataclass
class History:
    losses: list[float] = field(default_factory=list)  # the training loss of every step
    epochs: list[dict] = field(default_factory=list)  # per epoch: loss, metrics, validation_<metric>
    gradient_norms: list[dict] = field(default_factory=list)  # {"step": s, parameter name: norm, ...}
    stopped: str = ""  # completed, max steps, time limit, early stopping or interrupted

    def counts(self) -> dict[str, int]:
        return {kind: len(getattr(self, kind)) for kind in KINDS}

    def __repr__(self) -> str:
        """A line, not every loss: ``History(300 steps, last loss 0.0123, 3 epochs, stopped: completed)``."""
        last = f", last loss {self.losses[-1]:.4g}" if self.losses else ""
        return f"History({len(self.losses)} steps{last}, {len(self.epochs)} epochs, stopped: {self.stopped or '-'})"


def log_path(checkpoint) -> pathlib.Path:
    """The history log beside a checkpoint: ``run/checkpoint.npz`` -> ``run/checkpoint.history.jsonl``."""
    checkpoint = pathlib.Path(checkpoint)
    return checkpoint.with_name(f"{checkpoint.stem}.history.jsonl")


def write_log(checkpoint, history: History, written: dict[str, int] | None) -> dict[str, int]:
    """Bring the log beside ``checkpoint`` up to date with ``history``: append what is new since ``written`` (the
    counts this run last wrote there), or write it whole (this run's first write there, which also drops lines an
    earlier, interrupted run left). Returns the counts now in the log: what the checkpoint records."""
    path = log_path(checkpoint)
    counts = history.counts()
    if written is None or not path.exists():
        atomic_write(path, (json.dumps({kind: getattr(history, kind) for kind in KINDS}) + "\n").encode())
        return counts
    new = {kind: getattr(history, kind)[written[kind]:] for kind in KINDS}
    with open(path, "a", encoding="utf-8") as file:
        file.write(json.dumps(new) + "\n")
        file.flush()
        os.fsync(file.fileno())
    return counts


def read_log(checkpoint, recorded: dict) -> History:
    """The history a checkpoint records (its ``history`` metadata: counts and ``stopped``), from its log; a
    checkpoint written before the log holds the history itself."""
    if any(isinstance(recorded.get(kind), list) for kind in KINDS):  # written before the log: the history itself
        return History(**{kind: list(recorded.get(kind, [])) for kind in KINDS}, stopped=recorded.get("stopped", ""))
    history = History(stopped=recorded.get("stopped", ""))
    path = log_path(checkpoint)
    if not path.exists():
        if any(recorded.get(kind) for kind in KINDS):
            warnings.warn(f"{path} is missing: the run continues without the history of its earlier steps",
                          stacklevel=3)
        return history
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            chunk = json.loads(line)
        except ValueError:  # a line cut short by a crash: after anything a checkpoint records
            break
        for kind in KINDS:
            getattr(history, kind).extend(chunk.get(kind, []))
    for kind in KINDS:
        del getattr(history, kind)[recorded.get(kind, 0):]
    return history
