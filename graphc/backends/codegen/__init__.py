"""Code generators: a lowered program printed as one Python module. ``program.py`` is the walk both share (and how
an emitter finds the method for an op), ``cpu.py`` the Numba emitter (one ``@njit`` entry point), ``structured.py``
its printers of structured ops, ``cuda.py`` the numba-cuda emitter built on it, ``scalar.py`` the element-wise
expression printer."""
