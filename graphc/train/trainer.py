"""``Trainer``: epochs of mini-batches through one compiled training step, with validation, early stopping,
metrics, a progress bar, checkpoints that resume exactly, and Ctrl-C that stops after the current step.

Every source of randomness is derived from the trainer's seed: the initial parameters (per parameter name), the
order of each epoch's batches (from (seed, epoch)) and each step's dropout masks (from (seed, step)). So the same
seed gives the same run, and a run resumed from a checkpoint continues exactly as the uninterrupted one would.
"""

from __future__ import annotations

import logging
import math
import pathlib
import signal
import sys
import threading
import time
from contextlib import contextmanager

import numpy as np

from ..backends.compiled import to_host
from ..backends.reference import evaluate
from ..distributed import DataParallelStep
from ..errors import GraphcError, NumericalError
from ..init import init_params
from ..model import Model
from ..optim import SGD, Optimizer, TrainingStep, from_config
from ..version import __version__
from . import checkpoint as checkpoints
from .callbacks import StepFunction
from .history import History, read_log, write_log
from .progress import LogProgress, compile_clock

# Library messages go through logging (shown on stderr by default, as warnings; configure "graphc" to change it).
log = logging.getLogger("graphc.train")
METRIC_OUTPUTS = ("accuracy",)  # model outputs averaged like the loss when a model has them


