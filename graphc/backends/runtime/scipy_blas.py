"""SciPy's BLAS for Numba's products, loaded without ``scipy.linalg``.

Numba's products (``np.dot`` in ``cpu.dot``, ``numba_xxgemm`` in ``blas.py``) call ``sgemm``/``dgemm`` from the
extension ``scipy.linalg.cython_blas``, which Numba imports at its first call. Importing it the usual way runs
``scipy.linalg``'s ``__init__`` first, all of the package: 0.10 s in a new process that has NumPy and Numba, a third
of a warm W4 start, against 3 ms for the extension alone (AMD EPYC, 2026-12-07). So the extension is loaded here by
itself, on this module's import. A later ``import scipy.linalg`` works as ever and finds this module (``from
scipy.linalg import cython_blas`` too); only the package's attribute ``cython_blas`` stays unset, which no code of
Numba or SciPy reads.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys

NAME = "scipy.linalg.cython_blas"


def load() -> None:
    if NAME in sys.modules or "scipy.linalg" in sys.modules:
        return
    import scipy

    spec = importlib.machinery.PathFinder.find_spec(NAME, [os.path.join(os.path.dirname(scipy.__file__), "linalg")])
    if spec is None:  # not where it should be: Numba's own import says why
        return
    module = importlib.util.module_from_spec(spec)
    sys.modules[NAME] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[NAME]
        raise


load()
