"""Where runs are stored: one directory per run under a runs root, read without TensorFlow.

Layout of ``<runs_root>/<run_id>/``::

    spec.json          the validated TrainSpec
    status.json        state, pid, heartbeat, times, epoch, message/error (written atomically)
    progress.json      batch progress of the current epoch (atomic, at most ~2 writes/s)
    metrics.jsonl      one line per completed epoch (loss, accuracy, val_*, seconds, lr)
    summary.json       parameter counts and class names of the built model
    best.keras         the best epoch's model (highest val_accuracy)
    test_metrics.json  the best model's loss and accuracy on the test split
    backup/            BackupAndRestore state, for resuming (deleted once fit completes)
    tensorboard/       TensorBoard logs (``tensorboard --logdir runs``)
    worker.log         the worker's stdout and stderr
    cancel.requested   present once a cancel was asked for

Every reader here is tolerant: a missing, partial or corrupt file reads as "unknown" and
listing carries on. Every writer replaces its file atomically (temp file + ``os.replace``),
and ``status.json`` updates are read-modify-write under a per-run ``flock``, because the
worker, its heartbeat thread, the launcher and the UI all update it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import os
import re
import secrets
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cv_core.runs.spec import SpecError, TrainSpec, validate_spec

__all__ = [
    "ACTIVE_STATES",
    "FINAL_STATES",
    "RUNS_ROOT_ENV",
    "STATES",
    "RunInfo",
    "RunStateError",
    "cancel_requested",
    "create_run",
    "default_runs_root",
    "delete_run",
    "list_runs",
    "load_run",
    "process_start_time",
    "read_metrics",
    "read_progress",
    "read_spec",
    "read_status",
    "read_summary",
    "read_test_metrics",
    "reconcile_run",
    "reconcile_runs",
    "record_epoch",
    "run_dirs",
    "summarise_experiment",
    "update_status",
    "worker_alive",
]

RUNS_ROOT_ENV = "CONVNET_LAB_RUNS"
STATES = ("queued", "running", "completed", "failed", "cancelled", "interrupted")
ACTIVE_STATES = ("queued", "running")
FINAL_STATES = ("completed", "failed", "cancelled", "interrupted")

SPEC_FILE = "spec.json"
STATUS_FILE = "status.json"
PROGRESS_FILE = "progress.json"
METRICS_FILE = "metrics.jsonl"
SUMMARY_FILE = "summary.json"
TEST_METRICS_FILE = "test_metrics.json"
BEST_MODEL_FILE = "best.keras"
BACKUP_DIR = "backup"
TENSORBOARD_DIR = "tensorboard"
LOG_FILE = "worker.log"
CANCEL_FILE = "cancel.requested"
STATUS_LOCK_FILE = ".status.lock"
TRAIN_LOCK_FILE = ".train.lock"

#: A worker writes its heartbeat every ~2 s; one this old is considered dead when its
#: process cannot be checked directly (no /proc).
HEARTBEAT_STALE_SECONDS = 30.0
#: How long a queued run may wait for its worker process to record its pid.
START_GRACE_SECONDS = 60.0


class RunStateError(ValueError):
    """An operation that the run's current state does not allow (e.g. deleting a running run)."""


# --------------------------------------------------------------------------------------
# Paths and JSON files
# --------------------------------------------------------------------------------------


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


def read_progress(run_dir: str | os.PathLike) -> dict | None:
    """Batch progress of the running epoch (epoch, epochs, batch, batches, phase, loss...), or None."""
    return read_json(Path(run_dir) / PROGRESS_FILE)


def read_summary(run_dir: str | os.PathLike) -> dict | None:
    """The model summary (parameter counts, class names), or None before the model is built."""
    return read_json(Path(run_dir) / SUMMARY_FILE)


def read_test_metrics(run_dir: str | os.PathLike) -> dict | None:
    """The best model's test metrics (loss, accuracy), or None until the run completes."""
    return read_json(Path(run_dir) / TEST_METRICS_FILE)


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


# --------------------------------------------------------------------------------------
# Creating runs
# --------------------------------------------------------------------------------------

_last_queued_at = 0.0


