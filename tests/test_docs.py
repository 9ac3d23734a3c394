"""The documentation's code runs: every ```python block of a doc page is executed, in order, in one namespace."""

import pathlib
import re
import subprocess
import sys

import pytest

DOCS = pathlib.Path(__file__).resolve().parent.parent / "docs"
PAGES = ["api.md", "optimizer.md", "recurrent.md"]


def test_generated_tables_are_current():
    """docs/optimizer.md's measured tables are what scripts/optimizer_report.py computes today."""
    result = subprocess.run([sys.executable, "scripts/optimizer_report.py", "--check"], cwd=DOCS.parent,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("page", PAGES)
def test_code_blocks_run(page, capsys):
    text = (DOCS / page).read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks, f"{page} has no code"
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, f"docs/{page}", "exec"), namespace)
