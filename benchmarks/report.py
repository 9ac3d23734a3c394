"""Shared by the benchmarks: the machine's float32 GEMM rate, the environment, and docs/benchmarks.md sections."""

import importlib.metadata
import os
import pathlib
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"


def in_fresh_process(code: str, cache: str | None = None, runtime: str | None = None) -> str:
    """The last word ``code`` prints, run in a new Python process (with ``time`` imported and the project on its
    path), with graphc's and Numba's caches in ``cache`` when given, and the runtime's kernels' machine code in
    ``runtime`` (else where setup precompiled it)."""
    environment = dict(os.environ)
    if cache is not None:
        environment.update(GRAPHC_CACHE_DIR=cache, NUMBA_CACHE_DIR=os.path.join(cache, "numba"))
    if runtime is not None:
        environment.update(GRAPHC_RUNTIME_CACHE_DIR=runtime)
    prelude = f"import sys, time; sys.path.insert(0, {str(ROOT)!r})\n"
    return subprocess.run([sys.executable, "-c", prelude + code], env=environment, capture_output=True, text=True,
                          check=True).stdout.split()[-1]


def cold_and_warm(code: str) -> tuple[float, float]:
    """Seconds that ``code`` prints in a new process with empty caches, then in another with them filled."""
    with tempfile.TemporaryDirectory() as folder:
        return float(in_fresh_process(code, folder)), float(in_fresh_process(code, folder))


def gemm_gflops(size: int = 1024, repeats: int = 7) -> float:
    """The machine's float32 matrix-multiply rate through NumPy's BLAS (median of repeats)."""
    a, b = (np.random.default_rng(0).random((size, size), dtype=np.float32) for _ in range(2))
    a @ b
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - start)
    return 2 * size**3 / np.median(times) / 1e9


def cpu_model() -> str:
    for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def versions(*packages: str) -> str:
    found = []
    for package in packages:
        try:
            found.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            found.append(f"{package} (not installed)")
    return ", ".join(found)


def blas_kernels() -> str:
    """Which BLAS NumPy (and so graphc) runs, and with which kernels, as threadpoolctl reads it from the library."""
    from threadpoolctl import threadpool_info

    from benchmarks.threads import UNSET

    found = [f"{pool.get('internal_api')} {pool.get('version')} ({pool.get('architecture')} kernels, "
             f"{pool.get('num_threads')} threads)" for pool in threadpool_info() if pool.get("user_api") == "blas"
             and "numpy" in pool.get("filepath", "")]
    unset = f"; {' and '.join(UNSET)} unset for this run" if UNSET else ""
    return f"NumPy's BLAS: {', '.join(found) or 'not found'}{unset}"


def environment() -> list[str]:
    return [f"Machine: {cpu_model()}, {os.cpu_count()} cores; Python {platform.python_version()}.",
            f"Libraries: {versions('graphc', 'numba', 'numpy', 'torch', 'jax', 'jaxlib')}.",
            "Threads: 2 for every peer (OMP/OpenBLAS/MKL/Numba thread variables, torch.set_num_threads(2)).",
            f"{blas_kernels()}."]


def write_section(name: str, lines: list[str]) -> None:
    """Replace the section between ``<!-- name:begin -->`` and ``<!-- name:end -->`` of docs/benchmarks.md."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    block = "\n".join([begin, *lines, end])
    if begin in text:
        text = text[: text.index(begin)] + block + text[text.index(end) + len(end):]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    DOC.write_text(text)


def median_seconds(function, calls: int, repeats: int = 5) -> float:
    """Median over ``repeats`` of the mean seconds per call of ``function`` (called once before, to warm up)."""
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            function()
        times.append((time.perf_counter() - start) / calls)
    return float(np.median(times))


def measure(step, setup: float, steps: int, repeats: int, loss_steps: int) -> dict:
    """Time a peer's ``step`` (already called once, ``setup`` seconds including that call): ``loss_steps - 1`` more
    steps, whose last loss is reported, then the median ms/step of ``repeats`` runs of ``steps`` steps."""
    for _ in range(loss_steps - 1):
        loss = step()
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            step()
        timings.append((time.perf_counter() - start) / steps * 1000)
    return {"ms": float(np.median(timings)), "spread": float(np.max(timings) - np.min(timings)),
            f"loss{loss_steps}": loss, "setup": setup}


def peer_rows(row: dict, loss_steps: int) -> list[str]:
    """A workload's table: ms/step, the speed-up against PyTorch eager, the loss, the first step."""
    base = row.get("PyTorch eager", {}).get("ms")
    lines = [f"| peer | ms/step | speed-up vs PyTorch eager | loss after {loss_steps} steps | first step "
             "(incl. compile) |", "|---|---|---|---|---|"]
    for peer, values in row.items():
        if "missing" in values:
            lines.append(f"| {peer} | not installed | | | |")
            continue
        speedup = f"{base / values['ms']:.2f}×" if base else ""
        lines.append(f"| {peer} | {values['ms']:.3f} ± {values['spread'] / 2:.3f} | {speedup} | "
                     f"{values[f'loss{loss_steps}']:.5f} | {values['setup']:.2f} s |")
    return lines


def mlp_table(results: dict, workloads: dict, gemm: float, arguments, loss_steps: int) -> list[str]:
    lines = ["", *environment(), f"Measured float32 GEMM rate (NumPy, 1024³): {gemm:.1f} GFLOP/s.",
             f"Command: `python benchmarks/mlp.py --steps {arguments.steps} --repeats {arguments.repeats}`; "
             f"ms/step is the median of {arguments.repeats} repeats of {arguments.steps} steps after "
             f"{loss_steps} warm-up steps.", ""]
    for name, workload in workloads.items():
        row = results[name]
        sizes = " → ".join(map(str, workload["sizes"]))
        lines += [f"### {name}: MLP {sizes}, {workload['activation']}, batch {workload['batch']}, SGD lr "
                  f"{workload['lr']}", "", *peer_rows(row, loss_steps)]
        ours = row["graphc"]
        lines += ["", f"graphc compile + first step in a new process: {ours['cold']:.2f} s cold (empty cache), "
                      f"{ours['warm']:.2f} s warm (cache filled). graphc achieves {ours['gflops']:.1f} GFLOP/s in "
                      f"matrix products ({ours['gflops'] / gemm:.0%} of the measured GEMM rate).", ""]
    return lines
