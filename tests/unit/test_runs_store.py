"""Run directories on disk: creating, reading, listing, reconciling, summarising (no TensorFlow).

Worker processes are faked here by writing status files with chosen pids; the real worker
lifecycle is in test_jobs.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cv_core.runs import experiments, files, folders, jobs, liveness
from cv_core.runs.callbacks import RunMonitor, RunStopped
from cv_core.runs.spec import SpecError, preset_spec
from cv_core.plots.training import curves_figure, grid_summary_figure, loss_curves_figure

TINY = preset_spec("tiny")


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def me() -> dict:
    return {"pid": os.getpid(), "pid_start": liveness.process_start_time(os.getpid())}


def make_run(root: Path, **status) -> Path:
    run_dir = folders.create_run(TINY, root)
    if status:
        files.update_status(run_dir, **status)
    return run_dir


# -- creating and reading -------------------------------------------------------------------


def test_create_run_writes_spec_and_queued_status(tmp_path):
    run_dir = folders.create_run(TINY, tmp_path)
    assert run_dir.parent == tmp_path
    assert run_dir.name.split("-")[:2][0].isdigit() and "tiny-sep-bnpre-s0" in run_dir.name
    assert json.loads((run_dir / "spec.json").read_text())["filters"] == [8, 16]
    status = files.read_status(run_dir)
    assert status["state"] == "queued" and status["pid"] is None
    assert files.read_spec(run_dir) == TINY
    assert files.read_metrics(run_dir) == [] and files.read_progress(run_dir) is None


def test_create_run_refuses_bad_spec_before_creating_anything(tmp_path):
    with pytest.raises(SpecError):
        folders.create_run(TINY.replace(epochs=0), tmp_path / "runs")
    assert not (tmp_path / "runs").exists()


def test_runs_root_from_argument_env_or_default(tmp_path, monkeypatch):
    monkeypatch.setenv(files.RUNS_ROOT_ENV, str(tmp_path / "env-runs"))
    assert files.default_runs_root() == tmp_path / "env-runs"
    assert files.default_runs_root(tmp_path / "arg") == tmp_path / "arg"
    monkeypatch.delenv(files.RUNS_ROOT_ENV)
    monkeypatch.chdir(tmp_path)
    assert files.default_runs_root() == tmp_path / "runs"


def test_metrics_skip_bad_lines_and_keep_one_row_per_epoch(tmp_path):
    (tmp_path / "metrics.jsonl").write_text(
        '{"epoch": 1, "loss": 2.0}\nnot json\n{"epoch": 2, "loss": 1.5}\n[1, 2]\n'
        '{"epoch": 1, "loss": 1.9}\n{"epoch": 3, "loss": 1.'  # a partial last line
    )
    assert files.read_metrics(tmp_path) == [{"epoch": 1, "loss": 1.9}, {"epoch": 2, "loss": 1.5}]
    files.record_epoch(tmp_path, {"epoch": 2, "loss": 1.4})
    files.record_epoch(tmp_path, {"epoch": 2, "loss": 1.3})
    assert [r["loss"] for r in files.read_metrics(tmp_path)] == [1.9, 1.3]


def test_corrupt_files_do_not_break_listing(tmp_path):
    good = make_run(tmp_path, state="completed")
    bad_status = make_run(tmp_path)
    (bad_status / "status.json").write_text('{"state": "runn')
    bad_spec = make_run(tmp_path, state="failed")
    (bad_spec / "spec.json").write_text("\x00\x01 not json")
    bad_metrics = make_run(tmp_path, state="completed")
    (bad_metrics / "metrics.jsonl").write_bytes(b"\xff\xfe garbage\n")
    (bad_metrics / "test_metrics.json").write_text("[]")
    (tmp_path / "not-a-run").mkdir()
    (tmp_path / "stray.txt").write_text("hello")

    runs = {run.id: run for run in folders.list_runs(tmp_path)}
    assert set(runs) == {good.name, bad_status.name, bad_spec.name, bad_metrics.name}
    assert runs[bad_status.name].state == "unknown"
    assert runs[bad_spec.name].spec is None and runs[bad_spec.name].label == bad_spec.name
    assert runs[bad_metrics.name].metrics == [] and runs[bad_metrics.name].test_metrics is None


def test_list_runs_is_newest_first_and_filters_experiments(tmp_path):
    first = make_run(tmp_path, state="completed")
    second = folders.create_run(TINY.replace(experiment_id="exp-1", experiment_label="x"), tmp_path)
    files.update_status(second, state="completed")
    assert [r.id for r in folders.list_runs(tmp_path)] == [second.name, first.name]
    assert [r.id for r in folders.list_runs(tmp_path, experiment_id="exp-1")] == [second.name]


def test_update_status_is_atomic_and_conditional(tmp_path):
    run_dir = make_run(tmp_path)
    assert files.update_status(run_dir, only_if=("running",), state="interrupted") is None
    assert files.update_status(run_dir, only_if=("queued",), state="running")["state"] == "running"
    assert not [p for p in run_dir.iterdir() if p.name.endswith(".tmp")]


# -- liveness and reconciling ------------------------------------------------------------------


def test_worker_alive_checks_pid_and_its_start_time():
    assert liveness.worker_alive({}) is None
    assert liveness.worker_alive(me()) is True
    assert liveness.worker_alive({**me(), "pid_start": me()["pid_start"] + 1}) is False  # pid reused
    assert liveness.worker_alive({"pid": dead_pid()}) is False


def test_reconcile_marks_dead_workers_interrupted(tmp_path):
    now = time.time()
    dead_running = make_run(tmp_path, state="running", pid=dead_pid(), epoch=3)
    dead_queued = make_run(tmp_path, pid=dead_pid())
    never_started = make_run(tmp_path, queued_at=now - 3600)
    just_created = make_run(tmp_path)
    alive = make_run(tmp_path, state="running", **me())
    reused = make_run(tmp_path, state="running", pid=os.getpid(), pid_start=1)
    finished = make_run(tmp_path, state="completed", pid=dead_pid())
    cancelled_queued = make_run(tmp_path, pid=dead_pid())
    (cancelled_queued / files.CANCEL_FILE).touch()

    changed = set(liveness.reconcile_runs(tmp_path))
    assert changed == {dead_running.name, dead_queued.name, never_started.name, reused.name,
                       cancelled_queued.name}
    status = files.read_status(dead_running)
    assert status["state"] == "interrupted" and "during epoch 3" in status["message"]
    assert files.read_status(never_started)["message"] == "Its worker process never started."
    assert files.read_status(just_created)["state"] == "queued"
    assert files.read_status(alive)["state"] == "running"
    assert files.read_status(finished)["state"] == "completed"
    assert files.read_status(cancelled_queued)["state"] == "cancelled"
    assert liveness.reconcile_runs(tmp_path) == []


def test_delete_run_refuses_active_runs(tmp_path):
    running = make_run(tmp_path, state="running", **me())
    with pytest.raises(folders.RunStateError, match="is running; cancel it"):
        folders.delete_run(running)
    done = make_run(tmp_path, state="completed")
    folders.delete_run(done)
    assert not done.exists()
    with pytest.raises(folders.RunGoneError, match="no longer exists: it was deleted"):
        folders.delete_run(done)  # deleted twice (two browsers): a clear message
    (tmp_path / "not-a-run").mkdir()
    with pytest.raises(FileNotFoundError, match="Expected a run directory"):
        folders.delete_run(tmp_path / "not-a-run")


def test_cancel_queued_run_without_worker(tmp_path):
    run_dir = make_run(tmp_path)
    jobs.request_cancel(run_dir)
    assert files.read_status(run_dir)["state"] == "cancelled"
    assert files.cancel_requested(run_dir)
    done = make_run(tmp_path, state="completed")
    jobs.request_cancel(done)
    assert files.read_status(done)["state"] == "completed" and not files.cancel_requested(done)


def test_cancel_records_who_asked(tmp_path):
    """Issue 19: a run cancelled by another browser must say so; the run folder keeps who asked."""
    running = make_run(tmp_path, state="running", **me())
    jobs.request_cancel(running, by="browser-a")
    status = files.read_status(running)
    assert status["cancel_requested_by"] == "browser-a" and status["cancel_requested_at"] > 0
    assert jobs.cancel_origin(status, "browser-a") == "here"
    assert jobs.cancel_origin(status, "browser-b") == "elsewhere"
    assert (running / files.CANCEL_FILE).read_text() == "browser-a"
    script = make_run(tmp_path, state="running", **me())
    jobs.request_cancel(script)
    assert jobs.cancel_origin(files.read_status(script), "browser-a") == "outside"
    assert jobs.cancel_origin({"state": "cancelled"}, "browser-a") == "unknown"  # cancelled before this was kept
    assert jobs.cancel_origin({"state": "running"}, "browser-a") is None
    # Resuming forgets the old cancel, so the resumed run is not shown as cancelled by anyone.
    files.update_status(running, state="cancelled", pid=None)
    jobs.prepare_resume(running)
    assert jobs.cancel_origin(files.read_status(running), "browser-a") is None


def test_actions_on_a_deleted_run_say_it_was_deleted(tmp_path):
    """Issue 19: Resume of a run deleted from another browser gave no clear message."""
    import shutil

    run_dir = make_run(tmp_path, state="cancelled")
    shutil.rmtree(run_dir)
    for action in (jobs.request_cancel, jobs.prepare_resume, lambda d: jobs.continue_run(d, 2)):
        with pytest.raises(folders.RunGoneError, match=f"Run '{run_dir.name}' no longer exists: it was deleted"):
            action(run_dir)
    assert not run_dir.exists()  # nothing recreated it


def test_resume_refuses_runs_that_are_not_interrupted(tmp_path):
    done = make_run(tmp_path, state="completed")
    with pytest.raises(folders.RunStateError, match="Expected a run in one of \\('interrupted', 'cancelled'\\)"):
        jobs.resume_run(done)
    interrupted = make_run(tmp_path, state="interrupted", pid=dead_pid(), attempt=1)
    (interrupted / files.CANCEL_FILE).touch()
    status = jobs.prepare_resume(interrupted)
    assert status["state"] == "queued" and status["attempt"] == 2 and status["pid"] is None
    assert not files.cancel_requested(interrupted)


def test_queue_order_is_oldest_queued_with_a_live_worker(tmp_path):
    first = make_run(tmp_path, **me())
    second = make_run(tmp_path, **me())
    assert jobs.is_next_in_queue(first) and not jobs.is_next_in_queue(second)
    files.update_status(first, pid=dead_pid())  # a dead worker does not hold up the queue
    assert jobs.is_next_in_queue(second)


# -- the monitor callback's logic --------------------------------------------------------------


def test_monitor_records_epochs_once_and_truncates_on_resume(tmp_path):
    run_dir = make_run(tmp_path, state="running")
    files.write_metrics(run_dir, [{"epoch": e, "loss": 1.0 / e, "val_accuracy": 0.1 * e} for e in (1, 2, 3, 4)])
    monitor = RunMonitor(run_dir, epochs=6, batches_per_epoch=4)
    monitor.epoch_begin(2)  # BackupAndRestore resumed after epoch 2
    assert [r["epoch"] for r in files.read_metrics(run_dir)] == [1, 2]
    assert monitor.best_value("val_accuracy") == pytest.approx(0.2)
    assert files.read_status(run_dir)["epoch"] == 3
    monitor.train_batch_end(0, {"loss": 0.5, "accuracy": 0.5})
    assert files.read_progress(run_dir)["epoch"] == 3
    monitor.epoch_end(2, {"loss": 0.4, "accuracy": 0.6, "val_loss": 0.5, "val_accuracy": 0.7}, 1e-3)
    monitor.epoch_end(2, {"loss": 0.3, "accuracy": 0.6, "val_loss": 0.5, "val_accuracy": 0.7}, 1e-3)
    rows = files.read_metrics(run_dir)
    assert [r["epoch"] for r in rows] == [1, 2, 3]
    assert rows[-1]["loss"] == 0.3 and rows[-1]["lr"] == 1e-3 and rows[-1]["seconds"] >= 0


def test_monitor_times_each_epoch_from_the_end_of_the_one_before(tmp_path, monkeypatch):
    """cycle_seconds: the wall time between epoch ends (saving included), none for the worker's first epoch."""
    from cv_core.runs import callbacks

    now = [0.0]
    monkeypatch.setattr(callbacks.time, "monotonic", lambda: now[0])
    run_dir = make_run(tmp_path, state="running")
    monitor = RunMonitor(run_dir, epochs=3, batches_per_epoch=1, progress_seconds=1e9)
    # (begins, last batch ends, epoch ends): epoch 1 traces for 5 s; then 0.5 s and 0.1 s of saving.
    for epoch, (begins, batch_ends, ends) in enumerate([(0.0, 4.0, 5.0), (5.5, 5.7, 5.8), (5.9, 6.1, 6.2)]):
        now[0] = begins
        monitor.epoch_begin(epoch)
        now[0] = batch_ends
        monitor.train_batch_end(0, {"loss": 1.0})
        now[0] = ends
        monitor.epoch_end(epoch, {"loss": 1.0}, None)
    rows = files.read_metrics(run_dir)
    assert "cycle_seconds" not in rows[0] and rows[0]["seconds"] == pytest.approx(5.0)
    assert [r["cycle_seconds"] for r in rows[1:]] == pytest.approx([0.8, 0.4])
    assert rows[1]["seconds"] == pytest.approx(0.3)  # the epoch alone, without the saving before it