def queue_timestamp() -> float:
    """``time.time()``, but strictly increasing within this process (keeps grid runs in order)."""
    global _last_queued_at
    now = max(time.time(), _last_queued_at + 1e-6)
    _last_queued_at = now
    return now


def _slug(spec: TrainSpec) -> str:
    if spec.model == "small_convnet":
        variant = "small"
    else:
        conv = "sep" if spec.conv_type == "separable" else "conv"
        bn = {"before_activation": "bnpre", "after_activation": "bnpost", "none": "nobn"}.get(spec.batchnorm, "bn")
        variant = f"{conv}-{bn}"
    text = f"{spec.preset or spec.dataset}-{variant}-s{spec.seed}"
    return re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")


def create_run(spec: TrainSpec | dict, runs_root: str | os.PathLike | None = None, *,
               dataset=None) -> Path:
    """Validate ``spec`` and create its run directory in the "queued" state, without starting it.

    Args:
        spec: the :class:`TrainSpec` (or dict) to run.
        runs_root: where runs live (see :func:`default_runs_root`).
        dataset: an opened dataset to validate against (see :func:`validate_spec`).

    Returns:
        The new run directory, ``<runs_root>/<YYYYmmdd-HHMMSS>-<slug>-<hex>``.

    Raises:
        SpecError: the spec cannot run.
    """
    spec = validate_spec(spec, dataset=dataset)
    if spec.dataset_root:
        spec = spec.replace(dataset_root=str(Path(os.path.expanduser(spec.dataset_root)).absolute()))
    root = default_runs_root(runs_root)
    root.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    while True:
        run_dir = root / f"{stamp}-{_slug(spec)}-{secrets.token_hex(2)}"
        try:
            run_dir.mkdir()
            break
        except FileExistsError:
            continue
    write_json_atomic(run_dir / SPEC_FILE, spec.to_dict())
    now = queue_timestamp()
    write_json_atomic(run_dir / STATUS_FILE, {
        "state": "queued",
        "created_at": now,
        "queued_at": now,
        "attempt": 1,
        "pid": None,
        "epoch": 0,
        "epochs": spec.epochs,
        "message": "Waiting for its worker to start",
    })
    return run_dir


# --------------------------------------------------------------------------------------
# Worker liveness
# --------------------------------------------------------------------------------------

#: Worker processes started by this process (pid -> Popen), so that they can be reaped.
_CHILDREN: dict = {}


def track_child(process) -> None:
    """Remember a worker ``subprocess.Popen`` started here, so its exit is noticed and reaped."""
    _CHILDREN[process.pid] = process


def _proc_stat(pid: int) -> tuple[str, int] | str | None:
    """("state letter", start time in ticks) from /proc, "gone" if no such process, None if unknown."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return "gone" if os.path.isdir("/proc/self") else None
    except OSError:
        return None
    fields = text[text.rfind(")") + 2:].split()
    try:
        return fields[0], int(fields[19])
    except (IndexError, ValueError):
        return None


def process_start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (Linux), to tell a reused pid apart."""
    info = _proc_stat(pid)
    return info[1] if isinstance(info, tuple) else None


def worker_alive(status: dict, now: float | None = None) -> bool | None:
    """Whether the worker recorded in ``status`` is still running.

    A pid alone is not enough: a dead worker's pid may be reused by another process, so
    the process start time recorded with it must match too. Zombies count as dead (and
    are reaped if they are our children). Where /proc is unavailable, a heartbeat older
    than ``HEARTBEAT_STALE_SECONDS`` marks the worker dead.

    Returns:
        True or False, or None when no worker pid was recorded yet.
    """
    pid = status.get("pid")
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return None
    child = _CHILDREN.get(pid)
    if child is not None and child.poll() is not None:
        _CHILDREN.pop(pid, None)
        return False
    info = _proc_stat(pid)
    if info == "gone":
        return False
    if isinstance(info, tuple):
        state, started = info
        if state in ("Z", "X"):
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(pid, os.WNOHANG)
            return False
        expected = status.get("pid_start")
        return expected is None or expected == started
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    heartbeat = status.get("heartbeat")
    now = time.time() if now is None else now
    return not (isinstance(heartbeat, (int, float)) and now - heartbeat > HEARTBEAT_STALE_SECONDS)


