"""The files of one run folder: their names, and how each is read and written.

Layout of ``<runs_root>/<run_id>/``::

    spec.json          the validated TrainSpec
    status.json        state, pid, heartbeat, times, epoch, owner, message/error (written atomically)
    progress.json      batch progress and timing of the current epoch (atomic, at most ~2 writes/s)
    metrics.jsonl      one line per completed epoch (loss, accuracy, val_*, seconds, cycle_seconds, lr)
    summary.json       parameter counts and class names of the built model
    best.keras         the best epoch's model (highest validation accuracy)
    last.keras         the model after the last epoch (what "continue for more epochs" starts from)
    test_metrics.json  the best model's loss and metrics (accuracy, mean IoU...) on the test split
    scores.json        the task's final scores of the best model (segmentation: per-class IoU
                       and Dice on the validation and test splits); absent for classification
    backup/            BackupAndRestore state, for resuming (deleted once fit completes)
    tensorboard/       TensorBoard logs (``tensorboard --logdir runs``)
    worker.log         the worker's stdout and stderr
    cancel.requested   present once a cancel was asked for (holds who asked, if known)

``status.json`` also records who asked for a cancel (``cancel_requested_by``: an opaque
browser id, or None from the command line or a script) and when (``cancel_requested_at``).

Every reader here is tolerant: a missing, partial or corrupt file reads as "unknown" and
the caller carries on. Every writer replaces its file atomically (temp file +
``os.replace``), and ``status.json`` updates are read-modify-write under a per-run
``flock``, because the worker, its heartbeat thread, the launcher and the UI all update it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from cv_core.runs.spec import SpecError, TrainSpec

__all__ = [
    "BACKUP_DIR", "BEST_MODEL_FILE", "CANCEL_FILE", "LAST_MODEL_FILE", "LOG_FILE", "METRICS_FILE",
    "PROGRESS_FILE", "RUNS_ROOT_ENV", "SCORES_FILE", "SPEC_FILE", "STATUS_FILE", "SUMMARY_FILE", "TENSORBOARD_DIR",
    "TEST_METRICS_FILE", "TRAIN_LOCK_FILE", "cancel_requested", "default_runs_root", "read_json",
    "read_metrics", "read_progress", "read_scores", "read_spec", "read_status", "read_summary", "read_test_metrics",
    "record_epoch", "status_text", "update_status", "write_json_atomic", "write_metrics",
]

RUNS_ROOT_ENV = "CONVNET_LAB_RUNS"

SPEC_FILE = "spec.json"
STATUS_FILE = "status.json"
PROGRESS_FILE = "progress.json"
METRICS_FILE = "metrics.jsonl"
SUMMARY_FILE = "summary.json"
TEST_METRICS_FILE = "test_metrics.json"
SCORES_FILE = "scores.json"
BEST_MODEL_FILE = "best.keras"
LAST_MODEL_FILE = "last.keras"
BACKUP_DIR = "backup"
TENSORBOARD_DIR = "tensorboard"
LOG_FILE = "worker.log"
CANCEL_FILE = "cancel.requested"
STATUS_LOCK_FILE = ".status.lock"
TRAIN_LOCK_FILE = ".train.lock"


def default_runs_root(runs_root: str | os.PathLike | None = None) -> Path:
    """The runs root: ``runs_root`` if given, else ``$CONVNET_LAB_RUNS``, else ``./runs``."""
    chosen = runs_root if runs_root is not None else os.environ.get(RUNS_ROOT_ENV) or "runs"
    return Path(os.path.expanduser(str(chosen))).absolute()


def write_json_atomic(path: Path, data) -> None:
    """Write ``data`` as JSON to ``path`` so that readers see the old or the new file, never half."""
    path = Path(path)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=1, allow_nan=True)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def read_json(path: Path, default=None):
    """The JSON object in ``path``, or ``default`` if it is missing, partial or not a dict."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return default
    return data if isinstance(data, dict) else default


def read_spec(run_dir: str | os.PathLike) -> TrainSpec | None:
    """The run's :class:`TrainSpec`, or None if ``spec.json`` is missing or unreadable."""
    data = read_json(Path(run_dir) / SPEC_FILE)
    if data is None:
        return None
    try:
        return TrainSpec.from_dict(data)
    except (SpecError, TypeError):
        return None


