"""What only the CUDA backend has: parameters that stay on the device, its kernels compiled for a real GPU, its
errors, and that the CPU path never loads it. (The parity tests it shares with the CPU backend take the ``backend``
fixture: tests/test_cpu_backend.py, test_scan.py, test_trainer.py.)"""

import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import graphc
from graphc import optim
from graphc.backends.compiled import cuda as cuda_device
from graphc.train import Trainer

from .test_cpu_backend import mlp_feeds
from .test_trainer import classifier, examples, small_lm

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_parameters_and_optimizer_state_stay_on_the_device_between_steps(monkeypatch):
    from numba import cuda

    model, feeds = mlp_feeds()
    cpu_feeds = {k: v.copy() for k, v in feeds.items()}
    cpu = optim.TrainingStep(model.loss, model.params, optim.Adam(0.05, clip_norm=1.0))
    gpu = optim.TrainingStep(model.loss, model.params, optim.Adam(0.05, clip_norm=1.0), backend="cuda")
    uploads = []
    real_upload = cuda.to_device
    monkeypatch.setattr(cuda, "to_device", lambda array, *a, **k: uploads.append(np.shape(array))
                        or real_upload(array, *a, **k))
    before = {p.name: feeds[p.name].copy() for p in model.params}
    for step in range(3):
        uploads.clear()
        np.testing.assert_allclose(gpu(feeds), cpu(cpu_feeds), rtol=1e-5)
        parameters_and_slots = len(model.params) * 3  # each parameter, and Adam's two slots
        if step == 0:
            assert len(uploads) >= parameters_and_slots
        else:  # only the batch and the per-step scalars (learning rate, bias corrections) cross to the device
            assert sorted(uploads) == sorted([(8, 6), (8,)] + [(1,)] * len(gpu._scalars))
    for p in model.params:  # the caller's arrays are brought up to date on request only
        np.testing.assert_array_equal(feeds[p.name], before[p.name])
    gpu.synchronize()
    for p in model.params:
        np.testing.assert_allclose(feeds[p.name], cpu_feeds[p.name], rtol=1e-4, atol=1e-6)
    for name in cpu.state:
        np.testing.assert_allclose(gpu.state_dict()[name], cpu.state_dict()[name], rtol=1e-4, atol=1e-7)


def test_a_trainer_on_the_gpu_follows_the_cpu_run_and_checkpoints_current_parameters(tmp_path):
    runs = {}
    for backend in ("cpu", "cuda"):
        trainer = Trainer(classifier(), optim.SGD(0.5, momentum=0.5), seed=4, progress=False, backend=backend)
        history = trainer.fit(examples(count=24), examples(count=16, seed=1), epochs=2)
        runs[backend] = trainer, history
    (cpu, cpu_history), (gpu, gpu_history) = runs["cpu"], runs["cuda"]
    np.testing.assert_allclose(gpu_history.losses, cpu_history.losses, rtol=1e-9)
    assert gpu_history.epochs[-1]["validation_accuracy"] == cpu_history.epochs[-1]["validation_accuracy"]
    for name in cpu.params:  # fit() ends with the device's parameters copied back
        np.testing.assert_allclose(gpu.params[name], cpu.params[name], rtol=1e-9)
    resumed = Trainer.resume(gpu.save(tmp_path / "gpu.npz"), classifier(), progress=False, backend="cuda")
    for name in cpu.params:
        np.testing.assert_allclose(resumed.params[name], cpu.params[name], rtol=1e-9)


def test_a_language_models_carried_state_stays_on_the_device(language_data, monkeypatch):
    from numba import cuda

    vocabulary, train, _ = language_data
    uploads = []
    real_upload = cuda.to_device
    monkeypatch.setattr(cuda, "to_device", lambda array, *a, **k: uploads.append(np.shape(array))
                        or real_upload(array, *a, **k))
    losses, step_uploads = {}, []
    for backend in ("cpu", "cuda"):
        trainer = Trainer(small_lm(vocabulary), optim.SGD(0.5), progress=False, backend=backend)
        step_uploads.clear()
        history = trainer.fit(train, max_steps=3, callback=lambda *_: step_uploads.append(uploads.copy())
                              or uploads.clear())
        losses[backend] = history.losses
    np.testing.assert_allclose(losses["cuda"], losses["cpu"], rtol=1e-5)
    window = (train.seq_len, train.batch)
    for shapes in step_uploads[1:]:  # after the first step: the window's tokens and targets, and the learning rate
        assert sorted(shapes) == [(1,), window, window]
    assert all(hasattr(state, "copy_to_host") for state in trainer.carry.values())