class Trainer:
    """Trains ``model``'s parameters (``trainer.params``, arrays updated in place) with ``optimizer``.

    ``track_gradients=N`` records every parameter's gradient norm every N steps (``history.gradient_norms``).
    ``metadata`` is stored in checkpoints as given (the command line keeps the model file and vocabulary there).
    ``workers=N`` trains data-parallel on N Ray workers (a local cluster, or the one at ``address``), with the
    same results as one process; ``close()`` stops them.
    """

    def __init__(self, model: Model, optimizer: Optimizer | None = None, *, params: dict | None = None, seed: int = 0,
                 backend: str = "cpu", check_numerics: bool = True, progress: bool = True,
                 track_gradients: int = 0, metadata: dict | None = None, workers: int | None = None,
                 address: str | None = None):
        self.model, self.optimizer, self.seed = model, optimizer or SGD(0.1), seed
        self.params = params if params is not None else init_params(model.params, seed)
        self.metrics = [name for name in METRIC_OUTPUTS if name in model.outputs]
        options = {"outputs": self._extra_outputs(), "backend": backend, "gradient_norms": track_gradients > 0,
                   "keep_previous": check_numerics}
        if workers is None:
            self.step = TrainingStep(model.loss, model.params, self.optimizer, **options,
                                     resident_outputs=len(model.state))
        else:
            # a state's final value among the outputs (``_extra_outputs``: the metrics, then the states)
            carried = {name: len(self.metrics) + index for index, name in enumerate(model.state)}
            self.step = DataParallelStep(model.loss, model.params, self.optimizer, **options, workers=workers,
                                         address=address, carried=carried)
        self.backend, self.check_numerics, self.progress = backend, check_numerics, progress
        self.track_gradients, self.metadata = track_gradients, dict(metadata or {})
        self.history = History()
        self.logged: tuple | None = None  # (checkpoint path, counts) of this run's last write of the history log
        self.epoch, self.position = 0, 0  # the epoch under way and the batches of it already trained on
        self.carry: dict[str, np.ndarray] = {}  # the state the next batch starts from (on a GPU, device arrays)
        self.callbacks: list = []  # fit's, while it runs
        self.sums: dict[str, float] = {}  # the current epoch's unit-weighted loss and metrics so far
        self.best: dict[str, np.ndarray] = {}
        self.best_loss, self.waited = math.inf, 0

    # --- training ------------------------------------------------------------------------------------------------
    def fit(self, train, validation=None, *, epochs: int = 1, max_steps: int | None = None,
            max_seconds: float | None = None, patience: int | None = None, min_delta: float = 0.0,
            restore_best: bool = True, checkpoint=None, callback=None, callbacks=()) -> History:
        """Train until ``epochs`` epochs are done (counted from the start of the run, so a resumed trainer given
        the same arguments finishes the same run), ``max_steps`` steps in all, ``max_seconds`` of training (from
        the end of the first step, which compiles), or ``patience`` epochs without the validation loss improving
        by more than ``min_delta`` (then the best parameters are restored). ``train`` and ``validation`` are
        ``graphc.data.Windows`` or ``Examples``. With ``checkpoint`` (a path) a checkpoint is written after every
        epoch and when stopped early; Ctrl-C stops after the current step and writes one (to
        ``<model>-interrupted.npz`` when no path is given). ``callback(step, loss)`` runs after every step;
        ``callbacks`` (``graphc.train.Callback``s) are called after each step, validation and epoch record. A run
        with validation data that stops inside an epoch (by steps or time) still scores it: the history's last
        epoch record then says ``partial``. The bar shows the latest validation scores."""
        if patience is not None and validation is None:
            raise GraphcError("early stopping (patience) needs validation data")
        self.callbacks = list(callbacks) + ([StepFunction(callback)] if callback is not None else [])
        started, stop, compiling = time.perf_counter(), None, True
        with (_progress_bar(self, train, epochs, max_steps, max_seconds) as bar, _interruptible() as interrupted,
              compile_clock(bar, self.model.name) as compiled):

            def show(epoch: int, refresh: bool = True) -> None:
                """The bar's figures: the epoch, the last step's loss, the latest validation scores."""
                scores = _validation_shown(self.history.epochs[-1]) if self.history.epochs else {}
                bar.set_postfix(epoch=epoch, loss=significant(self.history.losses[-1]), **scores, refresh=refresh)

            while self.epoch < epochs and stop is None:
                if self.position == 0:
                    self.carry = self._zero_carry(train)
                    self.sums = {}
                for index, batch in enumerate(train.batches(self.epoch, self.seed)):
                    if index < self.position:  # resuming in the middle of an epoch
                        continue
                    units = train.units(batch)
                    loss = self._train_step(batch, units, train.carries_state)
                    self.position += 1
                    if compiling:  # neither the time limit nor the rate shown should count compiling
                        compiled(time.perf_counter() - started)
                        compiling, started = False, time.perf_counter()
                        bar.set_description(self.model.name, refresh=False)
                        bar.reset(bar.total)
                    bar.update(units)
                    show(self.epoch + 1, refresh=False)
                    for hook in self.callbacks:
                        hook.on_step(self, self.step.steps_taken, loss)
                    if interrupted():
                        stop = "interrupted"
                    elif max_steps is not None and self.step.steps_taken >= max_steps:
                        stop = "max steps"
                    elif max_seconds is not None and time.perf_counter() - started >= max_seconds:
                        stop = "time limit"
                    if stop:
                        break
                if self.position >= len(train):
                    stop = self._end_epoch(train, validation, patience, min_delta, restore_best) or stop
                    if self.history.losses:
                        show(self.epoch)
                    if checkpoint is not None:
                        self.save(checkpoint)
            if validation is not None and stop in ("max steps", "time limit") and self.position > 0:
                # Stopped inside an epoch: its validation scores are reported all the same, in a record marked
                # partial (the epoch itself goes on when the run is resumed).
                self._add_record({**self._record(train, validation), "partial": True})
                show(self.epoch + 1)
        self.step.synchronize()  # a GPU backend's parameters are copied back here, not at every step
        self.history.stopped = stop or "completed"
        for hook in self.callbacks:
            hook.on_end(self, self.history)
        if stop == "interrupted":
            path = self.save(checkpoint or f"{self.model.name}-interrupted.npz")
            log.warning("interrupted after step %d; checkpoint written to %s", self.step.steps_taken, path)
        elif checkpoint is not None and stop in ("max steps", "time limit"):
            self.save(checkpoint)
        return self.history

    def _train_step(self, batch: dict, units: int, carries_state: bool) -> float:
        feeds = {**batch, **self.carry, **self.params}
        results = self.step(feeds, seed=(self.seed * 1_000_003 + self.step.steps_taken) % 2**31)
        loss, *outputs = results if self.step.outputs else [results]
        loss = float(loss)
        if not math.isfinite(loss):
            if self.check_numerics:  # the step kept the values before it: trace the non-finite loss to its op
                self.step.rollback()
                diagnose(self.model, {name: to_host(value) for name, value in feeds.items()})
            raise NumericalError(f"the loss is not finite at step {self.step.steps_taken + 1}",
                                 self.model.loss.node.location)
        finals = self._accumulate(self.sums, loss, outputs, units)
        if carries_state:
            self.carry = dict(zip(self.model.state, finals))
        self.history.losses.append(loss)
        if self.track_gradients and self.step.steps_taken % self.track_gradients == 0:
            self.history.gradient_norms.append({"step": self.step.steps_taken, **self.step.last_gradient_norms})
        return loss

    def _record(self, train, validation) -> dict:
        """This epoch's record so far: the training means, and the validation scores when there is validation."""
        record = {"epoch": self.epoch + 1, "steps": self.step.steps_taken, **_means(self.sums, train.unit)}
        self.step.synchronize()
        if validation is not None:
            scores = self.evaluate(validation)
            for hook in self.callbacks:
                hook.on_validation(self, scores)
            record.update({f"validation_{name}": value for name, value in scores.items()})
        return record

    def _add_record(self, record: dict) -> None:
        self.history.epochs.append(record)
        for hook in self.callbacks:
            hook.on_epoch(self, record)

    def _end_epoch(self, train, validation, patience, min_delta, restore_best) -> str | None:
        record = self._record(train, validation)
        stop = None
        if validation is not None:
            if record["validation_loss"] < self.best_loss - min_delta:
                self.best_loss, self.waited = record["validation_loss"], 0
                if patience is not None and restore_best:
                    self.best = {k: v.copy() for k, v in self.params.items()}
            else:
                self.waited += 1
                if patience is not None and self.waited >= patience:
                    stop = "early stopping"
                    if self.best:
                        for name, value in self.best.items():
                            self.params[name][...] = value
                        self.step.invalidate()
        self._add_record(record)
        self.epoch, self.position, self.sums = self.epoch + 1, 0, {}
        return stop

    def close(self) -> None:
        """Stop the data-parallel workers (and the local cluster started for them); nothing to do in one process."""
        if isinstance(self.step, DataParallelStep):
            self.step.close()

    # --- evaluation ----------------------------------------------------------------------------------------------
    def evaluate(self, data) -> dict[str, float]:
        """The unit-weighted mean loss and metrics over ``data`` (and perplexity for token streams), the state
        carried across windows."""
        self.step.synchronize()
        carry, sums = self._zero_carry(data), {}
        wanted = self.metrics + list(self.model.state.values())
        for batch in data.batches(0, self.seed):
            values = self.model.evaluate({**batch, **carry, **self.params}, self.backend)
            loss, outputs = values["loss"], [values[name] for name in wanted]
            finals = self._accumulate(sums, float(loss), outputs, data.units(batch))
            if data.carries_state:
                carry = dict(zip(self.model.state, finals))
        return _means(sums, data.unit)

    def _accumulate(self, sums: dict, loss: float, outputs: list, units: int) -> list:
        """Add a batch's loss and metrics, weighted by its units, to ``sums``; return the final states."""
        for name, value in zip(["loss", *self.metrics], [loss, *outputs[:len(self.metrics)]]):
            sums[name] = sums.get(name, 0.0) + float(value) * units
        sums["units"] = sums.get("units", 0) + units
        return outputs[len(self.metrics):]

    def _extra_outputs(self) -> list:
        """The metrics, then the final states that the next batch starts from."""
        return [self.model.outputs[name] for name in self.metrics + list(self.model.state.values())]

    def _zero_carry(self, data) -> dict[str, np.ndarray]:
        if self.model.state and not data.carries_state:
            raise GraphcError(f"model {self.model.name!r} carries state from batch to batch; train it on Windows")
        return zero_state(self.model, data.batch) if self.model.state else {}

    # --- checkpoints ---------------------------------------------------------------------------------------------
    def save(self, path):
        """Write a checkpoint (atomically) from which ``Trainer.resume`` continues this run exactly; the history
        goes to the log beside it (``history.write_log``)."""
        self.step.synchronize()
        previous = self.logged if self.logged and self.logged[0] == pathlib.Path(path) else None
        counts = write_log(path, self.history, previous[1] if previous else None)
        self.logged = (pathlib.Path(path), counts)
        metadata = {**self.metadata, "graphc": __version__,
                    "model": {**self.metadata.get("model", {}), "name": self.model.name,
                              "config": _jsonable(self.model.config)},
                    "params": checkpoints.describe_params(self.model.params),
                    "optimizer": self.optimizer.config(), "seed": self.seed,
                    "position": {"epoch": self.epoch, "batch": self.position, "sums": self.sums},
                    "early_stopping": {"best_loss": _finite_or_none(self.best_loss), "waited": self.waited},
                    "history": {**counts, "stopped": self.history.stopped}}
        carry = {name: to_host(value) for name, value in self.carry.items()}
        return checkpoints.save(path, checkpoints.Checkpoint(self.params, self.step.state_dict(), carry, self.best,
                                                             metadata))

    @classmethod
    def resume(cls, path, model: Model, optimizer: Optimizer | None = None, allow_nonfinite: bool = False,
               **options) -> Trainer:
        """A trainer in the state a checkpoint saved: parameters, optimizer state, position in the data, carried
        state, history. The optimizer is rebuilt from the checkpoint unless one is given. A checkpoint holding NaN
        or Inf parameters is refused unless ``allow_nonfinite``."""
        saved = checkpoints.load(path, allow_nonfinite=allow_nonfinite)
        checkpoints.check_matches(saved, model, source=str(path))
        metadata = saved.metadata
        optimizer = optimizer or from_config(metadata["optimizer"])
        options.setdefault("metadata", {k: v for k, v in metadata.items() if k not in _OWN_METADATA})
        trainer = cls(model, optimizer, params=saved.params, seed=metadata["seed"], **options)
        trainer.step.load_state_dict(saved.optimizer)
        position = metadata["position"]
        trainer.epoch, trainer.position, trainer.sums = position["epoch"], position["batch"], position["sums"]
        trainer.carry, trainer.best = saved.carry, saved.best
        best = metadata["early_stopping"]["best_loss"]
        trainer.best_loss = math.inf if best is None else best
        trainer.waited = metadata["early_stopping"]["waited"]
        trainer.history = read_log(path, metadata["history"])
        return trainer


