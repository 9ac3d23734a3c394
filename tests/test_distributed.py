"""Data-parallel training on a local Ray cluster: N workers on batch B give the losses and parameters of one process
on batch B; a lost worker is one line naming it and the step, and the run resumes from its checkpoint with any
number of workers; Ctrl-C leaves no process of the cluster behind."""

import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np
import pytest

import graphc
from graphc import data, nn, optim
from graphc.distributed import ClusterError, ShardedState
from graphc.models import mlp
from graphc.train import Callback, Trainer

ray = pytest.importorskip("ray", reason="ray is not installed (graphc[distributed]; make test installs it)")

ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def mlp_case(dtype):
    model = mlp.build(sizes=(6, 9, 4), dtype=dtype)
    rng = np.random.default_rng(0)
    arrays = {"x": rng.normal(size=(45, 6)).astype(dtype), "labels": rng.integers(0, 4, 45)}
    return model, data.Examples(arrays, batch=15)  # three batches an epoch; 15 splits 8 + 7 between two workers


def language_case(dtype):
    model = nn.language_model("lstm", 11, embed=4, hidden=6, dtype=dtype)
    stream = np.random.default_rng(1).integers(0, 11, 400)
    return model, data.Windows(stream, seq_len=5, batch=6)


OPTIMIZERS = {"sgd": lambda: optim.SGD(0.3, momentum=0.9), "adam, clipped": lambda: optim.Adam(0.05, clip_norm=0.5)}


def trained(model, batches, optimizer, workers=None, steps=6, **fit):
    trainer = Trainer(model, optimizer, seed=3, progress=False, workers=workers)
    try:
        history = trainer.fit(batches, epochs=10, max_steps=steps, **fit)
    finally:
        trainer.close()
    return history.losses, trainer.params


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("case", [mlp_case, language_case], ids=["mlp", "lstm language model"])
def test_two_workers_give_the_losses_and_parameters_of_one_process(cluster, case, optimizer):
    model, batches = case("float64")
    losses, params = trained(model, batches, OPTIMIZERS[optimizer]())
    parallel_losses, parallel_params = trained(model, batches, OPTIMIZERS[optimizer](), workers=2)
    np.testing.assert_allclose(parallel_losses, losses, rtol=1e-10)
    for name in params:
        np.testing.assert_allclose(parallel_params[name], params[name], rtol=1e-10, atol=1e-12, err_msg=name)


def test_float32_workers_agree_with_one_process_to_single_precision(cluster):
    model, batches = language_case("float32")
    losses, params = trained(model, batches, OPTIMIZERS["adam, clipped"]())
    parallel_losses, parallel_params = trained(model, batches, OPTIMIZERS["adam, clipped"](), workers=2)
    np.testing.assert_allclose(parallel_losses, losses, rtol=1e-5)
    for name in params:
        np.testing.assert_allclose(parallel_params[name], params[name], rtol=1e-5, atol=1e-6, err_msg=name)


def test_a_recurrent_state_stays_on_the_workers_and_gathers_to_one_process_value(cluster):
    model, batches = language_case("float64")
    single = Trainer(model, optim.SGD(0.5), seed=3, progress=False)
    single.fit(batches, max_steps=3)
    parallel = Trainer(model, optim.SGD(0.5), seed=3, progress=False, workers=2)
    try:
        parallel.fit(batches, max_steps=3)
        for name, value in parallel.carry.items():
            assert isinstance(value, ShardedState)  # nothing of it came to the driver during training
            np.testing.assert_allclose(value.copy_to_host(), single.carry[name], rtol=1e-10, atol=1e-12)
    finally:
        parallel.close()


class KillWorker(Callback):
    def __init__(self, at_step):
        self.at_step = at_step

    def on_step(self, trainer, step, loss):
        if step == self.at_step:
            ray.kill(trainer.step.workers[1])


def test_a_lost_worker_is_named_with_its_step_and_the_run_resumes_with_another_number_of_workers(cluster,
                                                                                                    tmp_path):
    model, batches = mlp_case("float64")
    _, expected = trained(model, batches, optim.Adam(0.05), steps=8)
    checkpoint = tmp_path / "run.npz"
    trainer = Trainer(model, optim.Adam(0.05), seed=3, progress=False, workers=2)
    with pytest.raises(ClusterError, match=r"^worker 2 of 2 was lost at step 5: "):
        trainer.fit(batches, epochs=10, max_steps=8, checkpoint=checkpoint, callbacks=[KillWorker(at_step=4)])
    trainer.close()
    resumed = Trainer.resume(checkpoint, model, progress=False, workers=1)  # written after epoch 1 (step 3)
    assert resumed.step.steps_taken == 3
    try:
        resumed.fit(batches, epochs=10, max_steps=8)
    finally:
        resumed.close()
    for name in expected:
        np.testing.assert_allclose(resumed.params[name], expected[name], rtol=1e-10, atol=1e-12, err_msg=name)


def test_a_batch_too_small_to_split_and_an_unreachable_cluster_are_one_line_errors(cluster):
    model, _ = mlp_case("float64")
    trainer = Trainer(model, optim.SGD(0.1), progress=False, workers=2)
    try:
        with pytest.raises(graphc.GraphcError, match="a batch of 1 cannot be split between 2 workers"):
            trainer.fit(data.Examples({"x": np.zeros((1, 6)), "labels": np.zeros(1, np.int64)}, batch=1))
    finally:
        trainer.close()
    result = subprocess.run([sys.executable, "-m", "graphc", "train", "xor", "--workers", "2", "--address",
                             "127.0.0.1:1", "--steps", "1", "--no-progress", "--out", str(pathlib.Path(
                                 tempfile.mkdtemp()) / "out")], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode != 0
    assert result.stderr.strip() == "graphc train: no Ray cluster is reachable at 127.0.0.1:1: Connection refused"


def processes_mentioning(text: str) -> list[str]:
    found = []
    for entry in pathlib.Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if text in command:
                found.append(f"{entry.name}: {command[:120]}")
    return found


def test_ctrl_c_stops_the_run_with_a_checkpoint_and_leaves_no_process_of_the_cluster(tmp_path):
    ray_folder = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # short: Ray's socket paths must fit 107 bytes
    environment = {**os.environ, "RAY_TMPDIR": ray_folder, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "graphc", "train", "xor", "--workers", "2", "--steps",
                                "100000000", "--out", str(tmp_path / "run")], cwd=ROOT, env=environment,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    lines = []
    for line in process.stderr:  # without a terminal, the progress is plain lines; training has begun
        lines.append(line)
        if "compiled the training step" in line:
            break
    assert processes_mentioning(ray_folder), "".join(lines)  # the local cluster is up
    time.sleep(1)
    os.killpg(process.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole foreground group
    _, rest = process.communicate(timeout=120)
    assert process.returncode == 130, "".join(lines) + rest
    output = "".join(lines) + rest  # graphc's own lines only: no worker's output, no Ray's start-up messages
    assert "pid=" not in output and "Ray" not in output, output
    assert (tmp_path / "run" / "checkpoint.npz").exists()
    deadline = time.monotonic() + 30
    while processes_mentioning(ray_folder) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert processes_mentioning(ray_folder) == []
