"""Runtime kernels called without being linked into their callers: through a symbol graphc names itself.

Why: Numba links the LLVM code of every function a compiled function calls into the caller's module, then optimizes
and emits it again. Half of W4's ``run`` was the runtime's kernels, compiled once more for every new model
(``benchmarks/profile_compile.py``). A kernel wrapped by ``unlinked`` is compiled (or loaded from its cache) once;
its callers declare it by a name and call its machine code, with Numba's own calling convention (so its exceptions
reach the caller as from a linked call).

The name is ``graphc.kernel.<module>.<function>.<digest of the signature>``, registered with LLVM's symbol table
(``llvmlite.binding.add_symbol``) when a caller is compiled. Numba's own names could not serve: they carry a counter
of the process that compiled them, so a caller cached in one process could name a symbol that a callee compiled
again in another no longer defines. A cached caller names its callees in its machine code; before it is loaded,
``resolve`` finds each name's kernel and signature in the kernel's own cache and registers it. A name that cannot be
resolved makes the caller a cache miss, compiled again: LLVM would abort on an unresolved symbol, not raise.
"""

from __future__ import annotations

import hashlib
import importlib
import re

from llvmlite import binding
from numba import types
from numba.core import cgutils
from numba.core.registry import CPUDispatcher as Dispatcher
from numba.extending import intrinsic

PREFIX = "graphc.kernel."
NAME = re.compile(rb"graphc\.kernel\.[\w.]+")
KERNELS: dict[str, object] = {}  # "<module>.<function>" -> its dispatcher
REGISTERED: set[str] = set()


def _identity(dispatcher) -> str:
    function = dispatcher.py_func
    return f"{function.__module__}.{function.__qualname__}"


def _digest(arguments: tuple) -> str:
    return hashlib.sha1(str(arguments).encode()).hexdigest()[:16]


def register(dispatcher, arguments: tuple) -> tuple[str, object]:
    """Compile (or load) ``dispatcher`` for ``arguments`` and give its machine code graphc's name; returns the name
    and the compile result."""
    dispatcher.compile(arguments)
    result = dispatcher.overloads[arguments]
    name = f"{PREFIX}{_identity(dispatcher)}.{_digest(arguments)}"
    if name not in REGISTERED:
        address = result.library.get_pointer_to_function(result.fndesc.mangled_name)
        if not address:
            raise RuntimeError(f"graphc: no machine code for {name}")
        binding.add_symbol(name, address)
        REGISTERED.add(name)
    return name, result


def call_by_name(context, builder, name: str, returned, arguments: tuple, values: list):
    """(status, value) of a call of the machine code registered as ``name`` (``register``), declared in the
    caller's module with Numba's calling convention; the caller decides what a failed status does."""
    function_type = context.call_conv.get_function_type(returned, arguments)
    function = cgutils.get_or_insert_function(builder.module, function_type, name)
    return context.call_conv.call_function(builder, function, returned, arguments, values)


def unlinked(dispatcher):
    """An intrinsic that calls ``dispatcher`` (an ``njit`` function) with any arguments, unlinked."""
    KERNELS[_identity(dispatcher)] = dispatcher

    @intrinsic
    def call(typing_context, *arguments):
        arguments = tuple(types.unliteral(argument) for argument in arguments)
        name, result = register(dispatcher, arguments)
        returned = result.signature.return_type

        def codegen(context, builder, signature, values):
            values = cgutils.unpack_tuple(builder, values[0], len(arguments))
            status, value = call_by_name(context, builder, name, returned, arguments, values)
            with cgutils.if_unlikely(builder, status.is_error):
                context.call_conv.return_status_propagate(builder, status)
            return value

        return returned(types.StarArgTuple.from_types(arguments)), codegen

    call.dispatcher = dispatcher
    return call


def resolve(machine_code: bytes) -> bool:
    """Register every unlinked kernel that ``machine_code`` calls; False if one of them cannot be found."""
    for name in sorted({match.decode() for match in NAME.findall(machine_code)}):
        if name in REGISTERED:
            continue
        identity, digest = name[len(PREFIX):].rsplit(".", 1)
        dispatcher = KERNELS.get(identity) or _defined(identity)
        if dispatcher is None:
            return False
        found = [arguments for arguments in _signatures(dispatcher) if _digest(arguments) == digest]
        if not found:
            return False
        register(dispatcher, found[0])
    return True


def _defined(identity: str):
    """The ``njit`` function named ``<module>.<function>``, importing its module; None if there is none."""
    module, _, function = identity.rpartition(".")
    try:
        dispatcher = getattr(importlib.import_module(module), function, None)
    except ImportError:
        return None
    return dispatcher if isinstance(dispatcher, Dispatcher) else None


def _signatures(dispatcher) -> list[tuple]:
    """The argument types ``dispatcher`` is compiled for, in this process or in its disk cache."""
    signatures = list(dispatcher.overloads)
    files = getattr(dispatcher._cache, "_cache_file", None)  # an uncached function has none
    if files is not None:
        signatures += [getattr(key[0], "args", key[0]) for key in files._load_index()]
    return [tuple(arguments) for arguments in signatures]