_OWN_METADATA = ("format", "graphc", "params", "optimizer", "seed", "position", "early_stopping", "history")


def zero_state(model: Model, batch: int) -> dict[str, np.ndarray]:
    """The all-zero initial state of a model that carries state (``model.state``) for ``batch`` lanes."""
    return {name: np.zeros((batch,) + tuple(model.inputs[name].shape[1:]), model.inputs[name].dtype)
            for name in model.state}


def significant(value: float) -> str:
    """A loss or metric in 4 significant digits: 0.0000123 reads 1.23e-05, not 0.0000."""
    return f"{value:.4g}"


def _validation_shown(record: dict) -> dict[str, str]:
    """The validation scores of an epoch record, as the progress bar shows them."""
    short = {"loss": "val_loss", "perplexity": "val_ppl", "accuracy": "val_acc"}
    return {label: significant(record[f"validation_{name}"]) for name, label in short.items()
            if record.get(f"validation_{name}") is not None}


def _means(sums: dict, unit: str) -> dict[str, float]:
    """The unit-weighted means of ``_accumulate``'s sums, and perplexity for token streams."""
    units = sums.get("units") or 1
    means = {name: value / units for name, value in sums.items() if name != "units"}
    if unit == "tokens" and "loss" in means:
        means["perplexity"] = math.exp(min(means["loss"], 700.0))
    return means


