"""Writing files so that nothing is lost: a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

import functools
import os
import pathlib
import tempfile
from collections.abc import Callable


@functools.cache
def _umask() -> int:
    """The process's umask, read once (reading it means setting it, which another thread could see)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _writer_alive(rest: str) -> bool:
    """Whether the process that is writing a temporary (its name's ``<pid>.<random>.tmp``) still runs: another
    process writing the same file now (two compiling one model) keeps its temporary; a killed writer's is stale."""
    pid = rest.split(".", 1)[0]
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def write_atomically(path, write: Callable) -> pathlib.Path:
    """Call ``write(file)`` on a temporary file beside ``path``, flush it to disk, then rename it over ``path``
    (atomic on POSIX). Temporaries a killed writer left for ``path`` are removed first (those of a writer still
    running are kept), and the file gets the
    permissions the user's umask gives a new file (mkstemp's own are 0600, unreadable to anyone else)."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{path.name}."
    for stale in path.parent.glob(f"{prefix}*.tmp"):
        if not _writer_alive(stale.name[len(prefix):]):
            stale.unlink(missing_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f"{prefix}{os.getpid()}.", suffix=".tmp")
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