def run_dirs(root: str | os.PathLike) -> list[Path]:
    """The run directories directly under ``root`` (those holding a status or spec file)."""
    try:
        entries = list(os.scandir(root))
    except OSError:
        return []
    dirs = []
    for entry in entries:
        if entry.name.startswith(".") or not entry.is_dir():
            continue
        path = Path(entry.path)
        if (path / STATUS_FILE).exists() or (path / SPEC_FILE).exists():
            dirs.append(path)
    return dirs


def reconcile_run(run_dir: str | os.PathLike, now: float | None = None) -> str | None:
    """Mark one queued/running run whose worker is gone as interrupted (or cancelled).

    Returns:
        The new state if it changed, else None.
    """
    run_dir = Path(run_dir)
    status = read_status(run_dir)
    state = status.get("state")
    if state not in ACTIVE_STATES:
        return None
    now = time.time() if now is None else now
    alive = worker_alive(status, now)
    if alive:
        return None
    pid = status.get("pid")
    if alive is None:
        since = status.get("queued_at") or status.get("created_at") or 0
        if isinstance(since, (int, float)) and now - since < START_GRACE_SECONDS:
            return None
        reason = "Its worker process never started."
    elif state == "running":
        epoch = status.get("epoch") or 0
        where = f" during epoch {epoch}" if epoch else ""
        reason = f"Its worker process (pid {pid}) stopped{where} without finishing; resume it to continue."
    else:
        reason = f"Its worker process (pid {pid}) stopped while it was waiting in the queue."
    new_state = "cancelled" if state == "queued" and cancel_requested(run_dir) else "interrupted"
    if new_state == "cancelled":
        reason = "Cancelled before it started."
    changed = update_status(
        run_dir,
        only_if=lambda current: current.get("state") == state and current.get("pid") == pid,
        state=new_state, finished_at=now, message=reason,
        **({"error": reason} if new_state == "interrupted" else {}),
    )
    return new_state if changed is not None else None


def reconcile_runs(runs_root: str | os.PathLike | None = None) -> list[str]:
    """Mark every queued/running run whose worker process is gone as interrupted.

    Call it when the app starts and whenever runs are listed: a worker killed (or a
    machine rebooted) leaves its run "running" on disk, and this is how it is noticed.

    Returns:
        The ids of the runs whose state changed.
    """
    changed = []
    for run_dir in run_dirs(default_runs_root(runs_root)):
        if reconcile_run(run_dir) is not None:
            changed.append(run_dir.name)
    return changed


# --------------------------------------------------------------------------------------
# Listing
# --------------------------------------------------------------------------------------


@dataclass
class RunInfo:
    """A run as read from disk: its id, directory, spec, status and per-epoch metrics.

    ``spec`` is None when ``spec.json`` is unreadable; ``status["state"]`` is "unknown"
    when ``status.json`` is.
    """

    id: str
    dir: Path
    spec: TrainSpec | None
    status: dict
    metrics: list[dict] = field(default_factory=list)
    test_metrics: dict | None = None
    summary: dict | None = None

    @property
    def state(self) -> str:
        """One of STATES, or "unknown"."""
        return str(self.status.get("state", "unknown"))

    @property
    def label(self) -> str:
        """A short human name: the grid variant, else the architecture variant and seed."""
        if self.spec is None:
            return self.id
        if self.spec.experiment_label:
            return self.spec.experiment_label
        return f"{self.spec.variant} (seed {self.spec.seed})"

    @property
    def best_val_accuracy(self) -> float | None:
        """Highest validation accuracy over completed epochs, or None."""
        values = [r["val_accuracy"] for r in self.metrics if _finite(r.get("val_accuracy"))]
        return max(values) if values else None

    @property
    def test_accuracy(self) -> float | None:
        """The best model's test accuracy, or None."""
        value = (self.test_metrics or {}).get("accuracy")
        return value if _finite(value) else None

    @property
    def seconds_per_epoch(self) -> float | None:
        """Mean epoch time, leaving out the first epoch (it includes tracing) when there are more."""
        values = [r["seconds"] for r in self.metrics if _finite(r.get("seconds"))]
        if len(values) > 1:
            values = values[1:]
        return statistics.fmean(values) if values else None


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def load_run(run_dir: str | os.PathLike) -> RunInfo:
    """Read one run directory into a :class:`RunInfo` (never raises on bad files)."""
    run_dir = Path(run_dir)
    return RunInfo(
        id=run_dir.name,
        dir=run_dir,
        spec=read_spec(run_dir),
        status=read_status(run_dir),
        metrics=read_metrics(run_dir),
        test_metrics=read_test_metrics(run_dir),
        summary=read_summary(run_dir),
    )


