"""W2 and W4 of workloads.md on an NVIDIA GPU: graphc's CUDA backend against PyTorch on CUDA (cuDNN's LSTM for W4),
in the same run, written into docs/benchmarks.md with the GPU's name.

    python benchmarks/gpu.py                 # on a machine with an NVIDIA GPU, numba-cuda and a CUDA build of torch
    python benchmarks/gpu.py --smoke         # tiny shapes, printed only: checks the script (CUDA simulator works)

Both peers start from graphc's initial weights and train on the same batch; each step ends by reading the loss
back to the host, so every timing includes the GPU finishing its work.
"""

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402

from benchmarks import mlp, recurrent, report  # noqa: E402

WORKLOADS = {"W2": (mlp, mlp.WORKLOADS["W2"]), "W4": (recurrent, recurrent.WORKLOADS["W4"])}
SMOKE = {"W2": (mlp, {"sizes": (8, 16, 16, 4), "activation": "relu", "batch": 8, "lr": 0.1}),
         "W4": (recurrent, {"kind": "lstm", "vocabulary": 65, "embed": 4, "hidden": 8, "steps": 3, "batch": 2})}
LOSS_STEPS = 10


def torch_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def gpu_name() -> str:
    from numba import cuda

    name = cuda.get_current_device().name
    return name.decode() if isinstance(name, bytes) else str(name)


def measure(module, workload, peer: str, steps: int, repeats: int) -> dict:
    weights = module.initial_weights(workload)
    start = time.perf_counter()
    if peer == "graphc":
        step = module.graphc_step(workload, weights, device="cuda")
    else:
        step = module.torch_step(workload, weights, device=torch_device())
    step()  # compiles graphc's kernels (or loads them from the cache) and warms cuDNN
    return report.measure(step, time.perf_counter() - start, steps, repeats, LOSS_STEPS)


def table(results, arguments) -> list[str]:
    lines = ["", f"GPU: {gpu_name()}. {report.environment()[1]}",
             f"Command: `python benchmarks/gpu.py --steps {arguments.steps} --repeats {arguments.repeats}`; ms/step "
             f"is the median of {arguments.repeats} repeats of {arguments.steps} steps after {LOSS_STEPS} warm-up "
             "steps, each step ending with its loss copied to the host.", ""]
    for name, row in results.items():
        lines += [f"### {name} on the GPU", "", *report.peer_rows(row, LOSS_STEPS), ""]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50, help="steps per repeat")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--smoke", action="store_true", help="tiny shapes, printed only (checks the script)")
    parser.add_argument("--print-only", action="store_true", help="measure and print; leave docs/benchmarks.md")
    arguments = parser.parse_args()
    results = {}
    for name, (module, workload) in (SMOKE if arguments.smoke else WORKLOADS).items():
        results[name] = {}
        for peer in ("graphc", "PyTorch eager"):
            results[name][peer] = measure(module, workload, peer, arguments.steps, arguments.repeats)
            print(name, peer, json.dumps(results[name][peer]), flush=True)
    if not (arguments.print_only or arguments.smoke):
        report.write_section("gpu", table(results, arguments))
    return 0


if __name__ == "__main__":
    sys.exit(main())
