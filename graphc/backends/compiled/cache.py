"""The on-disk cache of generated modules, keyed by a structural hash of the graph, the shape binding, the dtypes
and the graphc version.

Modules are real files (not exec'd strings), so Numba's own cache (``cache=True``) keeps their machine code beside
them: a second process compiling the same model imports the module and loads the machine code without compiling.
Writes are atomic (a temporary file, then a rename). Each file ends with a checksum of its contents; a file that
fails it (truncated, edited, not UTF-8) is generated again, with a warning. Numba's machine-code files heal the same
way (``runtime/jit.py``).
"""

from __future__ import annotations

import hashlib
import os
import pathlib
import shutil
import sys
import types
import warnings

from ...errors import CacheWarning, GraphcError
from ...files import atomic_write
from ..codegen.program import loops_split_requested, threaded_products, threads_requested
from ..runtime.jit import RUNTIME_DIGEST, source_digest

CHECKSUM = "# checksum "
MARKER = ".graphc-cache"  # says that graphc made (or uses) the folder: ``clear`` refuses a folder without it


class CacheError(GraphcError):
    """A cache operation that would touch files graphc did not write."""


def directory() -> pathlib.Path:
    """``$GRAPHC_CACHE_DIR``, else ``~/.cache/graphc``."""
    configured = os.environ.get("GRAPHC_CACHE_DIR")
    return pathlib.Path(configured) if configured else pathlib.Path.home() / ".cache" / "graphc"


def prepared() -> pathlib.Path:
    """The cache folder, created private (0700: generated code is imported from it, and compiled code may reveal
    a model's structure) and marked as graphc's."""
    folder = directory()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    marker = folder / MARKER
    if not marker.exists():
        atomic_write(marker, b"graphc's cache of generated modules: graphc cache --clear removes only its files\n")
    return folder


def _sealed(source: str) -> str:
    return f"{source}{CHECKSUM}{hashlib.sha256(source.encode()).hexdigest()}\n"


def _intact(text: str) -> bool:
    body, marker, digest = text.rpartition(CHECKSUM)
    return bool(marker) and hashlib.sha256(body.encode()).hexdigest() == digest.strip()


def load(key: str, generate) -> tuple[object, str]:
    """The module for ``key`` (generating its source with ``generate()`` when missing or broken) and its source."""
    path = prepared() / f"graphc_{key[:40]}.py"
    present = path.exists()
    text = path.read_bytes().decode(errors="replace") if present else ""
    if not _intact(text):
        if present:
            warnings.warn(f"graphc: the cached module {path} was corrupt; it is generated again", CacheWarning,
                          stacklevel=3)
        text = _sealed(generate())
        atomic_write(path, text.encode())
    name = f"graphc_kernels_{key[:40]}"
    if name in sys.modules:
        return sys.modules[name], text
    # The text just checked is what runs (no bytecode file, which could be damaged on its own); Numba finds the
    # module's file through the code's file name, for its cache and its error messages.
    module = types.ModuleType(name)
    module.__file__ = str(path)
    exec(compile(text, str(path), "exec"), module.__dict__)  # noqa: S102 - graphc's own generated, verified source
    sys.modules[name] = module
    return module, text


def clear() -> int:
    """Delete the modules graphc cached and their compiled code, nothing else; returns how many modules there
    were. A folder without graphc's marker is refused: GRAPHC_CACHE_DIR may name a folder of the user's own."""
    folder = directory()
    if not folder.exists():
        return 0
    if not (folder / MARKER).exists():
        raise CacheError(f"{folder} is not a graphc cache (it has no {MARKER} file); nothing was removed")
    modules = list(folder.glob("graphc_*.py"))
    ours = [*folder.glob("graphc_*"), *folder.glob("__pycache__/graphc_*")]
    for path in ours:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    return len(modules)


def generator_key() -> str:
    """A hash of the code generator's own source and the runtime's: a changed backend never loads modules an older
    one wrote."""
    folder = pathlib.Path(__file__).parent.parent
    return source_digest([folder / "lowering.py", *sorted((folder / "codegen").glob("*.py"))], RUNTIME_DIGEST)


GENERATOR_KEY = generator_key()


def specialization_key(graph_key: str, binding: dict, dtypes: tuple, extra: str = "") -> str:
    """The cache key of one compiled specialization: the graph's key, the shape binding, the dtypes, the code
    generator's version, and ``GRAPHC_PARALLEL`` and ``GRAPHC_SPLIT_LOOPS`` (the generated code's threads depend on
    them)."""
    text = (f"{graph_key}|{sorted((str(k), v) for k, v in binding.items())}|{dtypes}|{extra}|{GENERATOR_KEY}"
            f"|parallel={threads_requested()}|products={threaded_products()}|rows={loops_split_requested()}")
    return hashlib.sha256(text.encode()).hexdigest()
