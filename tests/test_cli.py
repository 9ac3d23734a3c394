"""The ``graphc`` command: help, configuration files, training, checking, and one-line errors."""

import pathlib
import subprocess
import sys

import numpy as np
import pytest

from graphc.cli import main
from graphc.train import checkpoint
from graphc.train.history import read_log

ROOT = pathlib.Path(__file__).resolve().parent.parent
COMMANDS = ("train", "generate", "demo", "render", "summary", "check", "bench", "ops", "cache")


@pytest.fixture(autouse=True)
def in_repository(monkeypatch):
    monkeypatch.chdir(ROOT)  # the paths these tests give are relative to the repository


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as stopped:
        main([command, "--help"])
    assert stopped.value.code == 0 and f"usage: graphc {command}" in capsys.readouterr().out


def run_failing(arguments, capsys):
    code = main(arguments)
    error = capsys.readouterr().err
    assert code != 0 and len(error.strip().splitlines()) == 1 and "Traceback" not in error
    return error


@pytest.mark.parametrize("arguments, message", [
    (["summary", "no_such_model"], "no built-in model 'no_such_model' (built-in: gru_lm, lstm_classifier"),
    (["summary", "models/missing.py"], "no model file 'models/missing.py' (give a path"),
    (["summary", "xor", "--set", "width=3"], "build() takes no setting 'width'"),
    (["train", "xor", "--data", "x.txt", "--no-progress"], "dataset() takes no setting 'path'"),
    (["train", "lstm_step"], "defines no dataset"),
    (["generate", "nothing.npz"], "no checkpoint file 'nothing.npz'"),
    (["summary", "xor", "--config", "missing.toml"], "no configuration file 'missing.toml'"),
    (["train", "xor", "--optimizer", "sgd", "--nesterov", "--no-progress"], "Nesterov momentum needs momentum"),
    (["train", "xor", "--schedule", "step", "--gamma", "3", "--no-progress"], "gamma must be in (0, 1]"),
    (["render", "xor", "--output", "picture"], "cannot write picture: use .svg, .png, .pdf, or .gv"),
    (["summary", "mlp", "--set", "activation=nope"], "unknown activation 'nope'; known: None, linear, tanh"),
    (["summary", "lstm_lm", "--set", "hidden=-3"], "param 'lstm.l0.W': a dimension must be non-negative, not -12"),
    (["summary", "lstm_lm", "--set", "layers=0"], "num_layers must be a positive integer, not 0"),
])
def test_mistakes_are_one_line_errors(arguments, message, capsys):
    assert message in run_failing(arguments, capsys)


def test_bad_values_corrupt_checkpoints_and_unknown_config_keys(tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["train", "xor", "--lr", "fast"])
    error = capsys.readouterr().err
    assert stopped.value.code == 2 and error.count("\n") == 1 and "invalid float value: 'fast'" in error
    (tmp_path / "broken.npz").write_bytes(b"PK\x03\x04 not really a zip file")
    assert "not a readable graphc checkpoint" in run_failing(["generate", str(tmp_path / "broken.npz")], capsys)
    (tmp_path / "bad.toml").write_text('epochz = 3\n')
    assert "unknown option 'epochz'" in run_failing(["train", "xor", "--config", str(tmp_path / "bad.toml")], capsys)