def diagnose(model: Model, feeds: dict):
    """Raise NumericalError naming the op that first turns finite values into NaN or Inf."""
    evaluate(model.loss, feeds, check_numerics=True)
    raise NumericalError("the loss is not finite (the parameters already held NaN or Inf)", model.loss.node.location)


@contextmanager
def _interruptible():
    """Ctrl-C sets a flag the loop reads after each step (a second Ctrl-C interrupts at once)."""
    flag = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield flag.is_set
        return

    def handler(signum, frame):
        flag.set()
        signal.signal(signal.SIGINT, previous)
        log.warning("stopping after this step (Ctrl-C again to stop at once)")

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield flag.is_set
    finally:
        signal.signal(signal.SIGINT, previous)


def _units_ahead(train, position: int, steps: int) -> int:
    """The units (examples, tokens) of the next ``steps`` batches from ``position`` on, epoch after epoch (a last
    batch of an epoch may be smaller)."""
    if steps <= 0 or len(train) == 0:
        return 0
    take = min(steps, max(len(train) - position, 0))  # the rest of the current epoch
    epochs, rest = divmod(steps - take, len(train))  # whole epochs counted at once: --steps 10**8 is instant
    return (train.units_between(position, position + take) + epochs * train.units_between(0, len(train))
            + train.units_between(0, rest))


@contextmanager
def _progress_bar(trainer: Trainer, train, epochs, max_steps, max_seconds):
    from tqdm.auto import tqdm

    remaining = (epochs - trainer.epoch) * len(train) - trainer.position
    if max_steps is not None:
        remaining = min(remaining, max_steps - trainer.step.steps_taken)
    total = None if max_seconds is not None else _units_ahead(train, trainer.position, remaining)
    if trainer.progress and not sys.stderr.isatty():  # a log file or a pipe: plain lines, no carriage returns
        with LogProgress(total, train.unit, f"{trainer.model.name} (compiling)") as log:
            yield log
        return
    with tqdm(total=total, unit=f" {train.unit}", unit_scale=True, disable=not trainer.progress, leave=True,
              dynamic_ncols=True, desc=f"{trainer.model.name} (compiling)") as bar:
        yield bar


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value if isinstance(value, (str, int, float, bool, type(None))) else str(value)


def _finite_or_none(value: float):
    return value if math.isfinite(value) else None
