"""Run folders under a runs root: creating one, reading one or all of them, deleting one.

Reads files only (no TensorFlow), so pages can list runs on every rerun.
"""

from __future__ import annotations

import math
import os
import re
import secrets
import shutil
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

from cv_core.i18n import N_, LazyText, TranslatedError, _
from cv_core.runs.files import (
    SPEC_FILE,
    STATUS_FILE,
    default_runs_root,
    read_metrics,
    read_spec,
    read_status,
    read_summary,
    read_test_metrics,
    write_json_atomic,
)
from cv_core.runs.labels import run_label
from cv_core.runs.liveness import ACTIVE_STATES, reconcile_run, reconcile_runs, run_dirs
from cv_core.runs.spec import TrainSpec, validate_spec
from cv_core.runs.tasks import TASKS, Task, architecture_of, task_of

__all__ = [
    "SCORE", "RunGoneError", "RunInfo", "RunStateError", "best_epoch_row", "create_run", "delete_run", "list_runs",
    "load_run", "require_run",
]

#: The metric that picks a classification run's best epoch, and whether higher is better
#: (each task has its own: ``Task.monitor`` and ``Task.mode``).
SCORE = ("val_accuracy", "max")


class RunStateError(TranslatedError, ValueError):
    """An operation that the run's current state does not allow (e.g. deleting a running run).

    Its message is read in the reader's language (:class:`cv_core.i18n.TranslatedError`)."""


class RunGoneError(RunStateError):
    """The run's folder is gone: it was deleted (from another browser, the command line or a script)."""


