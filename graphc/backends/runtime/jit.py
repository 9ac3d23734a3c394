"""``njit``: Numba's CPU compiler with a disk cache that heals, for the runtime's kernels and generated modules.

Numba's own cache raises from deep inside a compile when one of its files is damaged (``UnpicklingError`` for a
garbled ``.nbc``, ``EOFError`` for an empty or truncated ``.nbi``), and keeps raising in every later process until
the user finds the file. Here every index and machine-code file ends with the SHA-256 of what precedes it, and a
machine-code file also holds the key it was written for: a file that fails either check, or fails to load for any
other reason, is reported in one warning line, removed, and compiled again.

The runtime's own kernels keep their machine code with graphc, not in ``NUMBA_CACHE_DIR``: in the package's
``__pycache__`` (or ``GRAPHC_RUNTIME_CACHE_DIR``), where setup precompiles them (``graphc cache --precompile``), so a
user's first model compiles only its own code. Generated modules keep Numba's choice (beside the module, in
``GRAPHC_CACHE_DIR``, unless ``NUMBA_CACHE_DIR`` says otherwise).

The key inside a data file guards a race: two processes adding different signatures of one function at once can
both pick the same free file number (Numba's index update is read-modify-write), so an index entry may point at the
other process's code; that entry is then a miss, never someone else's machine code.
"""

from __future__ import annotations

import hashlib
import io
import os
import pathlib
import pickle
import warnings

import numba
from numba.core.caching import (
    CompileResultCacheImpl,
    FunctionCache,
    IndexDataCacheFile,
    _CacheLocator,
    _SourceFileBackedLocatorMixin,
)
from numba.core.codegen import JITCodeLibrary
from numba.core.compiler import Compiler
from numba.core.runtime import rtsys
from numba.core.serialize import dumps

from ...errors import CacheWarning
from . import unlinked

DIGEST = 32  # bytes of SHA-256 at the end of each file
PACKAGE = pathlib.Path(__file__).resolve().parents[2]  # the graphc package: code in it is the runtime's


def source_digest(paths, start: str = "") -> str:
    """A hash of ``start`` and the contents of the files ``paths``, in order."""
    digest = hashlib.sha256(start.encode())
    for path in paths:
        digest.update(pathlib.Path(path).read_bytes())
    return digest.hexdigest()


RUNTIME_DIGEST = source_digest(sorted(pathlib.Path(__file__).resolve().parent.glob("*.py")))  # the runtime's


class DamagedEntry(Exception):
    """A cache file whose checksum does not match its contents."""


def sealed(payload: bytes) -> bytes:
    return payload + hashlib.sha256(payload).digest()


def unsealed(data: bytes, path: str) -> bytes:
    payload, digest = data[:-DIGEST], data[-DIGEST:]
    if len(data) < DIGEST or hashlib.sha256(payload).digest() != digest:
        raise DamagedEntry(f"{os.path.basename(path)} does not match its checksum")
    return payload


class CheckedFiles(IndexDataCacheFile):
    """Numba's index and data files for one function, each sealed with its checksum. Their names say so
    (``.sealed.nbi``): files that plain ``cache=True`` wrote (an older graphc) are never read as damaged ones."""

    def __init__(self, cache_path, filename_base, source_stamp):
        super().__init__(cache_path, f"{filename_base}.sealed", source_stamp)

    def save(self, key, data):
        super().save(key, (key, data))

    def load(self, key):
        entry = super().load(key)
        if entry is None:
            return None
        written_for, data = entry
        return data if written_for == key else None  # the race of the module docstring: a miss

    def _load_index(self):
        try:
            with open(self._index_path, "rb") as file:
                stream = io.BytesIO(unsealed(file.read(), self._index_path))
        except FileNotFoundError:
            return {}
        if pickle.load(stream) != self._version:
            return {}  # another Numba's index: its entries may not even unpickle here
        stamp, overloads = pickle.load(stream)
        return overloads if stamp == self._source_stamp else {}  # a changed source file: its entries are stale

    def _save_index(self, overloads):
        with self._open_for_write(self._index_path) as file:
            file.write(sealed(pickle.dumps(self._version, protocol=-1) + dumps((self._source_stamp, overloads))))

    def _load_data(self, name):
        path = self._data_path(name)
        with open(path, "rb") as file:
            return pickle.loads(unsealed(file.read(), path))

    def _save_data(self, name, data):
        with self._open_for_write(self._data_path(name)) as file:
            file.write(sealed(dumps(data)))

    def remove(self) -> None:
        """Delete this function's index and every machine-code file of it."""
        stem = self._index_name[: -len(".nbi")]
        folder = self._cache_path
        for name in os.listdir(folder) if os.path.isdir(folder) else []:
            if name == self._index_name or (name.startswith(stem + ".") and name.endswith(".nbc")):
                try:
                    os.unlink(os.path.join(folder, name))
                except FileNotFoundError:  # another process removed it first
                    pass


