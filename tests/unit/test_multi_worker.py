"""Training on two "machines": two `python -m cv_core.train` workers on 127.0.0.1 ports.

Each worker is a separate process with its own ``TF_CONFIG`` naming the same two-worker
cluster, so training runs under ``tf.distribute.MultiWorkerMirroredStrategy`` exactly as
it would on two machines (gradients summed over gRPC between the processes).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cv_core.runs import list_runs, read_metrics, read_progress, read_status

REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 300


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_workers(runs: Path, *args: str, logs: Path) -> list[subprocess.Popen]:
    ports = [free_port(), free_port()]
    processes = []
    for index in range(2):
        config = {"cluster": {"worker": [f"127.0.0.1:{port}" for port in ports]},
                  "task": {"type": "worker", "index": index}}
        env = dict(os.environ, TF_CONFIG=json.dumps(config), PYTHONUNBUFFERED="1")
        log = open(logs / f"worker{index}.log", "a")
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "cv_core.train", "--preset", "tiny", "--run-id", "two-machines",
             "--runs-root", str(runs), *args],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT))
    return processes


def wait_all(processes, timeout: float = TIMEOUT) -> list[int]:
    deadline = time.time() + timeout
    codes = []
    for process in processes:
        try:
            codes.append(process.wait(max(1.0, deadline - time.time())))
        except subprocess.TimeoutExpired:
            for other in processes:
                other.kill()
            raise AssertionError("the workers did not finish in time (a collective hung?)") from None
    return codes


@pytest.mark.slow
def test_two_workers_train_in_step_resume_when_run_again_and_the_chief_writes_the_run(tmp_path):
    """One test for both (each start of two TensorFlow workers costs seconds): killed mid-epoch, run again,
    the two workers resume from the backup, finish in step, and the lab lists the chief's run only."""
    from cv_core._tf import keras
    from cv_core.runs.worker import weights_digest

    runs = tmp_path / "runs"
    # Long enough epochs (80 steps of 8 images) that both workers are surely mid-epoch when stopped;
    # two epochs: the first is kept, the second is cut short and trained again.
    options = ["--epochs", "2", "--batch-size", "8", "--dataset-option", "train_size=640",
               "--dataset-option", "validation_size=32"]
    processes = start_workers(runs, *options, logs=tmp_path)
    chief = runs / "two-machines"
    deadline = time.time() + TIMEOUT
    while time.time() < deadline:  # stop both in the middle of epoch 2
        progress = read_progress(chief) or {}
        if progress.get("epoch", 0) >= 2 and 10 <= progress.get("batch", 0) <= 60:
            break
        if any(p.poll() is not None for p in processes):
            pytest.fail("a worker ended early: " + (tmp_path / "worker0.log").read_text()[-3000:])
        time.sleep(0.05)
    for process in processes:
        process.send_signal(signal.SIGKILL)
    for process in processes:
        process.wait(30)
    before = read_metrics(chief)
    assert [row["epoch"] for row in before] == [1]

    codes = wait_all(start_workers(runs, *options, logs=tmp_path))
    assert codes == [0, 0], (tmp_path / "worker0.log").read_text()[-3000:]
    assert read_status(chief)["state"] == "completed" and read_status(chief)["attempt"] == 2
    final = read_metrics(chief)
    assert [row["epoch"] for row in final] == [1, 2]
    assert final[0]["time"] == before[0]["time"], "epoch 1 must not be trained again"
    assert "Resuming after epoch 1/2" in (tmp_path / "worker0.log").read_text()
    assert "Resuming after epoch 1/2" in (tmp_path / "worker1.log").read_text()

    other = chief / "workers" / "worker-1"
    assert [run.dir for run in list_runs(runs)] == [chief]  # the lab lists the chief's run only
    status, other_status = read_status(chief), read_status(other)
    assert status["state"] == other_status["state"] == "completed"
    assert (chief / "best.keras").is_file() and (chief / "last.keras").is_file()
    assert json.loads((chief / "summary.json").read_text())["replicas"] == 2
    # In step: the same metrics every epoch, and the same final weights as the chief's saved model.
    keys = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy")
    strip = [{k: v for k, v in row.items() if k in keys} for row in final]
    assert strip == [{k: v for k, v in row.items() if k in keys} for row in read_metrics(other)]
    saved = weights_digest(keras().models.load_model(chief / "last.keras", compile=False))
    assert status["trainable_weights_sha256"] == other_status["trainable_weights_sha256"] == saved


def test_a_cluster_needs_a_run_id(tmp_path):
    config = {"cluster": {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}, "task": {"type": "worker", "index": 0}}
    result = subprocess.run([sys.executable, "-m", "cv_core.train", "--preset", "tiny", "--runs-root", str(tmp_path)],
                            cwd=REPO, env=dict(os.environ, TF_CONFIG=json.dumps(config)), capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2
    assert "give every worker the same --run-id" in result.stderr
