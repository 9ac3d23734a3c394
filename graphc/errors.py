"""graphc's exceptions, and where in the user's code a node was built.

Every error raised while a graph is built or run names the user's ``file:line``, found by walking the stack
to the first frame outside the graphc package (tests and examples are user code for this purpose, and so are the
built-in model files in graphc/models: they use only the public API, as a user's would).
"""

from __future__ import annotations

import os
import sys

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_MODELS_DIR = os.path.join(_PACKAGE_DIR, "models") + os.sep


def user_location() -> str:
    """``file:line`` of the innermost stack frame that is not graphc's own code."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        absolute = os.path.abspath(filename)
        module = str(frame.f_globals.get("__name__", ""))
        # Code generated for a graphc module (a dataclass's __init__, file "<string>") runs with its globals.
        ours = absolute.startswith(_PACKAGE_DIR) or module == "graphc" or module.startswith("graphc.")
        if not ours or absolute.startswith(_MODELS_DIR):
            return f"{_shorten(filename)}:{frame.f_lineno}"
        frame = frame.f_back
    return "<graphc>"


def _shorten(filename: str) -> str:
    """Paths below the working directory are shown relative to it, as a user types them."""
    try:
        relative = os.path.relpath(filename)
    except ValueError:  # another drive on Windows
        return filename
    return filename if relative.startswith("..") else relative


class GraphcError(Exception):
    """Base class of every error graphc raises on purpose."""

    def __init__(self, message: str, location: str | None = None):
        self.message = message
        self.location = location
        super().__init__(f"{message}\n  at {location}" if location else message)


class ShapeError(GraphcError, ValueError):
    """Shapes that an op cannot combine, found when the graph is built."""


class DTypeError(GraphcError, TypeError):
    """Dtypes that an op cannot combine; graphc never promotes silently."""


class FeedError(GraphcError, ValueError):
    """A missing, unknown or malformed value given to ``evaluate`` (or a compiled function)."""


class BindingError(FeedError):
    """A named dimension bound to two different sizes in one call."""


class InitializerError(GraphcError, ValueError):
    """An unknown initializer name, or one that cannot fill the parameter's shape."""


class DifferentiationError(GraphcError, ValueError):
    """A gradient that cannot be taken (a non-scalar loss, a non-float variable)."""


class IndexRangeError(GraphcError, IndexError):
    """An integer index (a token, a label, a row) outside the range its op allows; negative indices never wrap."""


class NumericalError(GraphcError, FloatingPointError):
    """NaN or Inf produced by an op, reported with the op and the user's line that built it."""


class CacheWarning(UserWarning):
    """A cache entry was corrupt or stale and has been rebuilt."""