def test_monitor_stops_on_nan_loss_with_the_reason(tmp_path):
    run_dir = make_run(tmp_path, state="running")
    monitor = RunMonitor(run_dir, epochs=3, batches_per_epoch=4)
    monitor.epoch_begin(0)
    monitor.epoch_end(0, {"loss": 1.0}, None)
    monitor.epoch_begin(1)
    with pytest.raises(RunStopped) as info:
        monitor.train_batch_end(4, {"loss": float("nan")})
    assert info.value.state == "failed"
    assert info.value.reason == "Loss became NaN at epoch 2 batch 5."


def test_monitor_stops_on_cancel_within_a_batch(tmp_path):
    run_dir = make_run(tmp_path, state="running")
    monitor = RunMonitor(run_dir, epochs=3, batches_per_epoch=4)
    monitor.epoch_begin(0)
    monitor.train_batch_end(0, {"loss": 1.0})
    (run_dir / files.CANCEL_FILE).touch()
    with pytest.raises(RunStopped) as info:
        monitor.train_batch_end(1, {"loss": 1.0})
    assert info.value.state == "cancelled" and "epoch 1 (train batch 2)" in info.value.reason
    with pytest.raises(RunStopped):
        monitor.test_batch_end(0)


# -- experiments and figures -------------------------------------------------------------------