def list_runs(runs_root: str | os.PathLike | None = None, *, reconcile: bool = True,
              experiment_id: str | None = None) -> list[RunInfo]:
    """All runs under ``runs_root``, newest first; reads files only (no TensorFlow).

    Args:
        runs_root: see :func:`default_runs_root`.
        reconcile: first mark runs whose worker died as interrupted (:func:`reconcile_runs`).
        experiment_id: keep only the runs of this grid experiment.
    """
    root = default_runs_root(runs_root)
    if reconcile:
        reconcile_runs(root)
    runs = [load_run(path) for path in run_dirs(root)]
    if experiment_id is not None:
        runs = [r for r in runs if r.spec is not None and r.spec.experiment_id == experiment_id]

    def _created(run: RunInfo) -> tuple:
        stamp = run.status.get("created_at")
        return (stamp if _finite(stamp) else 0.0, run.id)

    return sorted(runs, key=_created, reverse=True)


def delete_run(run_dir: str | os.PathLike) -> None:
    """Delete a finished run's directory.

    Raises:
        RunStateError: the run is queued or running (cancel it first).
        FileNotFoundError: ``run_dir`` is not a run directory.
    """
    run_dir = Path(run_dir)
    if not ((run_dir / STATUS_FILE).exists() or (run_dir / SPEC_FILE).exists()):
        raise FileNotFoundError(f"Expected a run directory with {STATUS_FILE}. Received: {str(run_dir)!r}")
    reconcile_run(run_dir)
    state = read_status(run_dir).get("state")
    if state in ACTIVE_STATES:
        raise RunStateError(
            f"Run {run_dir.name!r} is {state}; cancel it and wait for it to stop before deleting it."
        )
    shutil.rmtree(run_dir)


# --------------------------------------------------------------------------------------
# Experiments
# --------------------------------------------------------------------------------------


def _mean_std(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def summarise_experiment(runs: Iterable[RunInfo], experiment_id: str | None = None) -> list[dict]:
    """Mean ± standard deviation per variant over the seeds of a grid experiment.

    Args:
        runs: runs, e.g. ``list_runs(root, experiment_id=...)``.
        experiment_id: if given, ignore runs of other experiments.

    Returns:
        One dict per variant (in the grid's order): ``variant``, ``conv_type``,
        ``batchnorm``, ``runs``, ``completed``, ``seeds`` and ``<metric>_mean`` /
        ``<metric>_std`` for ``best_val_accuracy``, ``test_accuracy`` and
        ``seconds_per_epoch`` (None where no run has the value yet; std is the sample
        standard deviation, 0 for a single run). Runs still training count with the
        epochs they finished; test accuracy needs a completed run.
    """
    groups: dict[str, list[RunInfo]] = {}
    for run in sorted(runs, key=lambda r: (r.status.get("queued_at") or 0, r.id)):
        if run.spec is None or (experiment_id is not None and run.spec.experiment_id != experiment_id):
            continue
        groups.setdefault(run.spec.experiment_label or run.spec.variant, []).append(run)
    rows = []
    for variant, members in groups.items():
        row = {
            "variant": variant,
            "conv_type": members[0].spec.conv_type,
            "batchnorm": members[0].spec.batchnorm,
            "runs": len(members),
            "completed": sum(r.state == "completed" for r in members),
            "seeds": [r.spec.seed for r in members],
        }
        for metric in ("best_val_accuracy", "test_accuracy", "seconds_per_epoch"):
            values = [v for v in (getattr(r, metric) for r in members) if v is not None]
            row[f"{metric}_mean"], row[f"{metric}_std"] = _mean_std(values)
        rows.append(row)
    return rows
