"""Run every command of documentation pages, in order, as a reader would: ```sh blocks in bash and ```python
blocks in one Python namespace per page, in a scratch folder that sees the repository's examples/ (the built-in
models come with the package).

    python scripts/run_docs.py docs/tutorial.md [more pages]

Exits non-zero at the first command that fails, showing it and its output. tests/test_docs.py runs it, so the
tutorial cannot go stale.
"""

import os
import pathlib
import re
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"^```(sh|python)\n(.*?)^```", re.S | re.M)


def run_page(page: pathlib.Path, scratch: pathlib.Path) -> None:
    for folder in ("examples",):
        link = scratch / folder
        if not link.exists():
            link.symlink_to(ROOT / folder, target_is_directory=True)
    environment = {**os.environ, "PATH": f"{pathlib.Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
                   "PYTHONPATH": str(ROOT)}
    namespace: dict = {"__name__": "__tutorial__"}
    blocks = BLOCK.findall(page.read_text(encoding="utf-8"))
    if not blocks:
        raise SystemExit(f"{page} has no ```sh or ```python blocks")
    for kind, code in blocks:
        print(f"--- {page.name}: {kind}\n{code.rstrip()}", flush=True)
        if kind == "sh":
            result = subprocess.run(["bash", "-euo", "pipefail", "-c", code], cwd=scratch, env=environment)
            if result.returncode != 0:
                raise SystemExit(f"{page}: this command failed with exit status {result.returncode}:\n{code}")
        else:
            previous = os.getcwd()
            os.chdir(scratch)
            try:
                exec(compile(code, str(page), "exec"), namespace)
            finally:
                os.chdir(previous)


def main(pages) -> int:
    for page in pages:
        with tempfile.TemporaryDirectory(prefix="graphc-docs-") as scratch:
            run_page(pathlib.Path(page).resolve(), pathlib.Path(scratch))
    print(f"every command of {', '.join(pages)} ran")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["docs/tutorial.md"]))
