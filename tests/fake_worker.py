"""A training worker without TensorFlow, for tests of queueing, cancelling, resuming and the pages that show runs.

:func:`cv_core.runs.jobs.start_worker` runs ``python -m tests.fake_worker RUN_DIR`` instead of the real
worker when ``CONVNET_LAB_WORKER_MODULE=tests.fake_worker`` (the ``fake_worker`` fixture of
``tests/conftest.py`` sets it). It *is* the real worker (:func:`cv_core.runs.worker.main`: its pid and
heartbeat, its wait for a turn in the queue and the train lock, its final states and messages) with
:func:`~cv_core.runs.worker.run_training` replaced by :func:`fake_training`, which drives the real
:class:`~cv_core.runs.callbacks.RunMonitor` the way the Keras callbacks do, batch by batch, so the
progress, metrics rows, cancel-within-a-batch and NaN checks are the real code. What it fakes:

- no model: each batch is a short sleep (``CONVNET_LAB_FAKE_BATCH_SECONDS``, default 0.05 s; a
  validation batch takes half of it), and the scores are made up, improving with each epoch and
  different for each seed (every curve of the run's task, with its ``val_`` twin);
- a file ``backup/fake_epoch.json`` stands in for Keras' BackupAndRestore: it records the last finished
  epoch after the monitor has written that epoch's row, so a killed or cancelled run resumes after it;
- a learning rate above 1 makes the loss NaN at the second batch, as a real run diverges;
- it saves no model files, so the pages that need a model (Heatmaps, Segmentation, Detection) do not
  list its runs; ``summary.json`` says ``"fake_worker": true`` and has no parameter counts.

The real worker is tested in ``tests/unit/test_jobs.py`` (marked ``slow``): one real training per task,
a real kill and resume, the same seed giving the same curve.
"""

from __future__ import annotations

import math
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

from cv_core.runs import files, worker
from cv_core.runs.callbacks import RunMonitor
from cv_core.runs.files import read_metrics, read_status, update_status, write_json_atomic
from cv_core.runs.spec import TrainSpec
from cv_core.runs.tasks import task_of

BATCH_SECONDS_ENV = "CONVNET_LAB_FAKE_BATCH_SECONDS"
BACKUP_FILE = "fake_epoch.json"


def batch_seconds() -> float:
    """How long one fake training batch takes (``CONVNET_LAB_FAKE_BATCH_SECONDS``, default 0.05 s)."""
    return float(os.environ.get(BATCH_SECONDS_ENV) or 0.05)


def fake_scores(spec: TrainSpec, metrics: tuple[str, ...], progress: float) -> dict:
    """Made-up training and validation scores after ``progress`` epochs: losses fall, the rest rise.

    Deterministic in ``spec.seed``: the same spec gives the same curve, another seed another one.
    """
    decay = 0.7 ** progress
    logs = {}
    for name in metrics:
        if "loss" in name:
            value = float("nan") if spec.learning_rate > 1 else 2.0 * decay * (1 + 0.01 * spec.seed)
        else:
            value = min(1.0, 0.95 - 0.75 * decay + 0.005 * spec.seed)
        logs[name] = value
        logs[f"val_{name}"] = value * (1.05 if "loss" in name else 0.95)
    return logs


def fake_training(spec: TrainSpec, run_dir: str | os.PathLike, echo: Callable[[str], None] | None = None,
                  **_callbacks) -> dict:
    """Stand-in for :func:`cv_core.runs.worker.run_training`: the same files, written without a model."""
    from cv_core.datasets import open_dataset
    from cv_core.runs.folders import best_epoch_row

    run_dir = Path(run_dir)
    say = echo or (lambda line: None)
    task = task_of(spec)
    dataset = open_dataset(spec.dataset, spec.dataset_root, **spec.dataset_options)
    steps = dataset.steps_per_epoch("train", spec.batch_size)
    validation_steps = dataset.steps_per_epoch("validation", spec.batch_size)
    say("Fake worker (tests): no TensorFlow, no model; made-up scores.")
    if spec.continues:
        say(f"Continues {spec.continues} (the fake worker loads no weights)")
    write_json_atomic(run_dir / files.SUMMARY_FILE, {
        "fake_worker": True,
        "task": task.name,
        "model_name": "fake",
        "input_shape": [spec.image_size, spec.image_size, 3],
        "num_classes": task.num_classes(dataset),
        "class_names": task.class_names(dataset),
        "train_images": dataset.count("train"),
        "validation_images": dataset.count("validation"),
        "test_images": dataset.count("test"),
    })
    names = tuple(name for name, _ in task.curves)
    backup = run_dir / files.BACKUP_DIR / BACKUP_FILE
    pause = batch_seconds()
    if not read_status(run_dir).get("fit_completed"):
        monitor = RunMonitor(run_dir, spec.epochs, steps, echo=echo,
                             metrics=tuple(name for name in names if name != "loss"))
        done = files.read_json(backup) if backup.exists() else None
        start = int(done["epoch"]) if isinstance(done, dict) else 0
        for epoch in range(start, spec.epochs):
            monitor.epoch_begin(epoch)
            for batch in range(steps):
                time.sleep(pause)
                logs = {k: v for k, v in fake_scores(spec, names, epoch + (batch + 1) / steps).items()
                        if not k.startswith("val_")}
                monitor.train_batch_end(batch, logs)
            monitor.test_begin()
            for batch in range(validation_steps):
                time.sleep(pause / 2)
                monitor.test_batch_end(batch)
            monitor.epoch_end(epoch, fake_scores(spec, names, epoch + 1), spec.learning_rate)
            backup.parent.mkdir(exist_ok=True)
            write_json_atomic(backup, {"epoch": epoch + 1})  # after the row, as BackupAndRestore
        monitor.train_end()
        shutil.rmtree(backup.parent, ignore_errors=True)  # a finished fit leaves no backup

    update_status(run_dir, message="Evaluating the best model on the test split")
    best = best_epoch_row(read_metrics(run_dir), (task.monitor, task.mode))
    results = {"model": "fake", "best_epoch": best["epoch"] if best else None}
    if best is not None:
        results.update({key[len("val_"):]: value for key, value in best.items()
                        if key.startswith("val_") and isinstance(value, float) and math.isfinite(value)})
        results["images"] = dataset.count("test")
    write_json_atomic(run_dir / files.TEST_METRICS_FILE, results)
    return results


def cli(argv: list[str] | None = None) -> int:
    """``python -m tests.fake_worker RUN_DIR``: the real worker's command line, training faked."""
    worker.run_training = fake_training
    return worker.cli(argv)


if __name__ == "__main__":
    sys.exit(cli())
