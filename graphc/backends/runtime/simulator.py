"""Settings and one repair for Numba's CUDA simulator, which runs every CUDA thread of a block as a Python thread.
Imported by ``runtime/cuda.py`` only when the simulator is on (``NUMBA_ENABLE_CUDASIM=1``, as in the tests)."""

from __future__ import annotations

import sys
import threading

import numpy as np
from numba.core import types
from numba.np import numpy_support


def configure() -> None:
    # The simulator's block manager polls its threads at every barrier, so each barrier costs a few of Python's
    # thread switches: with 0.1 ms switches instead of 5 ms, a small LSTM's training step (embedding 4, hidden 8,
    # T 6) took 5 s instead of 26 s.
    sys.setswitchinterval(1e-4)
    _serialize_shared_arrays()


def _serialize_shared_arrays() -> None:
    """``cuda.shared.array`` finds a block's array by the line that asks for it, looking it up and storing a new one
    unlocked (numba-cuda 0.30.4): two threads of a block arriving together each got an array of their own, and a
    reduction then read slots no thread of its array wrote. Seen as a compiled LSTM's loss 0.6% off about once a
    CI run, and 1 launch in 300 of a row sum while another process loaded the machine. The lookup is locked here."""
    from numba.cuda.simulator import kernelapi

    lock = threading.Lock()
    unlocked = kernelapi.FakeCUDAShared.array

    def array(self, shape, dtype, alignment=None):
        if shape == 0 or alignment is not None:  # dynamic shared memory has no lookup; alignment raises
            return unlocked(self, shape, dtype, alignment)
        caller = sys._getframe(1)
        line = (caller.f_code.co_filename, caller.f_lineno)
        with lock:
            found = self._allocations.get(line)
            if found is None:
                dtype = numpy_support.as_dtype(dtype) if isinstance(dtype, types.Type) else dtype
                found = self._allocations[line] = np.empty(shape, dtype)
        return found

    kernelapi.FakeCUDAShared.array = array
