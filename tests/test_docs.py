"""The documentation's code runs: every ```python block of a doc page is executed, in order, in one namespace."""

import pathlib
import re
import subprocess
import sys

import pytest

DOCS = pathlib.Path(__file__).resolve().parent.parent / "docs"
PAGES = ["api.md", "optimizer.md", "recurrent.md", "training.md"]


def test_every_command_of_the_tutorial_runs():
    """docs/tutorial.md, from the XOR net to the LSTM language model: every ```sh and ```python block, in order."""
    result = subprocess.run([sys.executable, "scripts/run_docs.py", "docs/tutorial.md"], cwd=DOCS.parent,
                            capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]


def test_the_docs_runner_stops_at_a_failing_command(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("```sh\ntrue\n```\n\n```sh\ngraphc summary no_such_model\n```\n\n```sh\ntouch never\n```\n")
    result = subprocess.run([sys.executable, "scripts/run_docs.py", str(page)], cwd=DOCS.parent,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode != 0 and "graphc summary no_such_model" in result.stderr


def test_generated_tables_are_current():
    """docs/optimizer.md's measured tables are what scripts/optimizer_report.py computes today."""
    result = subprocess.run([sys.executable, "scripts/optimizer_report.py", "--check"], cwd=DOCS.parent,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("page", PAGES)
def test_code_blocks_run(page, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the files the pages write (checkpoints, plots) land here
    text = (DOCS / page).read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks, f"{page} has no code"
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, f"docs/{page}", "exec"), namespace)
