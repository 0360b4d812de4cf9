"""Keras callbacks that connect ``model.fit`` to the run directory.

:class:`RunMonitor` holds the logic and needs no TensorFlow (so it is unit-tested on its
own): it writes ``metrics.jsonl`` once per epoch, throttled batch progress to
``progress.json``, the current epoch to ``status.json``; it stops training when a cancel
is requested or the loss stops being finite; and on a resumed run it drops the metric rows
of epochs that BackupAndRestore is about to redo. :func:`make_callbacks` wraps it in a
``keras.callbacks.Callback`` and adds the checkpointing callbacks, in the order that keeps
the metrics and the backup consistent if the process is killed at any moment.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from pathlib import Path

from cv_core.i18n import N_, LazyText
from cv_core.runs import files

__all__ = ["WARMUP_BATCHES", "RunMonitor", "RunStopped", "make_callbacks"]

#: Batches of each epoch left out of its timing: the first ones trace the graph and wait
#: for the input pipeline to fill.
WARMUP_BATCHES = 3


class RunStopped(Exception):
    """Raised inside ``fit`` to end a run at once, with the state and reason to record.

    ``model.stop_training = True`` alone is not enough: Keras would still run the whole
    validation pass and every ``on_epoch_end``, saving the half-finished epoch as a backup
    and possibly as the best model. Raising ends ``fit`` after the current batch, and the
    backup stays at the last completed epoch.
    """

    def __init__(self, state: str, reason: str) -> None:  # reason: a LazyText where a person reads it
        super().__init__(reason)
        self.state = state
        self.reason = reason


class RunMonitor:
    """Records one run's training progress on disk and decides when to stop it.

    Args:
        run_dir: the run directory.
        epochs: total epochs of the run.
        batches_per_epoch: training batches per epoch (for progress).
        echo: called with a progress line per epoch (and every ``echo_seconds`` during one).
        progress_seconds: minimum interval between ``progress.json`` writes.
        echo_seconds: minimum interval between batch lines sent to ``echo``.
        metrics: the training-side metrics to report besides the loss (in ``progress.json``
            and the epoch lines, with their ``val_`` twins): the task's, e.g. ``("mean_iou",)``.
    """

    def __init__(self, run_dir: str | os.PathLike, epochs: int, batches_per_epoch: int | None,
                 echo: Callable[[str], None] | None = None, progress_seconds: float = 0.5,
                 echo_seconds: float = 5.0, metrics: tuple[str, ...] = ("accuracy",)) -> None:
        self.run_dir = Path(run_dir)
        self.metrics = tuple(metrics)
        self.epochs = epochs
        self.batches_per_epoch = batches_per_epoch
        self.echo = echo
        self.progress_seconds = progress_seconds
        self.echo_seconds = echo_seconds
        self.initial_epoch: int | None = None
        self.kept_rows: list[dict] = []
        self._epoch = 0
        self._epoch_start = 0.0
        self._last_batch_time = 0.0
        self._last_progress = 0.0
        self._last_echo = 0.0
        self._timed_from: tuple[int, float] | None = None  # (batches done, time) after warm-up
        self._last_epoch_end: float | None = None  # this worker's previous epoch end (monotonic)

    # -- helpers ---------------------------------------------------------------------------
    def _write_progress(self, phase: str, batch: int, logs: dict | None = None) -> None:
        progress = {
            "epoch": self._epoch,
            "epochs": self.epochs,
            "batch": batch,
            "batches": self.batches_per_epoch,
            "phase": phase,
            "updated_at": time.time(),
        }
        for key in ("loss", *self.metrics):
            value = (logs or {}).get(key)
            if isinstance(value, (int, float)):
                progress[key] = float(value)
        if self._timed_from is not None and phase == "train" and batch > self._timed_from[0]:
            done, since = self._timed_from
            progress["seconds_per_batch"] = (self._last_batch_time - since) / (batch - done)
            progress["timed_batches"] = batch - done
        files.write_json_atomic(self.run_dir / files.PROGRESS_FILE, progress)
        self._last_progress = time.monotonic()

    def _check_cancel(self, batch: int, phase: str) -> None:
        if files.cancel_requested(self.run_dir):
            raise RunStopped("cancelled", f"Cancelled during epoch {self._epoch} ({phase} batch {batch}).")

    def best_value(self, key: str, mode: str = "max") -> float | None:
        """Best ``key`` over the epochs kept from an earlier attempt (to seed ModelCheckpoint)."""
        values = [r[key] for r in self.kept_rows if isinstance(r.get(key), (int, float)) and math.isfinite(r[key])]
        if not values:
            return None
        return max(values) if mode == "max" else min(values)

    # -- events ----------------------------------------------------------------------------
    def epoch_begin(self, epoch: int) -> None:
        """Start 0-based ``epoch``. The first call learns where BackupAndRestore resumed."""
        if self.initial_epoch is None:
            self.initial_epoch = epoch
            rows = files.read_metrics(self.run_dir)
            self.kept_rows = [r for r in rows if r["epoch"] <= epoch]
            if len(self.kept_rows) != len(rows):
                files.write_metrics(self.run_dir, self.kept_rows)
            if epoch > 0 and self.echo:
                self.echo(f"Resuming after epoch {epoch}/{self.epochs}")
        self._epoch = epoch + 1
        self._check_cancel(0, "train")
        self._epoch_start = time.monotonic()
        self._last_batch_time = self._epoch_start
        self._timed_from = None
        files.update_status(self.run_dir, epoch=self._epoch, epochs=self.epochs,
                            message=f"Training epoch {self._epoch}/{self.epochs}")
        self._write_progress("train", 0)

    def train_batch_end(self, batch: int, logs: dict | None) -> None:
        """After training batch ``batch`` (0-based): check the loss and the cancel flag."""
        done = batch + 1
        self._last_batch_time = time.monotonic()
        if done == WARMUP_BATCHES:
            self._timed_from = (done, self._last_batch_time)
        loss = (logs or {}).get("loss")
        if isinstance(loss, (int, float)) and not math.isfinite(loss):
            reason = (N_("Loss became NaN at epoch {epoch} batch {batch}.") if math.isnan(loss)
                      else N_("Loss became infinite at epoch {epoch} batch {batch}."))
            raise RunStopped("failed", LazyText(reason, epoch=self._epoch, batch=done))
        self._check_cancel(done, "train")
        now = time.monotonic()
        if now - self._last_progress >= self.progress_seconds:
            self._write_progress("train", done, logs)
        if self.echo and now - self._last_echo >= self.echo_seconds:
            self._last_echo = now
            total = f"/{self.batches_per_epoch}" if self.batches_per_epoch else ""
            self.echo(f"  epoch {self._epoch}/{self.epochs} batch {done}{total} loss {loss:.4f}"
                      if isinstance(loss, (int, float)) else f"  epoch {self._epoch} batch {done}{total}")

    def test_begin(self) -> None:
        """Validation of the current epoch starts."""
        self._write_progress("validation", self.batches_per_epoch or 0)

    def test_batch_end(self, batch: int) -> None:
        """After validation batch ``batch``: a cancel also stops validation."""
        self._check_cancel(batch + 1, "validation")

    def epoch_end(self, epoch: int, logs: dict | None, learning_rate: float | None = None) -> dict:
        """Record the finished epoch's metrics row (replacing any earlier row of that epoch)."""
        now = time.monotonic()
        row = {"epoch": epoch + 1}
        for key, value in (logs or {}).items():
            if isinstance(value, (int, float)):
                row[key] = float(value)
        row["seconds"] = now - self._epoch_start
        row["train_seconds"] = self._last_batch_time - self._epoch_start
        # Wall time from the previous epoch's end: the epoch plus the saving (best model,
        # backup, TensorBoard) after the one before. Absent for a worker's first epoch, which
        # also traces the graphs: what an estimate of the epochs still to come should follow.
        if self._last_epoch_end is not None:
            row["cycle_seconds"] = now - self._last_epoch_end
        self._last_epoch_end = now
        row["lr"] = learning_rate
        row["time"] = time.time()
        files.record_epoch(self.run_dir, row)
        if self.echo:
            parts = [f"epoch {row['epoch']}/{self.epochs}"]
            for key in ("loss", *self.metrics, "val_loss", *(f"val_{m}" for m in self.metrics)):
                if key in row:
                    parts.append(f"{key} {row[key]:.4f}")
            parts.append(f"{row['seconds']:.1f}s")
            self.echo("  ".join(parts))
        return row

    def train_end(self) -> None:
        """``fit`` returned normally: every epoch is recorded."""
        files.update_status(self.run_dir, fit_completed=True, message="Evaluating the best model on the test split")


