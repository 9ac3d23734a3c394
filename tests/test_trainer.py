"""The Trainer: seeded runs, metrics, validation, early stopping, Ctrl-C, and checkpoints that resume exactly."""

import csv
import math
import os
import pathlib
import re
import signal
import struct
import sys

import numpy as np
import pytest

import graphc
from graphc import data, nn, optim, train
from graphc.train import CheckpointError, Trainer, checkpoint, language, progress


def classifier(classes=3, dtype="float64"):
    x = graphc.input("x", ("batch", 4), dtype)
    labels = graphc.input("labels", ("batch",), "int64")
    W = graphc.param("W", (4, classes), dtype=dtype)
    b = graphc.param("b", (classes,), init="zeros", dtype=dtype)
    logits = x @ W + b
    return graphc.Model("classifier", {"x": x, "labels": labels},
                        {"logits": logits, "accuracy": graphc.accuracy(logits, labels)},
                        graphc.cross_entropy(logits, labels))


def examples(count=50, seed=0, batch=8):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(count, 4))
    labels = np.argmax(x @ rng.normal(size=(4, 3)), axis=1)  # learnable: a linear rule
    return data.Examples({"x": x, "labels": labels}, batch)


def small_lm(vocabulary):
    return nn.language_model("lstm", len(vocabulary), embed=4, hidden=8)


def test_the_same_seed_gives_the_same_run_and_another_seed_another():
    runs = []
    for seed in (7, 7, 8):
        trainer = Trainer(classifier(), optim.SGD(0.5, momentum=0.5), seed=seed, progress=False)
        runs.append((trainer.fit(examples(), epochs=3).losses, trainer.params))
    assert runs[0][0] == runs[1][0] and len(runs[0][0]) == 3 * 7
    assert all(np.array_equal(runs[0][1][k], runs[1][1][k]) for k in runs[0][1])
    assert runs[0][0] != runs[2][0]


def test_epoch_metrics_are_the_weighted_means_of_the_steps_and_validation_matches_the_interpreter():
    model, train, validation = classifier(), examples(), examples(count=30, seed=1)
    trainer = Trainer(model, optim.Adam(0.05), progress=False)
    history = trainer.fit(train, validation, epochs=4)
    assert [e["epoch"] for e in history.epochs] == [1, 2, 3, 4] and history.stopped == "completed"
    sizes = [8] * 6 + [2]
    assert history.epochs[0]["loss"] == pytest.approx(np.dot(history.losses[:7], sizes) / 50, rel=1e-12)
    logits, loss = graphc.evaluate([model.outputs["logits"], model.loss], {**trainer.params, **validation.arrays})
    last = history.epochs[-1]
    assert last["validation_loss"] == pytest.approx(float(loss), rel=1e-10)
    expected = np.mean(np.argmax(logits, axis=1) == validation.arrays["labels"])
    assert last["validation_accuracy"] == pytest.approx(expected, rel=1e-12)
    assert last["loss"] < history.epochs[0]["loss"] and last["accuracy"] > 0.8


def test_early_stopping_waits_patience_epochs_and_restores_the_best_parameters():
    train, validation = examples(), examples(count=30, seed=1)
    trainer = Trainer(classifier(), optim.SGD(0.5), seed=3, progress=False)
    # no later epoch can beat the first by 100: the run stops after 1 + patience epochs, back at epoch 1
    history = trainer.fit(train, validation, epochs=10, patience=2, min_delta=100.0)
    assert history.stopped == "early stopping" and len(history.epochs) == 3
    first = Trainer(classifier(), optim.SGD(0.5), seed=3, progress=False)
    first.fit(train, epochs=1)
    assert all(np.array_equal(trainer.params[k], first.params[k]) for k in first.params)


