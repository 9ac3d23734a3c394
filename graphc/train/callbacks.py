"""Callbacks: what a training run calls after each step, each validation and each epoch record
(``Trainer.fit(callbacks=[...])``), and two that keep logs: ``CSVLogger`` (a row per epoch record) and
``TensorBoardLogger`` (TensorBoard's event files, through the optional ``tensorboardX`` package)."""

from __future__ import annotations

import csv
import pathlib

from ..errors import GraphcError
from .history import RECORD_KEYS


class Callback:
    """Override what you need; each hook gets the trainer (its ``params``, ``history``, ``step.steps_taken``)."""

    def on_step(self, trainer, step: int, loss: float) -> None:
        """After each training step: ``step`` is the number of steps taken so far, ``loss`` the step's loss."""

    def on_validation(self, trainer, scores: dict) -> None:
        """After the validation data was scored (loss, metrics, perplexity for token streams)."""

    def on_epoch(self, trainer, record: dict) -> None:
        """After an epoch's record joined the history (a run stopped inside an epoch: its ``partial`` record)."""

    def on_end(self, trainer, history) -> None:
        """When ``fit`` returns, however it stopped."""


class StepFunction(Callback):
    """``fit(callback=f)``: ``f(step, loss)`` after every step."""

    def __init__(self, function):
        self.function = function

    def on_step(self, trainer, step, loss):
        self.function(step, loss)


class CSVLogger(Callback):
    """A row per epoch record in ``path``: epoch, steps, partial, then the record's losses and metrics in the
    order of the first record. An existing file with the same columns is appended to (a resumed run)."""

    def __init__(self, path):
        self.path = pathlib.Path(path)
        self.columns: list[str] | None = None

    def on_epoch(self, trainer, record):
        if self.columns is None:
            self.columns = [*RECORD_KEYS, *(k for k in record if k not in RECORD_KEYS)]
            if not self._continues():
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with open(self.path, "w", newline="", encoding="utf-8") as file:
                    csv.writer(file).writerow(self.columns)
        extra = [k for k in record if k not in self.columns]
        if extra:
            raise GraphcError(f"CSVLogger {self.path}: a record with columns the first one lacked: {extra}")
        row = {**record, "partial": bool(record.get("partial", False))}
        with open(self.path, "a", newline="", encoding="utf-8") as file:
            csv.writer(file).writerow(["" if row.get(k) is None else row[k] for k in self.columns])

    def _continues(self) -> bool:
        if not self.path.exists():
            return False
        with open(self.path, newline="", encoding="utf-8") as file:
            header = next(csv.reader(file), None)
        if header != self.columns:
            raise GraphcError(f"CSVLogger: {self.path} holds other columns ({header}); give another path")
        return True


class TensorBoardLogger(Callback):
    """Scalars for TensorBoard in ``folder``: ``train/loss`` at every step, and each epoch record's numbers
    (``epoch/loss``, ``epoch/validation_loss``, ...) at the step it was recorded. Needs ``tensorboardX``."""

    def __init__(self, folder):
        try:
            from tensorboardX import SummaryWriter
        except ImportError:
            raise GraphcError("TensorBoardLogger needs the tensorboardX package: pip install tensorboardX") from None
        self.folder, self.writer_class, self.writer = str(folder), SummaryWriter, None

    def _write(self, tag: str, value: float, step: int) -> None:
        if self.writer is None:  # opened by the run's first number, closed at its end (a later fit opens another)
            self.writer = self.writer_class(self.folder)
        self.writer.add_scalar(tag, value, step)

    def on_step(self, trainer, step, loss):
        self._write("train/loss", loss, step)

    def on_epoch(self, trainer, record):
        for name, value in record.items():
            if name not in RECORD_KEYS and isinstance(value, (int, float)):
                self._write(f"epoch/{name}", value, record["steps"])

    def on_end(self, trainer, history):
        if self.writer is not None:
            self.writer.close()  # writes what its queue still holds
            self.writer = None