def runtime_cache_directory(source: str) -> str:
    """Where the machine code of a runtime kernel defined in the file ``source`` is kept."""
    configured = os.environ.get("GRAPHC_RUNTIME_CACHE_DIR")
    if configured:
        return os.path.join(configured, _CacheLocator.get_suitable_cache_subpath(source))
    return os.path.join(os.path.dirname(source), "__pycache__")


class RuntimeLocator(_SourceFileBackedLocatorMixin, _CacheLocator):
    """The cache folder of a function defined inside the graphc package (``runtime_cache_directory``); for any
    other function, or where that folder is not writable, Numba's own locators decide."""

    def __init__(self, function, source):
        self._py_file = source
        self._lineno = function.__code__.co_firstlineno
        self._cache_path = runtime_cache_directory(source)

    def get_cache_path(self):
        return self._cache_path

    @classmethod
    def from_function(cls, function, source):
        if not pathlib.Path(source).resolve().is_relative_to(PACKAGE):
            return None
        return super().from_function(function, source)


class LocatedCode(CompileResultCacheImpl):
    _locator_classes = [RuntimeLocator, *CompileResultCacheImpl._locator_classes]


class HealingCache(FunctionCache):
    """Numba's per-function cache over ``CheckedFiles``; an entry that does not load is compiled again."""

    _impl_class = LocatedCode

    def __init__(self, function):
        super().__init__(function)
        self._cache_file = CheckedFiles(cache_path=self._cache_path, filename_base=self._impl.filename_base,
                                        source_stamp=self._impl.locator.get_source_stamp())

    def _index_key(self, signature, codegen):
        # Numba keys machine code by the function's own bytecode and its file's stamp, not by the code it inlines or
        # links from other files (runtime/cpu.py's row_softmax holds cpu_math's exp): any change to the runtime's
        # source makes every entry a miss, compiled again, never stale code loaded.
        return (*super()._index_key(signature, codegen), RUNTIME_DIGEST)

    def _load_overload(self, signature, target_context):
        """Numba's, but an entry that calls an unlinked kernel that cannot be found is a miss (``unlinked.py``)."""
        if not self._enabled:
            return None
        data = self._cache_file.load(self._index_key(signature, target_context.codegen()))
        if data is None or not unlinked.resolve(data[0][2][0]):
            return None
        return self._impl.rebuild(target_context, data)

    def load_overload(self, signature, target_context):
        # Numba's refreshes the target context first, importing and installing every typing and lowering registry
        # it has (W4 warm: a third of its first step); machine code loaded from the cache needs only the runtime
        # (NRT) it calls. A compile after this refreshes the context itself (``CompilerBase``).
        rtsys.initialize(target_context)
        try:
            with self._guard_against_spurious_io_errors():
                return self._load_overload(signature, target_context)
        except Exception as error:  # noqa: BLE001 - whatever the damage, the remedy is to compile again
            self._cache_file.remove()
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            # Shown as "<cache folder>:0: CacheWarning: ...": one line, naming the folder, not Numba's frames.
            warnings.warn_explicit(f"graphc: Numba's cached machine code for {self._py_func.__qualname__} could "
                                   f"not be loaded ({reason}); it was removed and is compiled again", CacheWarning,
                                   self._cache_path, 0)
            return None


class GlueLibrary(JITCodeLibrary):
    """Machine code for a function that only calls others (a generated ``run`` whose loops are all functions):
    LLVM optimizes it at -O1, without vectorizers, instead of -O3. The bidirectional LSTM's ``run`` took 1.3 s of
    LLVM passes at -O3, more than all its loops; its views are intrinsics, emitted in place at any level."""

    def _optimize_functions(self, module):
        module.data_layout = self._codegen._data_layout
        for function in module.functions:
            manager, builder = self._codegen._function_pass_manager(
                opt=1, loop_vectorize=False, slp_vectorize=False)
            manager.run(function, builder)

    def _optimize_final_module(self):
        manager, builder = self._codegen._module_pass_manager(
            opt=1, loop_vectorize=False, slp_vectorize=False)
        manager.run(self._final_module, builder)


class GlueCompiler(Compiler):
    """Numba's compiler, its machine code in a ``GlueLibrary``."""

    def __init__(self, typing_context, target_context, library, *arguments):
        if library is None:
            library = GlueLibrary(target_context.codegen(), "run")
            library.enable_object_caching()
        super().__init__(typing_context, target_context, library, *arguments)


def njit(function=None, **options):
    """``numba.njit`` with ``HealingCache`` (what ``cache=True`` would give, made robust); as a decorator, with or
    without options."""

    def decorate(python_function):
        dispatcher = numba.njit(python_function, **options)
        dispatcher._cache = HealingCache(dispatcher.py_func)  # as Dispatcher.enable_caching installs its own
        return dispatcher

    return decorate if function is None else decorate(function)