def test_ctrl_c_stops_after_the_step_and_resuming_gives_the_same_loss_curve(tmp_path, language_data, caplog):
    vocabulary, train, validation = language_data
    path = tmp_path / "run.npz"

    def fresh():
        return Trainer(small_lm(vocabulary), optim.Adam(0.01, clip_norm=1.0), seed=5, progress=False,
                       metadata={"vocabulary": vocabulary.to_dict()})

    whole = fresh()
    expected = whole.fit(train, validation, epochs=3, checkpoint=tmp_path / "whole.npz")
    steps = len(expected.losses)
    assert steps == 3 * len(train) and math.isfinite(expected.epochs[-1]["validation_perplexity"])

    def press_ctrl_c(step, loss):
        if step == steps // 2 + 1:  # mid-epoch, with state carried from the window before
            os.kill(os.getpid(), signal.SIGINT)

    interrupted = fresh()
    history = interrupted.fit(train, validation, epochs=3, checkpoint=path, callback=press_ctrl_c)
    assert history.stopped == "interrupted" and len(history.losses) == steps // 2 + 1
    said = [(r.name, r.levelname, r.getMessage()) for r in caplog.records]  # messages go through logging
    assert ("graphc.train", "WARNING", "stopping after this step (Ctrl-C again to stop at once)") in said
    assert ("graphc.train", "WARNING", f"interrupted after step {steps // 2 + 1}; checkpoint written to {path}") in said
    resumed = Trainer.resume(path, small_lm(vocabulary), progress=False)
    assert resumed.metadata["vocabulary"] == vocabulary.to_dict()
    finished = resumed.fit(train, validation, epochs=3)
    assert finished.losses == expected.losses  # exactly: same batches, same carried state, same optimizer state
    assert finished.epochs == expected.epochs
    assert all(np.array_equal(resumed.params[k], whole.params[k]) for k in whole.params)
    # the validation perplexity is the one language.perplexity computes by its own loop
    assert expected.epochs[-1]["validation_perplexity"] == pytest.approx(
        language.perplexity(whole.model, whole.params, validation.stream, seq_len=6, batch=2), rel=1e-6)


def test_loading_another_models_checkpoint_names_what_differs(tmp_path, language_data):
    vocabulary, train, _ = language_data
    trainer = Trainer(small_lm(vocabulary), progress=False)
    trainer.fit(train, max_steps=1)
    path = trainer.save(tmp_path / "lm.npz")
    bigger = nn.language_model("lstm", len(vocabulary), embed=4, hidden=16)
    with pytest.raises(CheckpointError, match=r"lstm.l0.U: float32\(8, 32\) in the checkpoint, float32\(16, 64\) "
                                              r"in the model.*hidden.: 8"):
        Trainer.resume(path, bigger)
    with pytest.raises(CheckpointError, match="is of model 'lstm_lm', not 'classifier'"):
        Trainer.resume(path, classifier())