def require_run(run_dir: str | os.PathLike) -> Path:
    """``run_dir`` as a Path, if its folder still exists.

    Raises:
        RunGoneError: the folder is gone (the run was deleted).
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunGoneError(N_("Run {run!r} no longer exists: it was deleted, and its curves and checkpoints went "
                              "with it."), run=run_dir.name)
    return run_dir


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def best_epoch_row(metrics: list[dict], score: tuple[str, str] = SCORE) -> dict | None:
    """The metrics row of the best epoch, or None before any scored epoch.

    Args:
        metrics: the run's epoch rows.
        score: ``(key, "max" | "min")``, the task's ``(Task.monitor, Task.mode)``;
            :data:`SCORE` (validation accuracy) by default.
    """
    key, mode = score
    scored = [row for row in metrics if _finite(row.get(key))]
    if not scored:
        return None
    pick = max if mode == "max" else min
    return pick(scored, key=lambda row: row[key])


def _slug(spec: TrainSpec) -> str:
    architecture = architecture_of(spec)
    variant = architecture.slug(spec) if architecture.slug else architecture.name
    text = f"{spec.preset or spec.dataset}-{variant}-s{spec.seed}"
    return re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")


def create_run(spec: TrainSpec | dict, runs_root: str | os.PathLike | None = None, *,
               dataset=None, owner: str | None = None, queued_at: float | None = None,
               run_id: str | None = None) -> Path:
    """Validate ``spec`` and create its run directory in the "queued" state, without starting it.

    Args:
        spec: the :class:`TrainSpec` (or dict) to run.
        runs_root: where runs live (see :func:`cv_core.runs.default_runs_root`).
        dataset: an opened dataset to validate against (see :func:`validate_spec`).
        owner: who started it (an opaque id of a browser; see :mod:`cv_core.serving`).
        queued_at: its place in the queue (a ``time.time()``); now by default. A grid passes
            increasing values so that its runs train in order.
        run_id: the folder name to use instead of a generated one (a multi-worker run
            needs the same name on every worker).

    Returns:
        The new run directory, ``<runs_root>/<YYYYmmdd-HHMMSS>-<slug>-<hex>``.

    Raises:
        SpecError: the spec cannot run.
        FileExistsError: ``run_id`` is taken.
    """
    spec = validate_spec(spec, dataset=dataset)
    if spec.dataset_root:
        spec = spec.replace(dataset_root=str(Path(os.path.expanduser(spec.dataset_root)).absolute()))
    root = default_runs_root(runs_root)
    root.mkdir(parents=True, exist_ok=True)
    if run_id is not None:
        run_dir = root / run_id
        run_dir.mkdir(exist_ok=True)  # other workers of a multi-worker run may have made it already
        if (run_dir / STATUS_FILE).exists():
            raise FileExistsError(f"A run named {run_id!r} already exists in {str(root)!r}.")
    else:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        while True:
            run_dir = root / f"{stamp}-{_slug(spec)}-{secrets.token_hex(2)}"
            try:
                run_dir.mkdir()
                break
            except FileExistsError:
                continue
    write_json_atomic(run_dir / SPEC_FILE, spec.to_dict())
    now = time.time()
    write_json_atomic(run_dir / STATUS_FILE, {
        "state": "queued",
        "created_at": now,
        "queued_at": now if queued_at is None else float(queued_at),
        "attempt": 1,
        "pid": None,
        "epoch": 0,
        "epochs": spec.epochs,
        "owner": owner,
        "message": "Waiting for its worker to start",
    })
    return run_dir


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
    def owner(self) -> str | None:
        """Who started the run (an opaque browser id), or None (command line, older runs)."""
        owner = self.status.get("owner")
        return owner if isinstance(owner, str) else None

    @property
    def label(self) -> str:
        """A short human name: the grid variant, else the architecture variant and seed (in the reader's
        language: a name for people, never a key; :func:`cv_core.runs.labels.run_label`)."""
        if self.spec is None:
            return self.id
        return run_label(self.spec)

    @property
    def task(self) -> Task:
        """The run's :class:`~cv_core.runs.tasks.Task` (classification for runs without a readable spec)."""
        try:
            return task_of(self.spec)
        except ValueError:  # an unknown task in an edited spec.json
            return TASKS["classification"]

    @property
    def best_row(self) -> dict | None:
        """The metrics row of the best epoch by the task's monitored metric, or None."""
        return best_epoch_row(self.metrics, (self.task.monitor, self.task.mode))

    @property
    def best_score(self) -> float | None:
        """The best value of the task's monitored metric (e.g. validation accuracy, mean IoU), or None."""
        best = self.best_row
        return None if best is None else best[self.task.monitor]

    @property
    def test_score(self) -> float | None:
        """The best model's score on the test split (``Task.test_metric``), or None."""
        value = (self.test_metrics or {}).get(self.task.test_metric)
        return value if _finite(value) else None

    @property
    def seconds_per_epoch(self) -> float | None:
        """Mean epoch time, leaving out the first epoch (it includes tracing) when there are more."""
        values = [r["seconds"] for r in self.metrics if _finite(r.get("seconds"))]
        if len(values) > 1:
            values = values[1:]
        return statistics.fmean(values) if values else None


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
              experiment_id: str | None = None, owner: str | None = None) -> list[RunInfo]:
    """All runs under ``runs_root``, newest first; reads files only (no TensorFlow).

    Args:
        runs_root: see :func:`cv_core.runs.default_runs_root`.
        reconcile: first mark runs whose worker died as interrupted (:func:`reconcile_runs`).
        experiment_id: keep only the runs of this grid experiment.
        owner: keep only the runs this owner started.
    """
    root = default_runs_root(runs_root)
    if reconcile:
        reconcile_runs(root)
    runs = [load_run(path) for path in run_dirs(root)]
    if experiment_id is not None:
        runs = [r for r in runs if r.spec is not None and r.spec.experiment_id == experiment_id]
    if owner is not None:
        runs = [r for r in runs if r.owner == owner]

    def _created(run: RunInfo) -> tuple:
        stamp = run.status.get("created_at")
        return (stamp if _finite(stamp) else 0.0, run.id)

    return sorted(runs, key=_created, reverse=True)


def delete_run(run_dir: str | os.PathLike) -> None:
    """Delete a finished run's directory.

    Raises:
        RunStateError: the run is queued or running (cancel it first).
        RunGoneError: the folder is gone already (deleted elsewhere).
        FileNotFoundError: ``run_dir`` is a folder but not a run directory.
    """
    run_dir = require_run(run_dir)
    if not ((run_dir / STATUS_FILE).exists() or (run_dir / SPEC_FILE).exists()):
        raise FileNotFoundError(f"Expected a run directory with {STATUS_FILE}. Received: {str(run_dir)!r}")
    reconcile_run(run_dir)
    state = read_status(run_dir).get("state")
    if state in ACTIVE_STATES:
        raise RunStateError(N_("Run {run!r} is {state}; cancel it and wait for it to stop before deleting it."),
                            run=run_dir.name, state=LazyText(state))
    try:
        shutil.rmtree(run_dir)
    except FileNotFoundError:  # deleted by someone else at the same moment
        require_run(run_dir)
        raise