def test_the_installed_command_exits_non_zero_without_a_traceback():
    script = pathlib.Path(sys.executable).parent / "graphc"  # the console script pip installed
    command = [str(script)] if script.exists() else [sys.executable, "-m", "graphc"]
    result = subprocess.run([*command, "render", "no_such_model"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 2 and result.stderr.startswith("graphc render: no built-in model")
    assert len(result.stderr.strip().splitlines()) == 1


def test_train_from_a_config_file_with_flags_winning(tmp_path, capsys):
    config = tmp_path / "xor.toml"
    config.write_text('model = "xor"\noptimizer = "adam"\nlr = 0.05\nepochs = 2\nno-progress = true\n'
                      '[set]\nhidden = 8\n')
    out = tmp_path / "run"
    assert main(["train", "--config", str(config), "--epochs", "300", "--seed", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Adam(lr=0.05" in printed and "after 300 steps" in printed  # --epochs beat the file's 2
    saved = checkpoint.load(out / "checkpoint.npz")
    assert saved.metadata["model"]["build"] == {"hidden": 8} and saved.params["W"].shape == (2, 8)
    losses = read_log(out / "checkpoint.npz", saved.metadata["history"]).losses
    assert losses[-1] < 0.01 < losses[0]
    assert (out / "loss.png").read_bytes()[:4] == b"\x89PNG"


def test_check_passes_correct_gradients_and_fails_an_impossible_tolerance(capsys):
    assert main(["check", "mlp", "--set", "sizes=(3, 5, 2)"]) == 0
    assert "4 of 4 parameters within 1e-06" in capsys.readouterr().out
    assert main(["check", "xor", "--tolerance", "1e-30"]) == 1
    assert "FAILED" in capsys.readouterr().out


def test_summary_and_bench(capsys):
    assert main(["summary", "lstm_classifier", "--set", "hidden=16"]) == 0
    assert "Total parameters" in capsys.readouterr().out
    assert main(["bench", "mlp", "--set", "sizes=(8, 16, 3)", "--steps", "3"]) == 0
    printed = capsys.readouterr().out
    assert "compiled step (cpu)" in printed and "x the compiled step" in printed


def test_language_model_train_generate_and_resume(tmp_path, capsys):
    out = tmp_path / "lm"
    small = ["--set", "hidden=16", "--set", "embed=8", "--seq-len", "8", "--batch", "4", "--no-progress"]
    assert main(["train", "lstm_lm", *small, "--steps", "6", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["generate", str(out / "checkpoint.npz"), "--prime", "def ", "--tokens", "20"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("def ") and len(printed) > len("def \n")
    with pytest.warns(UserWarning, match=r"2 token\(s\) the vocabulary lacks, read as the unknown token: '€', '✓'"):
        assert main(["generate", str(out / "checkpoint.npz"), "--prime", "€x€✓", "--tokens", "3"]) == 0
    assert main(["train", "--resume", str(out / "checkpoint.npz"), "--steps", "9", "--no-progress",
                 "--out", str(out)]) == 0
    losses = read_log(out / "checkpoint.npz", checkpoint.load(out / "checkpoint.npz").metadata["history"]).losses
    assert len(losses) == 9 and np.all(np.isfinite(losses))


def test_the_demo_trains_reports_and_writes_its_pictures(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--minutes", "0.05", "--hidden", "16", "--out", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "validation perplexity" in printed and "primed with 'The '" in printed
    for name in ("checkpoint.npz", "loss.png", "forward.svg", "backward.svg"):
        assert (out / name).stat().st_size > 0 and str(out / name) in printed
    assert (out / "forward.svg").read_text().lstrip().startswith("<?xml")
    assert main(["generate", str(out / "checkpoint.npz"), "--prime", "In ", "--tokens", "5"]) == 0
    assert capsys.readouterr().out.startswith("In ")


def test_built_in_models_work_from_any_directory_and_a_bare_name_never_runs_a_local_file(tmp_path, monkeypatch,
                                                                                          capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["models"]) == 0
    listed = capsys.readouterr().out
    assert "lstm_lm " in listed and "xor " in listed
    (tmp_path / "xor.py").write_text("raise SystemExit('their code ran')\n")
    assert main(["summary", "xor"]) == 0  # the built-in xor, not ./xor.py
    assert "Total parameters: 9 " in capsys.readouterr().out
    (tmp_path / "mine.py").write_text("raise ValueError('their code ran')\n")
    assert "for the file here, give its path: ./mine.py" in run_failing(["summary", "mine"], capsys)
    assert "their code ran" in run_failing(["summary", "./mine.py"], capsys)  # a path is the user's own file


def test_steps_are_reached_whatever_the_epochs_and_another_runs_checkpoint_is_kept(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "xor", "--steps", "20", "--out", str(out), "--no-progress"]) == 0
    assert "after 20 steps" in capsys.readouterr().out
    first = (out / "checkpoint.npz").read_bytes()
    message = run_failing(["train", "xor", "--steps", "1", "--out", str(out), "--no-progress"], capsys)
    assert "already holds a checkpoint of another run (20 steps)" in message and "--overwrite" in message
    assert (out / "checkpoint.npz").read_bytes() == first
    assert main(["train", "xor", "--steps", "25", "--resume", str(out / "checkpoint.npz"), "--out", str(out),
                 "--no-progress"]) == 0  # resuming it is fine
    assert "after 25 steps" in capsys.readouterr().out
    assert main(["train", "xor", "--steps", "1", "--out", str(out), "--overwrite", "--no-progress"]) == 0
    assert checkpoint.load(out / "checkpoint.npz").metadata["history"]["losses"] == 1


def test_a_checkpoint_never_names_code_that_loading_runs(tmp_path, capsys):
    model_file = tmp_path / "my_xor.py"
    model_file.write_text((ROOT / "graphc" / "models" / "xor.py").read_text())
    out = tmp_path / "run"
    assert main(["train", str(model_file), "--steps", "2", "--out", str(out), "--no-progress"]) == 0
    saved = out / "checkpoint.npz"
    assert checkpoint.load(saved).metadata["model"]["builtin_model"] is None  # a user's file: recorded, never run
    evil = tmp_path / "evil.py"
    evil.write_text("open(__file__ + '.ran', 'w').close()\n")
    loaded = checkpoint.load(saved)
    loaded.metadata["model"]["file"] = str(evil)
    checkpoint.save(saved, loaded)
    message = run_failing(["train", "--resume", str(saved), "--no-progress"], capsys)
    assert "does not run on a checkpoint's word; give the file" in message
    assert "give the file: graphc generate" in run_failing(["generate", str(saved)], capsys)
    assert not (tmp_path / "evil.py.ran").exists()
    assert main(["train", str(model_file), "--resume", str(saved), "--steps", "3", "--no-progress"]) == 0


def test_checkpoints_are_written_with_the_users_umask_and_stale_temporaries_are_removed(tmp_path):
    import os

    stale = tmp_path / ".checkpoint.npz.abc123.tmp"  # what a writer killed by kill -9 leaves
    stale.write_bytes(b"half")
    previous = os.umask(0o022)
    try:
        path = checkpoint.save(tmp_path / "checkpoint.npz", checkpoint.Checkpoint({"w": np.zeros(2)}))
    finally:
        os.umask(previous)
    assert path.stat().st_mode & 0o777 == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.npz"]


def test_progress_without_a_terminal_is_plain_lines(tmp_path):
    """stderr a pipe (a CI log, nohup): lines with the rate and the loss, no carriage-return updates."""
    result = subprocess.run([sys.executable, "-m", "graphc", "train", "xor", "--steps", "200", "--out",
                             str(tmp_path / "run")], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "\r" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("xor:")]
    assert lines and "examples/s" in lines[-1] and "loss " in lines[-1] and "/800 examples" in lines[-1]
    assert len(result.stderr) < 2000


def test_the_end_of_run_report_shows_small_losses_in_significant_digits(capsys):
    from graphc.cli.training import report
    from graphc.train.history import History

    report(History(losses=[1.234567e-5], epochs=[{"epoch": 1, "steps": 1, "loss": 1.234567e-5, "partial": True}],
                   stopped="max steps"))
    out = capsys.readouterr().out
    assert "mean loss 1.235e-05" in out and "epoch 1 so far: loss 1.235e-05" in out


def test_every_verb_builds_a_model_file_for_its_data(tmp_path, capsys):
    """summary and render show the model train trains: the vocabulary's size comes from the data for all."""
    from graphc.models import lstm_lm

    dataset = lstm_lm.dataset()
    trained = lstm_lm.build(hidden=8, **dataset.config)
    assert main(["summary", "lstm_lm", "--set", "hidden=8"]) == 0
    assert f"Total parameters: {trained.parameter_count():,}" in capsys.readouterr().out
    picture = tmp_path / "lm.gv"
    assert main(["render", "lstm_lm", "--set", "hidden=8", "-o", str(picture)]) == 0
    assert f"(time, batch, {len(dataset.vocabulary)})" in picture.read_text()


def test_a_users_text_without_blank_lines_trains_with_a_split(tmp_path, capsys):
    corpus = tmp_path / "notes.txt"
    corpus.write_text("".join(f"note {i}: graphc reads plain text\n" for i in range(400)))
    characters = len(set(corpus.read_text())) + 2  # the line breaks too, and the end and unknown markers
    assert main(["summary", "lstm_lm", "--data", str(corpus), "--split", "0.2", "--set", "hidden=8"]) == 0
    assert f"(time, batch, {characters})" in capsys.readouterr().out
    out = tmp_path / "run"
    assert main(["train", "lstm_lm", "--data", str(corpus), "--split", "0.2", "--set", "hidden=8", "--seq-len", "8",
                 "--batch", "4", "--steps", "2", "--out", str(out), "--no-progress"]) == 0
    assert "validation_perplexity" in capsys.readouterr().out


def test_a_warmup_then_cosine_schedule_spans_the_runs_steps(tmp_path):
    out = tmp_path / "run"
    assert main(["train", "xor", "--schedule", "cosine", "--warmup", "3", "--steps", "10", "--out", str(out),
                 "--no-progress"]) == 0
    schedule = checkpoint.load(out / "checkpoint.npz", metadata_only=True).metadata["optimizer"]["schedule"]
    assert schedule == {"name": "warmup", "steps": 3, "start": 0.1,
                        "then": {"name": "cosine", "total": 7, "minimum": 0.0}}


def test_a_checkpoint_of_a_model_built_in_python_generates_with_its_model_file(tmp_path, capsys):
    from graphc import data, nn, optim
    from graphc.train import Trainer

    dataset = data.language_dataset(seq_len=8, batch=4)
    size = len(dataset.vocabulary)
    model_file = tmp_path / "my_lm.py"
    model_file.write_text("from graphc import nn\n\n\ndef build():\n"
                          f"    return nn.language_model('gru', {size}, 8, 8)\n")
    model = nn.language_model("gru", size, 8, 8)
    for metadata, name in (({"vocabulary": dataset.vocabulary.to_dict()}, "with.npz"), ({}, "without.npz")):
        trainer = Trainer(model, optim.Adam(0.01), progress=False, metadata=metadata)
        trainer.fit(dataset.train, max_steps=2)
        trainer.save(tmp_path / name)
    message = run_failing(["generate", str(tmp_path / "with.npz"), "--tokens", "5"], capsys)
    assert "does not say which model it holds; give MODEL: graphc generate CHECKPOINT --model FILE" in message
    assert main(["generate", str(tmp_path / "with.npz"), "--model", str(model_file), "--prime", "The ",
                 "--tokens", "5"]) == 0
    assert capsys.readouterr().out.startswith("The ")
    message = run_failing(["generate", str(tmp_path / "without.npz"), "--model", str(model_file)], capsys)
    assert "was saved without its vocabulary" in message
