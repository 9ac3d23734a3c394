"""The bad-input catalogue: mistakes and hostile strings a user (or a file they were given) can bring, each with
the error type it must raise and the words its message must hold, and nothing on disk lost or run."""

import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import graphc

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