def test_summarise_experiment_mean_and_std_per_variant(tmp_path):
    base = TINY.replace(experiment_id="exp-x")
    for conv, accuracies in (("separable", (0.6, 0.8)), ("conv2d", (0.5,))):
        for seed, accuracy in enumerate(accuracies):
            run_dir = folders.create_run(base.replace(conv_type=conv, seed=seed, experiment_label=f"{conv} / bn"), tmp_path)
            files.update_status(run_dir, state="completed")
            files.write_metrics(run_dir, [
                {"epoch": 1, "val_accuracy": accuracy - 0.1, "seconds": 9.0},
                {"epoch": 2, "val_accuracy": accuracy, "seconds": 2.0},
                {"epoch": 3, "val_accuracy": accuracy - 0.2, "seconds": 4.0},
            ])
            files.write_json_atomic(run_dir / files.TEST_METRICS_FILE, {"accuracy": accuracy - 0.05})
    other = folders.create_run(TINY.replace(experiment_id="exp-y"), tmp_path)
    files.update_status(other, state="completed")

    rows = experiments.summarise_experiment(folders.list_runs(tmp_path), experiment_id="exp-x")
    assert [r["variant"] for r in rows] == ["separable / bn", "conv2d / bn"]
    sep, conv = rows
    assert sep["runs"] == 2 and sep["completed"] == 2 and sep["seeds"] == [0, 1]
    assert sep["best_score_mean"] == pytest.approx(0.7)
    assert sep["best_score_std"] == pytest.approx(0.1414, abs=1e-3)
    assert sep["test_score_mean"] == pytest.approx(0.65)
    assert sep["seconds_per_epoch_mean"] == pytest.approx(3.0)  # the first epoch is left out
    assert conv["best_score_std"] == 0.0

    figure = grid_summary_figure(rows)
    assert [list(trace.x) for trace in figure.data] == [["separable / bn", "conv2d / bn"]] * 3
    assert list(figure.data[0].error_y.array) == pytest.approx([0.1414, 0.0], abs=1e-3)


