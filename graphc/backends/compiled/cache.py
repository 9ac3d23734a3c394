"""The on-disk cache of generated modules, keyed by a structural hash of the graph, the shape binding, the dtypes
and the graphc version.

Modules are real files (not exec'd strings), so Numba's own cache (``cache=True``) keeps their machine code beside
them: a second process compiling the same model imports the module and loads the machine code without compiling.
Writes are atomic (a temporary file, then a rename). Each file ends with a checksum of its contents; a file that
fails it (truncated, edited, corrupt) is rebuilt, with a warning. Numba's machine-code files for a module are
recorded (their SHA-256, beside the module) after the calls that wrote them; before a module's first call, files
that differ from the record are removed, with a warning, so Numba compiles again instead of failing to load them.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import pathlib
import shutil
import sys
import warnings

from ...errors import GraphcError
from ...files import atomic_write

CHECKSUM = "# checksum "
MARKER = ".graphc-cache"  # says that graphc made (or uses) the folder: ``clear`` refuses a folder without it


class CacheError(GraphcError):
    """A cache operation that would touch files graphc did not write."""


class CacheWarning(UserWarning):
    """A cache entry was corrupt or stale and has been rebuilt."""


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
    data = path.read_bytes() if path.exists() else b""
    text = data.decode(errors="replace")
    if not _intact(text):
        if data:
            warnings.warn(f"graphc: the cached module {path} was corrupt; it is generated again", CacheWarning,
                          stacklevel=3)
        text = _sealed(generate())
        atomic_write(path, text.encode())
    name = f"graphc_kernels_{key[:40]}"
    if name in sys.modules:
        return sys.modules[name], text
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules[name] = module
    _check_machine_code(module.run, path)
    return module, text


def _machine_code_files(function) -> list[pathlib.Path]:
    """The files Numba's cache keeps for a dispatcher: its index and one machine-code file per signature (none for
    a CUDA module's host function, or with Numba's cache off)."""
    cache_file = getattr(getattr(function, "_cache", None), "_cache_file", None)
    if cache_file is None:
        return []
    index = pathlib.Path(cache_file._index_path)
    stem = index.name[: -len(".nbi")]
    return [file for file in [index, *sorted(index.parent.glob(f"{stem}.*.nbc"))] if file.exists()]


def _record_path(module_path: pathlib.Path) -> pathlib.Path:
    return module_path.with_suffix(".machine-code.json")


def _digests(files: list[pathlib.Path]) -> dict[str, str]:
    return {file.name: hashlib.sha256(file.read_bytes()).hexdigest() for file in files}


def _check_machine_code(function, module_path: pathlib.Path) -> None:
    """Remove Numba's cached machine code for ``function`` unless it is exactly what graphc recorded."""
    files = _machine_code_files(function)
    if not files:
        return
    record = _record_path(module_path)
    try:
        recorded = json.loads(record.read_text())
    except (OSError, ValueError):
        recorded = None
    if recorded == _digests(files):
        return
    for file in files:
        file.unlink(missing_ok=True)
    warnings.warn(f"graphc: the machine code Numba cached for {module_path.name} was not the code recorded when it "
                  "was written (corrupt, truncated, or from an interrupted run); it is compiled again", CacheWarning,
                  stacklevel=4)


def record_machine_code(module) -> None:
    """After a call that may have compiled (a new signature): record the machine-code files as they are now."""
    path = pathlib.Path(module.__file__)
    files = _machine_code_files(module.run)
    if files:
        atomic_write(_record_path(path), json.dumps(_digests(files), sort_keys=True).encode())


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
