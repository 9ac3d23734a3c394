"""The bad-input catalogue: mistakes and hostile strings a user (or a file they were given) can bring, each with
the error type it must raise and the words its message must hold, and nothing on disk lost or run."""

import gc
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import graphc
from graphc import nn
from graphc.train import language

ROOT = pathlib.Path(__file__).resolve().parent.parent

# --- strings that reach generated source or DOT ------------------------------------------------------------------
HOSTILE = ['a\nopen("ran", "w").close()', 'quote"s', "back\\slash\\", "tab\there", "semi;colon", "ünï"]


def test_a_path_holding_a_newline_and_code_does_not_run_in_generated_source(tmp_path):
    folder = tmp_path / 'x\nopen("injected", "w").close()\n#'
    folder.mkdir()
    script = folder / "model.py"
    script.write_text("import numpy as np, graphc\n"
                      "x = graphc.input('x', (2,))\n"
                      "f = graphc.compile(graphc.tanh(x) * 2)\n"
                      "print(float(f({'x': np.zeros(2, np.float32)}).sum()))\n"
                      "print('generated lines', len(f.source.splitlines()))\n")
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True,
                            env={**os.environ, "GRAPHC_CACHE_DIR": str(tmp_path / "cache"),
                                 "PYTHONPATH": str(ROOT)}, timeout=300)
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "injected").exists()
    source = next((tmp_path / "cache").glob("graphc_*.py")).read_text()
    assert "\\nopen(" in source  # the path is in its comment, escaped


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_and_scopes_compile_and_stay_data(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    x = graphc.input(name, ("batch", 3))
    w = graphc.param(f"w{name}", (3,))
    with graphc.scope(name):
        y = graphc.sum(graphc.tanh(x * w))
    f = graphc.compile(y)
    value = f({name: np.ones((2, 3), np.float32), f"w{name}": np.ones(3, np.float32)})
    assert np.isclose(float(value), 6 * np.tanh(1.0), rtol=1e-5)
    assert not (tmp_path / "ran").exists()


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_make_valid_dot(name, tmp_path):
    x = graphc.input(name, (2,))
    with graphc.scope(name):
        y = graphc.name(graphc.tanh(x), name)
    picture = graphc.render(y)
    result = subprocess.run(["dot", "-Tsvg"], input=picture.source, capture_output=True, text=True)
    assert result.returncode == 0 and "syntax error" not in result.stderr, (picture.source, result.stderr)


# --- the API: mistakes while building, feeding and differentiating --------------------------------------------------
def _x(shape=(2, 3), dtype="float32", name="x"):
    return graphc.input(name, shape, dtype)


API = {
    "matmul shapes": (lambda: _x((2, 3)) @ _x((4, 5), name="y"), graphc.ShapeError, ["matmul", "(2, 3)", "(4, 5)"]),
    "broadcast": (lambda: _x((2, 3)) + _x((4,), name="y"), graphc.ShapeError, ["(2, 3)", "(4,)"]),
    "dtype mix": (lambda: _x() + _x(dtype="float64", name="y"), graphc.DTypeError, ["float32", "float64"]),
    "integer log": (lambda: graphc.log(_x(dtype="int64")), graphc.DTypeError, ["log", "int64"]),
    "negative size": (lambda: graphc.param("w", (-3, 2)), graphc.ShapeError, ["'w'", "non-negative"]),
    "named parameter size": (lambda: graphc.param("w", ("batch", 2)), graphc.GraphcError, ["'w'", "batch"]),
    "dimension not a name": (lambda: graphc.input("x", ("two words", 2)), graphc.ShapeError, ["identifier"]),
    "unknown initializer": (lambda: graphc.init_params([graphc.param("w", (2,), init="nope")]),
                            graphc.errors.InitializerError, ["nope"]),
    "gradient of a vector": (lambda: graphc.grad(_x(), [_x(name="y")]), graphc.errors.DifferentiationError,
                             ["scalar", "(2, 3)"]),
    "gradient wrt a number": (lambda: graphc.grad(graphc.sum(_x()), [3.0]), graphc.errors.DifferentiationError,
                              ["grad differentiates tensors", "float 3.0"]),
    "gradient wrt integers": (lambda: graphc.grad(graphc.sum(graphc.cast(_x(dtype="int64"), "float32")),
                                                  [_x(dtype="int64")]),
                              graphc.errors.DifferentiationError, ["not float"]),
    "non-scalar model loss": (lambda: graphc.Model("m", {"x": _x()}, {}, _x() * 2), graphc.ShapeError,
                              ["model 'm'", "scalar", "(2, 3)"]),
    "cross entropy float labels": (lambda: graphc.cross_entropy(_x(), _x((2,), name="y")), graphc.DTypeError,
                                   ["labels", "integers", "float32"]),
    "cross entropy label shape": (lambda: graphc.cross_entropy(_x(), _x((3,), "int64", "y")), graphc.ShapeError,
                                  ["(2,)", "(3,)"]),
    "reshape size": (lambda: graphc.reshape(_x(), (4, 2)), graphc.ShapeError, ["(2, 3)", "(4, 2)"]),
}


@pytest.mark.parametrize("case", API)
def test_api_mistakes(case):
    build, error, words = API[case]
    with pytest.raises(error) as raised:
        build()
    message = str(raised.value)
    for word in words:
        assert word in message, (word, message)
    assert "test_bad_inputs.py" in message or not isinstance(raised.value, graphc.GraphcError) or \
        raised.value.location is None or "test_bad_inputs.py" in raised.value.location


def _simple():
    x = _x(("batch", 3))
    labels = _x(("batch",), "int64", "labels")
    return graphc.cross_entropy(x @ graphc.param("W", (3, 4)), labels)


GOOD = {"x": np.ones((2, 3), np.float32), "labels": np.array([0, 1]), "W": np.ones((3, 4), np.float32)}
FEEDS = {
    "missing": ({k: v for k, v in GOOD.items() if k != "W"}, graphc.errors.FeedError, ["missing feed", "'W'"]),
    "typo": ({**{k: v for k, v in GOOD.items() if k != "labels"}, "lables": GOOD["labels"]},
             graphc.errors.FeedError, ["'labels'", "did you mean 'lables'"]),
    "wrong dtype": ({**GOOD, "x": GOOD["x"].astype(np.float64)}, graphc.errors.FeedError,
                    ["'x'", "float64", "float32", "astype"]),
    "wrong rank": ({**GOOD, "x": np.ones(3, np.float32)}, graphc.errors.FeedError, ["'x'"]),
    "two batch sizes": ({**GOOD, "labels": np.array([0, 1, 2])}, graphc.errors.BindingError, ["batch", "2", "3"]),
    "fixed size": ({**GOOD, "W": np.ones((3, 5), np.float32)}, graphc.errors.FeedError, ["'W'", "5"]),
    "label too large": ({**GOOD, "labels": np.array([0, 4])}, graphc.errors.IndexRangeError,
                        ["cross_entropy", "index 4", "0..3", "feed 'labels'"]),
    "negative label": ({**GOOD, "labels": np.array([-1, 0])}, graphc.errors.IndexRangeError,
                       ["index -1", "do not wrap"]),
    "empty batch": ({**GOOD, "x": np.ones((0, 3), np.float32), "labels": np.zeros(0, np.int64)},
                    graphc.errors.FeedError, ["feed 'x'", "dimension 'batch' is 0", "at least 1"]),
}


@pytest.mark.parametrize("backend", ["reference", "cpu"])
@pytest.mark.parametrize("case", FEEDS)
def test_feed_mistakes(case, backend):
    feeds, error, words = FEEDS[case]
    loss = _simple()
    with pytest.raises(error) as raised:
        graphc.evaluate(loss, feeds) if backend == "reference" else graphc.compile(loss)(feeds)
    for word in words:
        assert word in str(raised.value), (word, str(raised.value))


@pytest.mark.parametrize("backend", ["reference", "cpu"])
def test_a_scan_over_no_steps_is_an_error_naming_the_feed_and_line(backend):
    # Compiled, a sequence of length 0 gave NaN (a mean over no steps) or ZeroDivisionError; the reference failed
    # in np.stack. Nodes are hash-consed, so a leaf keeps the line of the first live graph that declared it: an
    # earlier test's model awaiting the cycle collector would lend its line to this one's "tokens".
    gc.collect()
    model = nn.language_model("lstm", 7, embed=3, hidden=4)
    feeds = {**graphc.init_params(model.params), "tokens": np.zeros((0, 2), np.int64),
             "targets": np.zeros((0, 2), np.int64), **language.zero_state(model, 2)}
    with pytest.raises(graphc.errors.FeedError) as raised:
        graphc.evaluate(model.loss, feeds) if backend == "reference" else graphc.compile(model.loss)(feeds)
    assert "dimension 'time' is 0" in str(raised.value) and "feed 'tokens'" in str(raised.value)
    assert "test_bad_inputs.py" in raised.value.location


# --- the command line and files: one line on stderr, no traceback, a non-zero exit, nothing lost --------------------
def one_line_error(arguments, capsys) -> str:
    from graphc.cli import main

    try:
        code = main(arguments)
    except SystemExit as stopped:  # argparse's own refusals: usage, then the error, exit 2
        code = stopped.code
    error = capsys.readouterr().err
    assert code != 0 and "Traceback" not in error, error
    return error.strip().splitlines()[-1]


def config(tmp_path, text: str) -> str:
    path = tmp_path / "settings.toml"
    path.write_text(text)
    return str(path)


CLI = {
    "config steps negative": (lambda t: ["train", "xor", "--config", config(t, "steps = -4")],
                              ["steps = -4", "must be a positive integer"]),
    "config epochs negative": (lambda t: ["train", "xor", "--config", config(t, "epochs = -1")], ["epochs = -1"]),
    "config minutes negative": (lambda t: ["train", "xor", "--config", config(t, "minutes = -1")],
                                ["minutes = -1", "positive number"]),
    "config steps text": (lambda t: ["train", "xor", "--config", config(t, 'steps = "abc"')], ["steps = 'abc'"]),
    "config unknown key": (lambda t: ["train", "xor", "--config", config(t, "stepz = 3")], ["unknown option 'stepz'"]),
    "config bad choice": (lambda t: ["train", "xor", "--config", config(t, 'optimizer = "lion"')],
                          ["optimizer = 'lion'", "adam"]),
    "config flag not boolean": (lambda t: ["train", "xor", "--config", config(t, 'no-progress = "yes"')],
                                ["true or false"]),
    "config set not a table": (lambda t: ["train", "xor", "--config", config(t, "set = 3")], ["set must be a table"]),
    "config not toml": (lambda t: ["train", "xor", "--config", config(t, "steps = = 3")], ["is not valid TOML"]),
    "negative seed": (lambda t: ["train", "xor", "--seed", "-1"], ["must be 0 or a positive integer"]),
    "nan tolerance": (lambda t: ["check", "xor", "--tolerance", "nan"], ["must be a positive number"]),
    "huge unroll": (lambda t: ["render", "rnn_lm", "--unroll", "100000", "-o", str(t / "r.svg")], ["0 to 32"]),
    "negative unroll": (lambda t: ["render", "rnn_lm", "--unroll", "-2", "-o", str(t / "r.svg")],
                        ["must be 0 or a positive integer"]),
    "npy as checkpoint": (lambda t: ["generate", _npy(t)], ["not a readable graphc checkpoint"]),
    "missing checkpoint": (lambda t: ["generate", str(t / "none.npz")], ["no checkpoint file"]),
    "model file raising": (lambda t: ["summary", _raising_model(t)], ["build() failed: ZeroDivisionError",
                                                                    "broken.py:3"]),
    "model file missing build": (lambda t: ["summary", _file(t, "nobuild.py", "x = 1\n")], ["defines no build"]),
    "model file syntax error": (lambda t: ["summary", _file(t, "bad.py", "def build(:\n")],
                                ["failed to load: SyntaxError"]),
    "build returns a tensor": (lambda t: ["summary", _file(t, "tensor.py", "import graphc\n"
                                                             "def build():\n    return graphc.input('x', (2,))\n")],
                               ["not a graphc.Model"]),
    "unknown model": (lambda t: ["train", "nosuch"], ["no built-in model 'nosuch'", "lstm_lm"]),
    "missing model path": (lambda t: ["train", str(t / "gone.py")], ["no model file"]),
    "unknown setting": (lambda t: ["summary", "xor", "--set", "width=3"], ["no setting 'width'"]),
    "setting without value": (lambda t: ["summary", "xor", "--set", "hidden"], ["write NAME=VALUE"]),
    "zero hidden": (lambda t: ["summary", "lstm_lm", "--set", "hidden=0"], ["lstm.l0.W", "must be positive",
                                                                          "lstm_lm.py"]),
    "unknown optimizer": (lambda t: ["train", "xor", "--optimizer", "lion"], ["invalid choice: 'lion'"]),
    "negative steps": (lambda t: ["train", "xor", "--steps", "-3"], ["must be a positive integer"]),
    "split not a fraction": (lambda t: ["train", "lstm_lm", "--split", "1.5"], ["--split", "between 0 and 1"]),
    "config split not a fraction": (lambda t: ["train", "lstm_lm", "--config", config(t, "split = 0")],
                                    ["split", "between 0 and 1"]),
    "one-line text": (lambda t: ["train", "lstm_lm", "--data", _file(t, "one.txt", "just one line"), "--steps", "1"],
                      ["one line cannot be split"]),
    "unknown backend": (lambda t: ["bench", "xor", "--backend", "tpu"], ["invalid choice: 'tpu'"]),
    "render unknown suffix": (lambda t: ["render", "xor", "-o", str(t / "x.jpeg2")], ["use .svg, .png, .pdf"]),
    "render unknown scope": (lambda t: ["render", "lstm_lm", "--collapse", "lstm.l9", "-o", str(t / "x.svg")],
                             ["no scope 'lstm.l9' to collapse", "the picture's scopes: embedding, loss, lstm.l0"]),
    "data file missing": (lambda t: ["train", "lstm_lm", "--data", str(t / "none.txt")], ["none.txt"]),
    "truncated checkpoint": (lambda t: ["generate", _checkpoint(t, truncate=True)], ["not a readable graphc"]),
    "pickled checkpoint": (lambda t: ["generate", _pickled(t)], ["not a readable graphc checkpoint"]),
    "diverged checkpoint": (lambda t: ["generate", _checkpoint(t, value=np.nan)],
                            ["NaN or Inf values in params 'w' (1 of 3)", "--allow-nonfinite"]),
    "config not a table": (lambda t: ["train", "xor", "--config", _file(t, "c.json", "[1, 2]")],
                           ["must hold a table"]),
    "config missing": (lambda t: ["train", "xor", "--config", str(t / "none.toml")], ["no configuration file"]),
}


def _checkpoint(folder, truncate=False, value=0.0):
    from graphc.train import checkpoint

    weights = np.zeros(3)
    weights[0] = value
    path = checkpoint.save(folder / "saved.npz", checkpoint.Checkpoint({"w": weights}))
    if truncate:
        path.write_bytes(path.read_bytes()[:100])
    return str(path)


def _pickled(folder):
    path = folder / "pickled.npz"
    np.savez(path, **{"params/w": np.array([{"code": "runs on load"}], dtype=object)})
    return str(path)


def _file(folder, name, text):
    path = folder / name
    path.write_text(text)
    return str(path)


def _raising_model(folder):
    return _file(folder, "broken.py", "import graphc\ndef build():\n    return 1 / 0\n")


def _npy(folder):
    path = folder / "weights.npy"
    np.save(path, np.zeros(3))
    return str(path)


@pytest.mark.parametrize("case", CLI)
def test_command_line_mistakes_are_one_line_errors(case, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    arguments, words = CLI[case]
    before = sorted(p.name for p in tmp_path.iterdir())
    message = one_line_error(arguments(tmp_path), capsys)
    for word in words:
        assert word in message, (word, message)
    assert not pathlib.Path(tmp_path / "runs").exists()  # a refused run writes nothing
    assert set(before) <= {p.name for p in tmp_path.iterdir()}  # and removes nothing