def test_curves_spec_draws_what_curves_figure_draws():
    from cv_core.plots.training import curves_spec, score_axis_range

    rows = [{"epoch": 1, "mean_iou": 0.1, "val_mean_iou": 0.05}, {"epoch": 2, "mean_iou": 0.3, "val_mean_iou": 0.2}]
    spec = curves_spec({"this run": rows}, "mean_iou", title="Mean IoU")
    assert spec["title"]["text"] == "Mean IoU"
    points = {(p["split"], p["epoch"]): p["value"] for p in spec["data"]["values"]}
    assert points == {("training", 1): 0.1, ("training", 2): 0.3, ("validation", 1): 0.05, ("validation", 2): 0.2}
    encoding = spec["encoding"]
    assert encoding["y"]["scale"]["domain"] == score_axis_range("mean_iou", [0.1, 0.3, 0.05, 0.2])
    assert encoding["strokeDash"]["scale"]["range"] == [[1, 0], [6, 4]]  # training solid, validation dashed
    assert encoding["color"]["legend"] is None  # one run: no legend of runs
    two = curves_spec({"a": rows, "b": rows}, "accuracy")
    assert two["encoding"]["color"]["scale"]["domain"] == ["a", "b"] and "legend" not in two["encoding"]["color"]
    assert two["encoding"]["y"]["axis"]["format"] == ".0%" and two["data"]["values"] == []
    assert "scale" not in curves_spec({"a": rows}, "loss")["encoding"]["y"]  # the loss: Vega-Lite chooses