def read_status(run_dir: str | os.PathLike) -> dict:
    """The run's status dict; ``{"state": "unknown", ...}`` if ``status.json`` is unreadable."""
    data = read_json(Path(run_dir) / STATUS_FILE)
    if data is None:
        return {"state": "unknown", "message": "status.json is missing or unreadable"}
    data.setdefault("state", "unknown")
    return data


def status_text(status: dict, key: str) -> str:
    """A status sentence (``"message"`` or ``"error"``) in the reader's language where it can be.

    The worker writes the English (``status[key]``, for logs, scripts and older readers) and, for a
    sentence the lab translates (a ``TranslatedError``, a NaN loss, a run waiting to resume), the
    sentence itself as ``status[key + "_text"]`` (:func:`cv_core.i18n.text_to_json`). That is used
    while the English still contains its English; otherwise (a later writer changed the text, an
    error that is not the lab's, a run from before) the English is returned as it is.
    """
    from cv_core.i18n import text_from_json

    english = status.get(key) or ""
    data = status.get(f"{key}_text")
    if isinstance(data, dict) and isinstance(data.get("en"), str) and data["en"] and data["en"] in str(english):
        text = text_from_json(data)
        if text is not None:
            return str(text)  # in the language of whoever reads it now
    return str(english)


def read_progress(run_dir: str | os.PathLike) -> dict | None:
    """Batch progress of the running epoch (epoch, epochs, batch, batches, phase, loss...), or None."""
    return read_json(Path(run_dir) / PROGRESS_FILE)


def read_summary(run_dir: str | os.PathLike) -> dict | None:
    """The model summary (parameter counts, class names), or None before the model is built."""
    return read_json(Path(run_dir) / SUMMARY_FILE)


def read_test_metrics(run_dir: str | os.PathLike) -> dict | None:
    """The best model's test metrics (loss, accuracy), or None until the run completes."""
    return read_json(Path(run_dir) / TEST_METRICS_FILE)


def read_scores(run_dir: str | os.PathLike) -> dict | None:
    """The task's final scores of the best model (``scores.json``), or None (classification, or not yet)."""
    return read_json(Path(run_dir) / SCORES_FILE)


def read_metrics(run_dir: str | os.PathLike) -> list[dict]:
    """Per-epoch metric rows sorted by epoch (1-based), one per epoch; bad lines are skipped."""
    rows: dict[int, dict] = {}
    try:
        with open(Path(run_dir) / METRICS_FILE, encoding="utf-8", errors="replace") as handle:
            lines = handle.readlines()
    except OSError:
        return []
    for line in lines:
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict) and isinstance(row.get("epoch"), int):
            rows[row["epoch"]] = row
    return [rows[epoch] for epoch in sorted(rows)]


def write_metrics(run_dir: str | os.PathLike, rows: Iterable[dict]) -> None:
    """Replace ``metrics.jsonl`` atomically with ``rows`` (sorted by epoch, one per epoch)."""
    path = Path(run_dir) / METRICS_FILE
    unique = {row["epoch"]: row for row in rows}
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            for epoch in sorted(unique):
                out.write(json.dumps(unique[epoch], allow_nan=True) + "\n")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def record_epoch(run_dir: str | os.PathLike, row: dict) -> None:
    """Add or replace the metrics row of ``row["epoch"]``: writing an epoch twice keeps one row."""
    rows = [r for r in read_metrics(run_dir) if r["epoch"] != row["epoch"]]
    write_metrics(run_dir, [*rows, row])


def cancel_requested(run_dir: str | os.PathLike) -> bool:
    """Whether a cancel was asked for (the flag file exists)."""
    return os.path.exists(Path(run_dir) / CANCEL_FILE)


@contextlib.contextmanager
def _status_lock(run_dir: Path) -> Iterator[None]:
    with open(run_dir / STATUS_LOCK_FILE, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def update_status(run_dir: str | os.PathLike, only_if=None, **fields) -> dict | None:
    """Merge ``fields`` into ``status.json`` atomically and return the new status.

    Args:
        run_dir: the run directory.
        only_if: if given, a tuple of states or a predicate on the current status dict:
            change nothing (and return None) unless it holds, e.g. so that a late
            "interrupted" never overwrites "completed".
        **fields: the keys to set.
    """
    run_dir = Path(run_dir)
    with _status_lock(run_dir):
        status = read_json(run_dir / STATUS_FILE, {})
        if only_if is not None:
            holds = only_if(status) if callable(only_if) else status.get("state") in tuple(only_if)
            if not holds:
                return None
        status.update(fields)
        write_json_atomic(run_dir / STATUS_FILE, status)
        return status
