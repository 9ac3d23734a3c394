"""Writing files so that nothing is lost: a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

import os
import pathlib
import tempfile
from collections.abc import Callable


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomically(path, write: Callable) -> pathlib.Path:
    """Call ``write(file)`` on a temporary file beside ``path``, flush it to disk, then rename it over ``path``
    (atomic on POSIX). Temporaries a killed writer left for ``path`` are removed first, and the file gets the
    permissions the user's umask gives a new file (mkstemp's own are 0600, unreadable to anyone else)."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{path.name}."
    for stale in path.parent.glob(f"{prefix}*.tmp"):
        stale.unlink(missing_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=prefix, suffix=".tmp")
    try:
        os.chmod(temporary, 0o666 & ~_umask())
        with os.fdopen(handle, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        pathlib.Path(temporary).unlink(missing_ok=True)
        raise
    return path


def atomic_write(path, data: bytes) -> pathlib.Path:
    """Write ``data`` to ``path`` atomically (``write_atomically``)."""
    return write_atomically(path, lambda file: file.write(data))