def test_every_generated_kernel_compiles_to_ptx_for_a_gpu(tmp_path):
    """The simulator runs kernels as Python; Numba's CUDA compiler (NVVM, from the CUDA toolkit wheels, no GPU
    needed) is what rejects what a GPU could not run."""
    models = [f"graphc/models/{name}.py" for name in ("mlp", "lstm_lm", "gru_lm", "rnn_lm", "lstm_tagger",
                                                       "lstm_classifier", "text_cnn")]
    environment = {**os.environ, "NUMBA_ENABLE_CUDASIM": "0", "GRAPHC_CACHE_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "tests.cuda_ptx", "ops", *models], cwd=ROOT, env=environment,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    count = int(result.stdout.strip().splitlines()[-1].split()[0])
    assert count > 300 and "FAIL" not in result.stdout  # every kernel of the op table and of seven models


def test_asking_for_cuda_without_numba_cuda_says_how_to_install_it(monkeypatch):
    real = cuda_device.importlib.util.find_spec
    monkeypatch.setattr(cuda_device.importlib.util, "find_spec",
                        lambda name, *a: None if name == "numba_cuda" else real(name, *a))
    with pytest.raises(graphc.GraphcError, match=r"numba-cuda, which is not installed: pip install 'graphc\[cuda\]'"):
        graphc.compile(graphc.input("x", (2,)) * 2.0, backend="cuda")


def test_asking_for_cuda_without_a_gpu_says_so_in_one_line(tmp_path):
    # No simulator, and no device visible: what a machine without an NVIDIA GPU sees.
    environment = {**os.environ, "NUMBA_ENABLE_CUDASIM": "0", "CUDA_VISIBLE_DEVICES": "", "PYTHONPATH": str(ROOT),
                   "GRAPHC_CACHE_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "graphc", "train", "graphc/models/mlp.py", "--backend", "cuda",
                             "--steps", "1", "--out", str(tmp_path)], cwd=ROOT, env=environment,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert "no usable NVIDIA GPU" in result.stderr and "NUMBA_ENABLE_CUDASIM=1" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_the_cpu_path_never_imports_cuda_code():
    code = """
import sys
import numpy as np
import graphc
from graphc import data, optim
from graphc.train import Trainer
from tests.test_trainer import classifier, examples
Trainer(classifier(), optim.Adam(0.1), progress=False).fit(examples(), epochs=1)
cuda = ("numba.cuda", "numba_cuda.numba.cuda", "graphc.backends.runtime.cuda")
loaded = [m for m in sys.modules if m.startswith(cuda)]
print(loaded)
"""
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_command_line_trains_generates_and_benchmarks_on_the_gpu(tmp_path):
    environment = {**os.environ, "GRAPHC_CACHE_DIR": str(tmp_path / "cache")}  # the simulator, from conftest
    # A small text: the run scores its validation part at the end, and the simulator runs every thread in Python.
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("".join(f"The line {i} of a tiny corpus.\n" for i in range(40)))
    train = subprocess.run([sys.executable, "-m", "graphc", "train", "graphc/models/lstm_lm.py", "--set", "embed=4",
                            "--set", "hidden=8", "--data", str(corpus), "--batch", "2", "--seq-len", "4", "--steps",
                            "2", "--no-progress", "--backend", "cuda", "--out", str(tmp_path)], cwd=ROOT,
                           env=environment, capture_output=True, text=True, timeout=600)
    assert train.returncode == 0, train.stderr
    assert "stopped (max steps) after 2 steps" in train.stdout and "epoch 1 so far" in train.stdout
    generate = subprocess.run([sys.executable, "-m", "graphc", "generate", str(tmp_path / "checkpoint.npz"),
                               "--tokens", "5", "--backend", "cuda"], cwd=ROOT, env=environment,
                              capture_output=True, text=True, timeout=600)
    assert generate.returncode == 0, generate.stderr
    assert generate.stdout.startswith("The ") and len(generate.stdout) > len("The ")
    bench = subprocess.run([sys.executable, "-m", "graphc", "bench", "graphc/models/mlp.py", "--set", "sizes=(6, 8, 3)",
                            "--batch", "8", "--steps", "2", "--backend", "cuda"], cwd=ROOT, env=environment,
                           capture_output=True, text=True, timeout=600)
    assert bench.returncode == 0, bench.stderr
    assert "compiled step (cuda):" in bench.stdout


@pytest.mark.skipif(os.environ.get("GRAPHC_TEST_GPU") == "1", reason="a repair of the simulator, which a GPU run lacks")
def test_the_simulators_threads_of_a_block_share_one_shared_array():
    import threading

    from numba.cuda.simulator import kernelapi

    from graphc.backends.runtime import cuda as runtime  # noqa: F401 - it repairs the simulator on import

    split = 0
    for _ in range(50):  # unrepaired, 10 trials in 50 gave a block two arrays
        shared = kernelapi.FakeCUDAShared(0)
        arrive = threading.Barrier(16)
        arrays = []

        def thread(shared, arrive, arrays):
            arrive.wait()
            arrays.append(shared.array(4, np.float64))

        threads = [threading.Thread(target=thread, args=(shared, arrive, arrays)) for _ in range(16)]
        for each in threads:
            each.start()
        for each in threads:
            each.join()
        split += len({id(array) for array in arrays}) > 1
    assert split == 0
