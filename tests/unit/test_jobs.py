"""Worker processes: complete, queue, cancel, kill + resume, NaN loss.

Each run is a separate worker process. The real one (``python -m cv_core.runs.worker``, marked
``slow``) trains the "tiny" preset (32 px shapes, a two-block mini-Xception), so a run takes a few
seconds, most of it importing TensorFlow. The queue, cancel and resume bookkeeping also runs
against ``tests/fake_worker.py`` (the real worker's queue and files, no TensorFlow: about a second
a run), which is what the fast lane (``-m "not slow"``) runs.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from cv_core.runs import files, folders, jobs, liveness
from cv_core.runs.spec import SpecError, preset_spec
from tests.fake_worker import BATCH_SECONDS_ENV

TIMEOUT = 120.0


def tiny(**changes):
    return preset_spec("tiny", **changes)


def longer(train_size: int, **changes):
    """The tiny preset with a bigger training split, for runs that must last a while."""
    options = {**preset_spec("tiny").dataset_options, "train_size": train_size}
    return tiny(dataset_options=options, **changes)


def wait_for(condition, timeout: float = TIMEOUT, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def state(run_dir: Path) -> str:
    return files.read_status(run_dir)["state"]


def wait_final(run_dir: Path, timeout: float = TIMEOUT) -> dict:
    wait_for(lambda: state(run_dir) in liveness.FINAL_STATES, timeout, what=f"{run_dir.name} to finish")
    status = files.read_status(run_dir)
    if status["state"] == "failed":
        print((run_dir / files.LOG_FILE).read_text())
    return status


@pytest.fixture
def worker(request, monkeypatch):
    """``"fake"`` (tests/fake_worker.py, 20 ms a batch) or ``"real"`` (TensorFlow); see :data:`FAKE_AND_REAL`."""
    if request.param == "fake":
        request.getfixturevalue("fake_worker")
        monkeypatch.setenv(BATCH_SECONDS_ENV, "0.02")
    return request.param


#: Run a test against the fake worker (fast lane) and the real one (``slow``).
FAKE_AND_REAL = pytest.mark.parametrize("worker", ["fake", pytest.param("real", marks=pytest.mark.slow)],
                                        indirect=True)


@pytest.fixture
def runs_root(tmp_path):
    """A runs root whose leftover worker processes are killed after the test."""
    root = tmp_path / "runs"
    yield root
    for run_dir in liveness.run_dirs(root):
        status = files.read_status(run_dir)
        if liveness.worker_alive(status):
            os.kill(status["pid"], signal.SIGKILL)


def test_two_runs_complete_one_at_a_time_in_order(runs_root, fake_worker):
    first = jobs.submit_run(tiny(epochs=3), runs_root)
    second = jobs.submit_run(tiny(epochs=2, seed=1), runs_root)

    wait_for(lambda: state(first) == "running", what="the first run to start")
    waiting = files.read_status(second)
    assert waiting["state"] == "queued" and liveness.worker_alive(waiting)

    status = wait_final(first)
    assert status["state"] == "completed", status
    assert [row["epoch"] for row in files.read_metrics(first)] == [1, 2, 3]
    assert 0 <= files.read_test_metrics(first)["accuracy"] <= 1
    assert not (first / "backup").exists()
    assert status["heartbeat"] >= status["started_at"] and status["epoch"] == 3

    later = wait_final(second)
    assert later["state"] == "completed", later
    assert status["started_at"] < status["finished_at"] <= later["started_at"]
    assert [run.state for run in folders.list_runs(runs_root)] == ["completed", "completed"]


def test_cancel_running_run_within_a_batch_and_queued_run_without_training(runs_root, fake_worker, monkeypatch):
    monkeypatch.setenv(BATCH_SECONDS_ENV, "0.02")
    running = jobs.submit_run(longer(512, epochs=200), runs_root)
    queued = jobs.submit_run(tiny(), runs_root)

    wait_for(lambda: files.read_metrics(running), what="the first epoch")
    jobs.request_cancel(queued)
    jobs.request_cancel(running)
    asked = time.time()
    status = wait_final(running, timeout=30)
    assert status["state"] == "cancelled", status
    # A tiny batch takes milliseconds; the bound leaves room for a slow, shared CI machine.
    assert status["finished_at"] - asked < 10.0, "cancel should take effect within about a batch"
    assert status["message"].startswith("Cancelled during epoch")
    assert len(files.read_metrics(running)) < 200

    other = wait_final(queued, timeout=30)
    assert other["state"] == "cancelled" and "started_at" not in other
    assert not (queued / "metrics.jsonl").exists()


@FAKE_AND_REAL
def test_killed_then_cancelled_run_resumes_each_time_without_repeating_epochs(runs_root, worker):
    run_dir = jobs.submit_run(longer(256, epochs=12), runs_root)
    rows = wait_for(lambda: len(files.read_metrics(run_dir)) >= 2 and files.read_metrics(run_dir),
                    what="two epochs")
    pid = files.read_status(run_dir)["pid"]
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: liveness.worker_alive(files.read_status(run_dir)) is False, timeout=10, what="the worker to die")

    assert run_dir.name in liveness.reconcile_runs(runs_root)
    status = files.read_status(run_dir)
    assert status["state"] == "interrupted" and f"pid {pid}" in status["message"]

    new_pid = jobs.resume_run(run_dir)
    assert new_pid != pid
    # Resumed, it is cancelled within an epoch after two more, and resumed again.
    wait_for(lambda: files.read_status(run_dir).get("attempt") == 2 and len(files.read_metrics(run_dir)) >= 4,
             what="two more epochs")
    jobs.request_cancel(run_dir)
    status = wait_final(run_dir)
    assert status["state"] == "cancelled" and status["message"].startswith("Cancelled during epoch"), status
    before = files.read_metrics(run_dir)
    done = [row["epoch"] for row in before]
    assert done == list(range(1, len(done) + 1)) and len(done) < 12
    jobs.resume_run(run_dir)
    status = wait_final(run_dir)
    assert status["state"] == "completed", status
    assert status["attempt"] == 3
    final = files.read_metrics(run_dir)
    assert [row["epoch"] for row in final] == list(range(1, 13))
    assert final[0]["time"] == rows[0]["time"], "epoch 1 must not be trained again"
    assert [row["time"] for row in final[:len(before)]] == [row["time"] for row in before], \
        "the epochs finished before the cancel must not be trained again"
    assert "Resuming after epoch" in (run_dir / files.LOG_FILE).read_text()
    assert files.read_test_metrics(run_dir)["accuracy"] >= 0


@FAKE_AND_REAL
def test_nan_loss_fails_the_run_with_the_reason(runs_root, worker):
    run_dir = jobs.submit_run(tiny(learning_rate=1e10, epochs=5), runs_root)
    status = wait_final(run_dir)
    assert status["state"] == "failed"
    assert status["error"].startswith("Loss became NaN at epoch 1 batch ")
    assert status["message"] == status["error"]


@pytest.mark.slow
def test_real_runs_write_every_file_repeat_with_their_seed_and_continue_from_their_final_weights(runs_root):
    """Three claims on the same real runs (each worker start imports TensorFlow: seconds).

    A run writes every file; TensorFlow's op determinism is on in the worker, so two runs of one
    spec agree to the bit and another seed does not; a completed run continues as a new linked run
    from its final weights.
    """
    from cv_core.runs import build_model, continue_run, load_best_model
    from cv_core.runs.folders import RunStateError
    from cv_core.runs.worker import _starting_weights

    spec = longer(128, epochs=3, augmentation=True, dropout_rate=0.5)
    first, second = jobs.submit_run(spec, runs_root), jobs.submit_run(spec, runs_root)
    status = wait_final(first)
    assert status["state"] == wait_final(second)["state"] == "completed"
    # Every file.
    assert [row["epoch"] for row in files.read_metrics(first)] == [1, 2, 3]
    row = files.read_metrics(first)[-1]
    assert {"loss", "accuracy", "val_loss", "val_accuracy", "seconds", "lr"} <= set(row)
    assert (first / "best.keras").is_file() and (first / "last.keras").is_file()
    assert 0 <= files.read_test_metrics(first)["accuracy"] <= 1
    # The summary counts the model the spec builds (5 classes: the shapes).
    assert files.read_summary(first)["params"] == build_model(spec, 5).count_params()
    assert any(p.is_file() for p in (first / "tensorboard").rglob("*"))
    assert not (first / "backup").exists()  # BackupAndRestore cleans up after a finished fit
    assert status["heartbeat"] >= status["started_at"] and status["epoch"] == 3
    # The same seed, the same curve; another seed, another curve.
    keys = ("loss", "accuracy", "val_loss", "val_accuracy")
    curves = [[{k: row[k] for k in keys} for row in files.read_metrics(run)] for run in (first, second)]
    assert len(curves[0]) == 3 and curves[0] == curves[1]
    other = jobs.submit_run(spec.replace(seed=1), runs_root)
    assert wait_final(other)["state"] == "completed"
    assert [{k: row[k] for k in keys} for row in files.read_metrics(other)] != curves[0]
    # Continued.
    with pytest.raises(SpecError, match="positive whole number"):
        continue_run(first, 0)
    later = continue_run(first, 3, owner="browser-a")
    spec = files.read_spec(later)
    assert spec.continues == str(first.absolute()) and spec.epochs == 3 and spec.notes == f"Continues {first.name}"
    assert files.read_status(later)["owner"] == "browser-a"
    assert wait_final(later)["state"] == "completed"
    assert [row["epoch"] for row in files.read_metrics(later)] == [1, 2, 3]
    assert f"Starting from the weights of {first.absolute() / 'last.keras'}" in (later / files.LOG_FILE).read_text()
    assert _starting_weights(first).name == "last.keras"
    # It starts where the first run ended, not from scratch: with a negligible learning
    # rate, a continued run's weights stay the earlier run's final weights.
    still = continue_run(first, 1, learning_rate=1e-12)
    assert wait_final(still)["state"] == "completed"
    import numpy as np
    from cv_core._tf import keras

    final = keras().models.load_model(first / "last.keras").get_layer("stem_conv").get_weights()[0]
    np.testing.assert_allclose(load_best_model(still).get_layer("stem_conv").get_weights()[0], final, atol=1e-6)
    assert not np.allclose(load_best_model(later).get_layer("stem_conv").get_weights()[0], final, atol=1e-6)
    with pytest.raises(RunStateError, match="resume it instead"):
        interrupted = folders.create_run(tiny(), runs_root)
        files.update_status(interrupted, state="interrupted")
        continue_run(interrupted, 2)