def make_callbacks(monitor: RunMonitor, run_dir: str | os.PathLike,
                   score: tuple[str, str] = ("val_accuracy", "max"), writer=None) -> list:
    """The callbacks for ``model.fit`` in a run: monitor, best model, TensorBoard, backup.

    Order matters. The monitor comes first so that an epoch's metrics row is written
    before BackupAndRestore marks the epoch done (a kill in between re-runs the epoch and
    rewrites the row, never loses it). On a resumed run the monitor seeds
    ``ModelCheckpoint.best`` with the best score so far, so a worse epoch after the resume
    does not overwrite ``best.keras``.

    Args:
        monitor: the run's :class:`RunMonitor`.
        run_dir: the run directory.
        score: the epoch-log key that picks the best model and "max" or "min": the task's
            ``(Task.monitor, Task.mode)``. A metric added by a callback works if that callback
            comes before these.
        writer: a :class:`cv_core.runs.checkpoints.CheckpointWriter` of the model: the best model
            and the backup are then written off the training thread (the run waits for the
            writes before it records that ``fit`` completed; call its ``wait()`` when ``fit``
            raises). The writes of one epoch run during the next, which waits for them before
            it records its row. None: Keras writes them on the training thread.
    """
    key, mode = score
    from cv_core._tf import keras as _keras

    keras = _keras()
    run_dir = Path(run_dir)
    best_path = run_dir / files.BEST_MODEL_FILE
    if writer is None:
        checkpoint = keras.callbacks.ModelCheckpoint(
            str(best_path), monitor=key, mode=mode, save_best_only=True, verbose=0,
        )
    else:
        from cv_core.runs.checkpoints import BestModelCheckpoint

        checkpoint = BestModelCheckpoint(str(best_path), writer, monitor=key, mode=mode, verbose=0)

    class RunMonitorCallback(keras.callbacks.Callback):
        """Forwards Keras events to a :class:`RunMonitor`."""

        def on_epoch_begin(self, epoch, logs=None):
            first = monitor.initial_epoch is None
            monitor.epoch_begin(epoch)
            if first and best_path.exists():
                best = monitor.best_value(key, mode)
                if best is not None:
                    checkpoint.best = best

        def on_train_batch_end(self, batch, logs=None):
            try:
                monitor.train_batch_end(batch, logs)
            except RunStopped:
                self.model.stop_training = True
                raise

        def on_test_begin(self, logs=None):
            monitor.test_begin()

        def on_test_batch_end(self, batch, logs=None):
            monitor.test_batch_end(batch)

        def on_epoch_end(self, epoch, logs=None):
            if writer is not None:
                # The previous epoch's backup is on disk before this epoch's row: once a row is
                # written, a resume never repeats more than that one epoch (as with synchronous
                # saves, where a kill between the row and the backup repeats it).
                writer.wait()
            monitor.epoch_end(epoch, logs, _learning_rate(self.model))

        def on_train_end(self, logs=None):
            if writer is not None:
                writer.wait()  # every epoch's best model and backup are on disk before fit counts as done
            monitor.train_end()

    # Per-epoch scalars (loss, accuracy, learning rate) for `tensorboard --logdir runs`; no
    # graph, no profiling: both cost time on every run and nobody looks at them here.
    tensorboard = keras.callbacks.TensorBoard(
        log_dir=str(run_dir / files.TENSORBOARD_DIR), write_graph=False, update_freq="epoch", profile_batch=0,
    )
    if writer is None:
        backup = keras.callbacks.BackupAndRestore(
            backup_dir=str(run_dir / files.BACKUP_DIR), save_freq="epoch", double_checkpoint=True,
        )
    else:
        from cv_core.runs.checkpoints import BackupCheckpoint

        backup = BackupCheckpoint(str(run_dir / files.BACKUP_DIR), writer, save_freq="epoch", double_checkpoint=True)
    return [RunMonitorCallback(), checkpoint, tensorboard, backup]


def _learning_rate(model) -> float | None:
    """The optimizer's current learning rate as a float, or None if it cannot be read."""
    try:
        import numpy as np

        return float(np.asarray(model.optimizer.learning_rate))
    except Exception:  # a schedule or an exotic optimizer: the metric is optional
        return None