def test_checkpoints_are_written_atomically_and_corrupt_ones_are_refused(tmp_path, monkeypatch):
    trainer = Trainer(classifier(), progress=False)
    path = trainer.save(tmp_path / "c.npz")
    good = path.read_bytes()

    def failing_savez(file, **arrays):
        file.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(checkpoint.np, "savez", failing_savez)
    with pytest.raises(OSError, match="disk full"):
        trainer.save(path)
    monkeypatch.undo()
    assert path.read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.history.jsonl", "c.npz"]  # no temporary left
    (tmp_path / "bad.npz").write_bytes(good[: len(good) // 2])
    with pytest.raises(CheckpointError, match="not a readable graphc checkpoint"):
        Trainer.resume(tmp_path / "bad.npz", classifier())
    with pytest.raises(CheckpointError, match="no checkpoint file"):
        checkpoint.load(tmp_path / "missing.npz")
    np.savez(tmp_path / "other.npz", weights=np.zeros(3))
    with pytest.raises(CheckpointError, match="not a readable graphc checkpoint"):
        checkpoint.load(tmp_path / "other.npz")


def test_progress_bar_shows_the_rate_and_gradient_norms_are_recorded(capsys):
    trainer = Trainer(classifier(), progress=True, track_gradients=2)
    history = trainer.fit(examples(), epochs=1)
    assert "examples/s" in capsys.readouterr().err
    assert [g["step"] for g in history.gradient_norms] == [2, 4, 6]
    assert set(history.gradient_norms[0]) == {"step", "W", "b"} and history.gradient_norms[0]["W"] > 0


def test_compiling_is_shown_with_its_seconds_in_a_log_and_on_a_terminal(capsys, monkeypatch):
    Trainer(classifier(), progress=True).fit(examples(), epochs=1)  # no terminal: a line says how long it took
    assert re.search(r"classifier: compiled the training step in \d+\.\d s", capsys.readouterr().err)
    monkeypatch.setattr(progress, "TICK", 0.001)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # a terminal: tqdm's bar, its clock ticking
    # A model of its own structure (classes = input width), so that its program is not one compiled before
    Trainer(classifier(classes=4), progress=True).fit(examples(), epochs=1)
    shown = capsys.readouterr().err
    assert re.search(r"classifier \(compiling, \d+ s\)", shown) and "compiled the training step in" in shown


def test_the_bar_shows_validation_scores_after_an_epoch(capsys):
    trainer = Trainer(classifier(), optim.Adam(0.05), progress=True)
    history = trainer.fit(examples(), examples(count=30, seed=1), epochs=2)
    last_line = capsys.readouterr().err.strip().splitlines()[-1]  # no terminal: the plain line at the end
    scores = history.epochs[-1]
    assert f"val_loss {scores['validation_loss']:.4g}" in last_line
    assert f"val_acc {scores['validation_accuracy']:.4g}" in last_line
    assert "100/100 examples" in last_line  # 2 epochs of 50 (the last batch of each is 2, not 8)


def test_a_run_that_stops_inside_an_epoch_still_reports_its_validation_scores():
    model, train, validation = classifier(), examples(), examples(count=30, seed=1)  # 7 batches per epoch
    trainer = Trainer(model, optim.Adam(0.05), progress=False)
    history = trainer.fit(train, validation, epochs=3, max_steps=3)
    assert history.stopped == "max steps" and len(history.epochs) == 1
    partial = history.epochs[0]
    assert partial["partial"] is True and partial["epoch"] == 1 and partial["steps"] == 3
    loss = graphc.evaluate(model.loss, {**trainer.params, **validation.arrays})
    assert partial["validation_loss"] == pytest.approx(float(loss), rel=1e-10)
    assert partial["loss"] == pytest.approx(np.mean(history.losses), rel=1e-12)  # three full batches of 8
    history = trainer.fit(train, validation, epochs=1)  # the epoch goes on where it stopped
    assert [(e["epoch"], e.get("partial", False)) for e in history.epochs] == [(1, True), (1, False)]
    assert history.epochs[-1]["steps"] == 7


def test_stopping_by_steps_or_time_is_recorded():
    trainer = Trainer(classifier(), progress=False)
    assert trainer.fit(examples(), epochs=5, max_steps=10).stopped == "max steps"
    assert trainer.step.steps_taken == 10 and trainer.epoch == 1 and trainer.position == 3
    assert trainer.fit(examples(), epochs=5, max_seconds=0.0).stopped == "time limit"
    assert trainer.step.steps_taken == 11


@pytest.mark.parametrize("check_numerics", [True, False])
def test_a_non_finite_loss_stops_training_with_a_numerical_error(check_numerics, backend):
    data_with_inf = examples()
    data_with_inf.arrays["x"][:] = np.inf
    trainer = Trainer(classifier(), progress=False, check_numerics=check_numerics, backend=backend)
    before = {k: v.copy() for k, v in trainer.params.items()}
    with pytest.raises(graphc.NumericalError, match="not finite|NaN|Inf"):
        trainer.fit(data_with_inf, epochs=1)
    if check_numerics:  # the step that made the NaN is undone
        assert all(np.array_equal(trainer.params[k], before[k]) for k in before)


def test_a_batch_holding_nan_is_reported_and_its_checkpoint_is_refused(tmp_path):
    """A NaN in the data reaches the loss through the relu (it used to vanish there in compiled code), the numerics
    check names it, and a checkpoint of diverged parameters is not resumed without being asked."""
    x = graphc.input("x", ("batch", 4), "float32")
    labels = graphc.input("labels", ("batch",), "int64")
    hidden = graphc.relu(x @ graphc.param("W", (4, 5)))
    logits = hidden @ graphc.param("V", (5, 3))
    model = graphc.Model("relu_net", {"x": x, "labels": labels}, {"logits": logits},
                         graphc.cross_entropy(logits, labels))
    values = np.ones((8, 4), np.float32)
    values[3, 2] = np.nan
    batches = data.Examples({"x": values, "labels": np.zeros(8, np.int64)}, 8)
    with pytest.raises(graphc.errors.NumericalError):
        Trainer(model, optim.SGD(0.1), progress=False).fit(batches, epochs=1)
    trainer = Trainer(model, optim.SGD(0.1), progress=False)
    trainer.params["W"][0, 0] = np.nan
    path = trainer.save(tmp_path / "diverged.npz")
    with pytest.raises(CheckpointError, match=r"NaN or Inf values in params 'W' \(1 of 20\).*allow_nonfinite"):
        Trainer.resume(path, model)
    assert np.isnan(Trainer.resume(path, model, allow_nonfinite=True).params["W"][0, 0])


def test_the_history_is_appended_beside_the_checkpoint_not_rewritten_into_it(tmp_path):
    from graphc.train.history import log_path, read_log

    path = tmp_path / "run" / "checkpoint.npz"
    trainer = Trainer(classifier(), progress=False)
    trainer.fit(examples(), epochs=3, checkpoint=path)
    small = path.stat().st_size
    trainer.fit(examples(), epochs=40, checkpoint=path)
    assert abs(path.stat().st_size - small) < 64  # the checkpoint does not grow with the run
    lines = log_path(path).read_text().splitlines()
    assert len(lines) == 40  # a save per epoch: the first wrote the history whole, each later one a line
    resumed = Trainer.resume(path, classifier())
    assert resumed.history.losses == trainer.history.losses and resumed.history.epochs == trainer.history.epochs
    # Lines appended after the checkpoint (a run killed between the two writes) are not read back.
    with open(log_path(path), "a") as log:
        log.write('{"losses": [9.0], "epochs": [], "gradient_norms": []}\n{"losses": [')
    recorded = checkpoint.load(path).metadata["history"]
    assert read_log(path, recorded).losses == trainer.history.losses


def test_a_checkpoint_written_before_the_history_log_still_resumes_with_its_history(tmp_path):
    path = tmp_path / "old.npz"
    trainer = Trainer(classifier(), progress=False)
    trainer.fit(examples(), epochs=2, checkpoint=path)
    saved = checkpoint.load(path)
    # The format of earlier releases: the whole history in the checkpoint's metadata, no log beside it.
    saved.metadata["history"] = {"losses": trainer.history.losses, "epochs": trainer.history.epochs,
                                 "gradient_norms": [], "stopped": trainer.history.stopped}
    checkpoint.save(path, saved)
    (tmp_path / "old.history.jsonl").unlink()
    resumed = Trainer.resume(path, classifier())
    assert resumed.history.losses == trainer.history.losses and resumed.history.epochs == trainer.history.epochs


def test_a_temporary_of_a_writer_still_running_is_kept(tmp_path):
    import os

    from graphc.files import atomic_write

    running = tmp_path / f".data.bin.{os.getpid()}.abc.tmp"  # this process is alive: another writer's file
    running.write_bytes(b"being written")
    gone = tmp_path / ".data.bin.999999999.abc.tmp"  # no such process: left by a killed writer
    gone.write_bytes(b"half")
    atomic_write(tmp_path / "data.bin", b"whole")
    assert running.exists() and not gone.exists() and (tmp_path / "data.bin").read_bytes() == b"whole"


class Recorder(train.Callback):
    def __init__(self):
        self.calls = []

    def on_step(self, trainer, step, loss):
        self.calls.append(("step", step))

    def on_validation(self, trainer, scores):
        self.calls.append(("validation", round(scores["loss"], 12)))

    def on_epoch(self, trainer, record):
        self.calls.append(("epoch", record["epoch"], record.get("partial", False)))

    def on_end(self, trainer, history):
        self.calls.append(("end", history.stopped))


def test_callbacks_are_called_at_each_step_validation_epoch_and_end():
    recorder, steps = Recorder(), []
    trainer = Trainer(classifier(), optim.Adam(0.05), progress=False)
    history = trainer.fit(examples(), examples(count=30, seed=1), epochs=2, max_steps=10, callbacks=[recorder],
                          callback=lambda step, loss: steps.append(step))
    validations = [round(e["validation_loss"], 12) for e in history.epochs]
    assert recorder.calls == ([("step", s) for s in range(1, 8)] + [("validation", validations[0]), ("epoch", 1, False)]
                              + [("step", s) for s in range(8, 11)]
                              + [("validation", validations[1]), ("epoch", 2, True), ("end", "max steps")])
    assert steps == list(range(1, 11))  # the one-function form still works


def test_the_csv_logger_writes_a_row_per_epoch_record_and_appends_on_resume(tmp_path):
    path = tmp_path / "logs" / "run.csv"
    trainer = Trainer(classifier(), optim.Adam(0.05), progress=False)
    history = trainer.fit(examples(), examples(count=30, seed=1), epochs=2, callbacks=[train.CSVLogger(path)])
    trainer.fit(examples(), examples(count=30, seed=1), epochs=3, callbacks=[train.CSVLogger(path)])
    with open(path, newline="") as file:
        rows = list(csv.DictReader(file))
    assert [row["epoch"] for row in rows] == ["1", "2", "3"] and rows[0]["partial"] == "False"
    assert float(rows[1]["validation_loss"]) == pytest.approx(history.epochs[1]["validation_loss"], rel=1e-12)
    assert set(rows[0]) == {"epoch", "steps", "partial", "loss", "accuracy", "validation_loss", "validation_accuracy"}
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    with pytest.raises(graphc.GraphcError, match="holds other columns"):
        trainer.fit(examples(), epochs=4, callbacks=[train.CSVLogger(tmp_path / "other.csv")])


def scalars(folder) -> dict[str, list[tuple[int, float]]]:
    """The scalars of TensorBoard event files, read as TensorBoard does: TFRecord framing (length, its CRC, the
    record, its CRC) around serialized Event protocol buffers."""
    from tensorboardX.proto.event_pb2 import Event

    found: dict[str, list[tuple[int, float]]] = {}
    for path in sorted(pathlib.Path(folder).glob("events.out.tfevents.*")):
        data, at = path.read_bytes(), 0
        while at < len(data):
            (length,) = struct.unpack("<Q", data[at:at + 8])
            event = Event.FromString(data[at + 12:at + 12 + length])
            at += 12 + length + 4
            for value in event.summary.value:
                found.setdefault(value.tag, []).append((event.step, value.simple_value))
    return found


def test_the_tensorboard_logger_writes_event_files_of_every_step_and_epoch(tmp_path):
    trainer = Trainer(classifier(), optim.Adam(0.05), progress=False)
    history = trainer.fit(examples(), examples(count=30, seed=1), epochs=2,
                          callbacks=[train.TensorBoardLogger(tmp_path / "tb")])
    written = scalars(tmp_path / "tb")
    assert [step for step, _ in written["train/loss"]] == list(range(1, 15))
    assert [value for _, value in written["train/loss"]] == pytest.approx(history.losses, rel=1e-6)  # float32
    assert written["epoch/validation_loss"] == [(e["steps"], pytest.approx(e["validation_loss"], rel=1e-6))
                                                for e in history.epochs]


def test_a_historys_repr_is_one_line_not_every_loss():
    history = Trainer(classifier(), progress=False).fit(examples(), epochs=2)
    assert repr(history) == f"History(14 steps, last loss {history.losses[-1]:.4g}, 2 epochs, stopped: completed)"


def test_the_units_ahead_count_whole_epochs_at_once():
    """The bar's total for ``--steps 100000000`` (a run stopped by Ctrl-C or time) is arithmetic, not a loop over
    epochs (which took 100 s before the first step)."""
    from graphc.train.trainer import _units_ahead

    batches = examples()  # 50 examples in batches of 8: 7 an epoch, the last of 2
    assert _units_ahead(batches, 3, 4 + 2 * 7 + 2) == (8 + 8 + 8 + 2) + 2 * 50 + 16
    assert _units_ahead(batches, 7, 7) == 50  # resumed at an epoch's end: the next epoch whole
    assert _units_ahead(batches, 0, 7 * 10**12) == 50 * 10**12