def test_curves_figure_solid_training_dashed_validation():
    rows = [{"epoch": 1, "accuracy": 0.4, "val_accuracy": 0.3, "loss": 1.2, "val_loss": 1.3},
            {"epoch": 2, "accuracy": 0.6, "val_accuracy": 0.5, "loss": 0.9, "val_loss": 1.1}]
    figure = curves_figure({"run a": rows, "run b": rows[:1], "empty": []})
    assert len(figure.data) == 4
    assert [t.line.dash for t in figure.data] == ["solid", "dash", "solid", "dash"]
    assert figure.data[0].line.color == figure.data[1].line.color != figure.data[2].line.color
    assert figure.layout.xaxis.title.text == "Epoch" and "accuracy" in figure.layout.title.text
    loss = loss_curves_figure({"run a": rows})
    assert list(loss.data[1].y) == [1.3, 1.1] and loss.layout.yaxis.title.text == "Loss"


def test_a_flat_accuracy_curve_gets_an_axis_wide_enough_for_distinct_whole_percent_ticks():
    """One value (a run's first epoch) used to give a 1-point-wide axis whose ticks all read "80%"."""
    from cv_core.plots.training import score_axis_range

    low, high = score_axis_range("accuracy", [0.8])
    assert high - low >= 0.05 and low < 0.8 < high
    assert abs((0.8 - low) - (high - 0.8)) < 1e-9  # centred on the value
    low, high = score_axis_range("accuracy", [0.999, 1.0])
    assert high - low >= 0.05 and high <= 1.0 + 0.05  # still within 0–1 plus the drawing margin
