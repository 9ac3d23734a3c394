"""The on-disk cache of generated modules, keyed by a structural hash of the graph, the shape binding, the dtypes
and the graphc version.

Modules are real files (not exec'd strings), so Numba's own cache (``cache=True``) keeps their machine code beside
them: a second process compiling the same model imports the module and loads the machine code without compiling.
Writes are atomic (a temporary file, then a rename). Each file ends with a checksum of its contents; a file that
fails it (truncated, edited, corrupt) is rebuilt.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import pathlib
import shutil
import sys

from ...files import atomic_write

CHECKSUM = "# checksum "


def directory() -> pathlib.Path:
    """``$GRAPHC_CACHE_DIR``, else ``~/.cache/graphc``."""
    configured = os.environ.get("GRAPHC_CACHE_DIR")
    return pathlib.Path(configured) if configured else pathlib.Path.home() / ".cache" / "graphc"


def _sealed(source: str) -> str:
    return f"{source}{CHECKSUM}{hashlib.sha256(source.encode()).hexdigest()}\n"


def _intact(text: str) -> bool:
    body, marker, digest = text.rpartition(CHECKSUM)
    return bool(marker) and hashlib.sha256(body.encode()).hexdigest() == digest.strip()


def load(key: str, generate) -> tuple[object, str]:
    """The module for ``key`` (generating its source with ``generate()`` when missing or broken) and its source."""
    folder = directory()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"graphc_{key[:40]}.py"
    text = path.read_text() if path.exists() else ""
    if not _intact(text):
        text = _sealed(generate())
        atomic_write(path, text.encode())
    name = f"graphc_kernels_{key[:40]}"
    if name in sys.modules:
        return sys.modules[name], text
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules[name] = module
    return module, text


def clear() -> int:
    """Delete every cached module and its compiled code; returns how many modules there were."""
    folder = directory()
    if not folder.exists():
        return 0
    count = len(list(folder.glob("graphc_*.py")))
    shutil.rmtree(folder)
    return count


def generator_key() -> str:
    """A hash of the code generator's own source: a changed backend never loads modules an older one wrote."""
    folder = pathlib.Path(__file__).parent.parent
    digest = hashlib.sha256()
    for path in [folder / "lowering.py", *sorted((folder / "codegen").glob("*.py")),
                 *sorted((folder / "runtime").glob("*.py"))]:
        digest.update(path.read_bytes())
    return digest.hexdigest()


GENERATOR_KEY = generator_key()


def specialization_key(graph_key: str, binding: dict, dtypes: tuple, extra: str = "") -> str:
    """The cache key of one compiled specialization: the graph's key, the shape binding, the dtypes, and the code
    generator's version."""
    text = f"{graph_key}|{sorted((str(k), v) for k, v in binding.items())}|{dtypes}|{extra}|{GENERATOR_KEY}"
    return hashlib.sha256(text.encode()).hexdigest()
