"""The examples run and print what they promise."""

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def run(*args: str) -> str:
    result = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_xor_example_computes_xor_by_hand_and_learns_it():
    output = run("examples/xor.py")
    hand_set = output.split("trained")[0]
    for line in ("xor(0, 0) = 0", "xor(0, 1) = 1", "xor(1, 0) = 1", "xor(1, 1) = 0"):
        assert line in hand_set
    assert "<- solved" in output
    trained = output.split("the loss curve")[1]
    for line in ("xor(0, 0) = 0.000", "xor(0, 1) = 1.000", "xor(1, 0) = 1.000", "xor(1, 1) = 0.000"):
        assert line in trained


def test_cli_version_and_op_table():
    assert run("-m", "graphc", "--version").startswith("graphc ")
    table = run("-m", "graphc", "ops")
    assert "matmul" in table and "cross_entropy" in table and "no gradient" in table


def test_language_model_example_trains_and_generates():
    result = subprocess.run([sys.executable, "examples/language_model.py", "--kind", "rnn", "--steps", "60"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    perplexity = float(result.stdout.split("held-out perplexity: ")[1].split()[0])
    assert perplexity < 60 and "sample: The " in result.stdout
