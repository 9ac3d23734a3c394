"""Data-parallel training on a local Ray cluster: W2 and W4 steps per second in one process and with 1 and 2 workers
(same run, same machine), the time of a step spent outside the workers' computing (moving parameters and
gradients, Ray's scheduling, the reduction), and from those measurements a model of throughput at 4-64 workers
over 10-100 Gbit/s links.

    python benchmarks/distributed.py               # measure, print, write the table into docs/benchmarks.md
    python benchmarks/distributed.py --print-only

Each worker is a Ray actor with one CPU; the machine's two cores are shared by the threads of whatever runs: one
process uses both for its BLAS, each of two workers one.
"""

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import benchmarks.threads  # noqa: E402, F401 - sets the thread variables before NumPy loads

# isort: split

import argparse  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import graphc  # noqa: E402
from benchmarks import mlp, recurrent, report  # noqa: E402
from graphc.distributed import DataParallelStep  # noqa: E402
from graphc.models import mlp as mlp_file  # noqa: E402
from graphc.train import language  # noqa: E402

LINKS = (10, 100)  # Gbit/s
SCALES = (4, 8, 16, 32, 64)


def workload(name: str):
    """The model's loss, parameters, initial weights, one batch of feeds (weights excluded) and its units."""
    if name == "W2":
        w = mlp.WORKLOADS["W2"]
        model = mlp_file.build(sizes=w["sizes"], activation=w["activation"])
        rng = np.random.default_rng(0)
        feeds = {"x": rng.normal(size=(w["batch"], w["sizes"][0])).astype(np.float32),
                 "labels": rng.integers(0, w["sizes"][-1], w["batch"])}
        return model, feeds, w["batch"], "examples"
    w = recurrent.WORKLOADS[name]
    model = recurrent.build(w)
    tokens, targets = recurrent.window(w)
    return model, {"tokens": tokens, "targets": targets}, w["batch"] * w["steps"], "tokens"


def timed(step, feeds, steps: int, repeats: int) -> tuple[float, dict]:
    """Median seconds per step, and the mean of the data-parallel step's timings over the measured steps."""
    step(feeds)
    timings, parts = [], {}
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            step(feeds)
            for key, value in getattr(step, "last_timings", {}).items():
                parts[key] = parts.get(key, 0.0) + value / (steps * repeats)
        timings.append((time.perf_counter() - start) / steps)
    return float(np.median(timings)), parts


def measure(name: str, steps: int, repeats: int) -> dict:
    import ray

    model, batch, units, unit = workload(name)
    weights = graphc.init_params(model.params, seed=0)
    state = language.zero_state(model, next(iter(batch.values())).shape[1]) if model.state else {}
    outputs = [model.outputs[o] for o in model.state.values()]
    carried = {n: i for i, n in enumerate(model.state)}
    feeds = {**batch, **state, **{k: v.copy() for k, v in weights.items()}}
    one = graphc.optim.TrainingStep(model.loss, model.params, graphc.optim.SGD(0.1), outputs=outputs)
    row = {"unit": unit, "units": units, "one": timed(one, feeds, steps, repeats)[0],
           "bytes": sum(v.nbytes for v in weights.values())}
    for workers in (1, 2):
        threads = str(max(1, (os.cpu_count() or 2) // workers))
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False,
                 runtime_env={"env_vars": {"OPENBLAS_NUM_THREADS": threads, "OMP_NUM_THREADS": threads}})
        step = DataParallelStep(model.loss, model.params, graphc.optim.SGD(0.1), outputs=outputs, workers=workers,
                                carried=carried)
        feeds = {**batch, **state, **{k: v.copy() for k, v in weights.items()}}
        row[workers] = timed(step, feeds, steps, repeats)
        step.close()
        ray.shutdown()
    return row


def model_rows(row: dict) -> list[str]:
    """Steps per second at N workers: the whole batch's computing split N ways, the step's measured fixed cost
    outside the workers, the parameters sent from the driver to N workers over its link, and a tree of
    log2(N) pairwise gradient sums, each moving one gradient over a link (gradients are as large as parameters)."""
    compute = row[1][1]["workers"]  # one worker computing the whole batch
    fixed = max(row[2][0] - row[2][1]["workers"] - row[2][1]["update"], 0.0) + row[2][1]["update"]
    lines = ["| workers | " + " | ".join(f"{link} Gbit/s: steps/s (× one process)" for link in LINKS) + " |",
             "|---|" + "---|" * len(LINKS)]
    for workers in SCALES:
        cells = []
        for link in LINKS:
            seconds_per_byte = 8 / (link * 1e9)
            moving = (workers + math.ceil(math.log2(workers)) + 1) * row["bytes"] * seconds_per_byte
            total = compute / workers + fixed + moving
            cells.append(f"{1 / total:.1f} ({row['one'] / total:.2f}×)")
        lines.append(f"| {workers} | " + " | ".join(cells) + " |")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--print-only", action="store_true", help="measure and print; leave docs/benchmarks.md")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    arguments = parser.parse_args()
    lines = ["", *report.environment(), f"Command: `python benchmarks/distributed.py --steps {arguments.steps} "
             f"--repeats {arguments.repeats}` (median of the repeats; the parts are means over the measured steps)."]
    for name in ("W2", "W4"):
        row = measure(name, arguments.steps, arguments.repeats)
        print(name, row, flush=True)
        lines += ["", f"**{name}** ({row['bytes'] / 1e6:.2f} MB of parameters, and as much gradient, a step):", "",
                  f"| run | ms/step | steps/s | {row['unit']}/s | workers computing, ms | update on the driver, "
                  "ms | the rest (moving data, Ray), ms |", "|---|---|---|---|---|---|---|",
                  f"| one process | {row['one'] * 1e3:.1f} | {1 / row['one']:.1f} | {row['units'] / row['one']:,.0f} "
                  "| | | |"]
        for workers in (1, 2):
            seconds, parts = row[workers]
            rest = seconds - parts["workers"] - parts["update"]
            lines.append(f"| {workers} worker{'s' if workers > 1 else ''} | {seconds * 1e3:.1f} | {1 / seconds:.1f} "
                         f"| {row['units'] / seconds:,.0f} | {parts['workers'] * 1e3:.1f} | "
                         f"{parts['update'] * 1e3:.1f} | {rest * 1e3:.1f} |")
        lines += ["", f"{name} on paper, from the rows above:", "", *model_rows(row)]
    if not arguments.print_only:
        report.write_section("distributed", lines)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
