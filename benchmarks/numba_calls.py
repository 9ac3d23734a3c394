"""What a per-kernel split of the generated ``run`` would cost and save in Numba, measured on a stand-in: N
element-wise loop nests (each a sigmoid/tanh/exp/log1p expression over a 2-D array, the size of an LSTM gate kernel)
written inline in one ``@njit`` function, or as N cached ``@njit`` kernels that a small driver calls.

Each case compiles in a new process (Numba's first-use set-up paid before the clock starts) with an empty cache, or
with the cache a run of the same kernels filled ("kernels cached": the driver itself is new). "same" repeats one
kernel N times; "distinct" makes each kernel differ by a constant, as the kernels of a real graph differ.

    python benchmarks/numba_calls.py [N]
"""

import os
import pathlib
import subprocess
import sys
import tempfile

LOOP = """    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            x = a[i, j]
            y = b[j]
            s = 1.0 / (1.0 + math.exp(-(x + {constant}.0 * y)))
            t = math.tanh(x * y + s)
            {out}[i, j] = s * t + (1 - s) * x * math.exp(-t * t) + math.log1p(s * s)
"""

TIMER = """import sys, time
import numpy as np, numba
numba.njit(lambda a: a.sum())(np.ones(3))  # Numba's first-use set-up, before the clock
begin = time.perf_counter()
module = __import__(sys.argv[1])
module.drive(np.ones((8, 8)), np.ones(8), *[np.empty((8, 8)) for _ in range({n})])
print(time.perf_counter() - begin)
"""


def write_modules(folder: pathlib.Path, n: int) -> None:
    outs = ", ".join(f"out{k}" for k in range(n))
    header = f"import math\nimport numba\n\n@numba.njit(error_model='numpy')\ndef drive(a, b, {outs}):\n"
    for variant, constant in (("same", lambda k: 1), ("distinct", lambda k: k)):
        inline = header + "".join(LOOP.format(constant=constant(k), out=f"out{k}") for k in range(n))
        kernels = "import math\nimport numba\n\n" + "".join(
            f"@numba.njit(cache=True, error_model='numpy')\ndef kernel{k}(a, b, out):\n"
            + LOOP.format(constant=constant(k), out="out") for k in range(n if variant == "distinct" else 1))
        calls = (f"from kernels_{variant} import *\n" + header.replace("import math\n", "")
                 + "".join(f"    kernel{k if variant == 'distinct' else 0}(a, b, out{k})\n" for k in range(n)))
        (folder / f"inline_{variant}.py").write_text(inline)
        (folder / f"kernels_{variant}.py").write_text(kernels)
        (folder / f"calls_{variant}.py").write_text(calls)
    (folder / "timer.py").write_text(TIMER.format(n=n))


def seconds(folder: pathlib.Path, module: str, cache: str) -> float:
    environment = {**os.environ, "NUMBA_CACHE_DIR": cache}
    result = subprocess.run([sys.executable, "timer.py", module], cwd=folder, env=environment, check=True,
                            capture_output=True, text=True)
    return float(result.stdout.split()[-1])


def main(n: int) -> int:
    with tempfile.TemporaryDirectory() as scratch:
        folder = pathlib.Path(scratch)
        write_modules(folder, n)
        print(f"{n} loop nests; seconds to compile and run once, each in a new process")
        print("| kernels | inline in one function | one driver calling cached kernels, cold | the same, kernels "
              "cached |")
        print("|---|---|---|---|")
        for variant in ("same", "distinct"):
            with tempfile.TemporaryDirectory() as cache:
                inline = seconds(folder, f"inline_{variant}", cache)
                cold = seconds(folder, f"calls_{variant}", cache)
                warm = seconds(folder, f"calls_{variant}", cache)  # the driver is never cached: it compiles again
            print(f"| {variant} | {inline:.2f} | {cold:.2f} | {warm:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 30))
