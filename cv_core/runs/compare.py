"""Comparing runs: the comparison table, the configuration diff, and time left for a live run.

Pure functions over :class:`~cv_core.runs.folders.RunInfo` and plain dicts; no TensorFlow.
"""

from __future__ import annotations

import math
import statistics

from cv_core.runs.folders import RunInfo

__all__ = ["compare_table", "config_diff", "epoch_durations", "eta_seconds", "format_seconds"]


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def compare_table(runs: list[RunInfo]) -> list[dict]:
    """One row per run with what the chapter compares variants by.

    Each run is scored by its task's monitored metric (validation accuracy for
    classification, validation mean IoU for segmentation: ``Task.monitor``).

    Returns:
        Dicts with ``label``, ``run`` (id), ``state``, ``task`` (its name), ``params`` (int
        or None), ``seconds_per_epoch``, ``best_score`` (the best value of the monitored
        metric) and ``best_epoch`` (1-based), ``test_score`` (``Task.test_metric`` on the
        test split), ``gap`` (the training minus the validation value of that metric at the
        best epoch: how much the variant overfits there) and ``epochs`` (completed).
    """
    rows = []
    for run in runs:
        task = run.task
        best = run.best_row
        gap = None
        if best is not None and _finite(best.get(task.metric)):
            gap = best[task.metric] - best[task.monitor]
        rows.append({
            "label": run.label,
            "run": run.id,
            "state": run.state,
            "task": task.name,
            "params": (run.summary or {}).get("params"),
            "seconds_per_epoch": run.seconds_per_epoch,
            "best_score": best[task.monitor] if best else None,
            "best_epoch": int(best["epoch"]) if best else None,
            "test_score": run.test_score,
            "gap": gap,
            "epochs": len(run.metrics),
        })
    return rows


def config_diff(runs: list[RunInfo], ignore: tuple[str, ...] = ("notes", "experiment_id")) -> list[dict]:
    """The spec fields on which the runs differ.

    Returns:
        One dict per differing field: ``{"field": name, <run id>: value, ...}``, values as
        short text. Empty when all specs agree (or fewer than two runs have a spec).
    """
    specs = {run.id: run.spec.to_dict() for run in runs if run.spec is not None}
    if len(specs) < 2:
        return []
    fields = sorted({key for spec in specs.values() for key in spec} - set(ignore))
    rows = []
    for name in fields:
        values = {run_id: spec.get(name) for run_id, spec in specs.items()}
        if len({repr(v) for v in values.values()}) > 1:
            rows.append({"field": name, **{run_id: _text(v) for run_id, v in values.items()}})
    return rows


def _text(value) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in sorted(value.items()))
    return "" if value is None else str(value)


def epoch_durations(metrics: list[dict]) -> list[float]:
    """The measured durations of a run's epochs after warm-up, in seconds, oldest first.

    An epoch's duration is ``cycle_seconds``: the wall time from the end of the epoch before
    it, saving of the best model and the backup included, so that the durations add up to
    what the run takes. A worker's first epoch has none (it also traces the graphs and fills
    the data cache), so a resumed run's first epoch after the resume is left out too. Rows
    written before ``cycle_seconds`` existed give their ``seconds`` instead, the first
    epoch left out.
    """
    cycles = [row["cycle_seconds"] for row in metrics if _finite(row.get("cycle_seconds"))]
    if cycles:
        return [seconds for seconds in cycles if seconds > 0]
    return [row["seconds"] for row in metrics[1:] if _finite(row.get("seconds")) and row["seconds"] > 0]


def eta_seconds(status: dict, progress: dict | None, metrics: list[dict], now: float | None = None) -> float | None:
    """Seconds left for a running run, or None while there is nothing honest to go on.

    Epochs are timed by the measured durations after warm-up (:func:`epoch_durations`): the
    first epoch, which traces the graphs and can take many times longer than the rest, is
    never used. Their mean, each capped at :data:`STALL_FACTOR` times their median, is what
    an epoch costs: the regular cost of saving the best model every few epochs counts (a median
    alone left it out: 0.33 s for epochs that averaged 0.45 s in a 300-epoch Tiny run here),
    while one epoch stalled by a busy machine moves the estimate little. Before any such
    epoch has finished, the estimate needs the batch rate
    that the worker measures once the first batches of an epoch (``WARMUP_BATCHES``) are
    past (``progress["seconds_per_batch"]``); until then it returns None and the UI says
    "estimating…". ``now`` is accepted for symmetry with callers that pass a clock.
    """
    epochs = (progress or {}).get("epochs") or status.get("epochs")
    if not epochs:
        return None
    batch = (progress or {}).get("batch") or 0
    batches = (progress or {}).get("batches") or 0
    per_batch = (progress or {}).get("seconds_per_batch")
    per_batch = per_batch if _finite(per_batch) and per_batch > 0 else None
    fraction = min(1.0, batch / batches) if batches else 0.0
    durations = epoch_durations(metrics)
    done_epochs = len(metrics)
    if durations:
        typical = statistics.median(durations)
        per_epoch = statistics.fmean(min(seconds, STALL_FACTOR * typical) for seconds in durations)
    elif per_batch is not None and batches:
        per_epoch = per_batch * batches * _VALIDATION_ALLOWANCE
    else:
        return None
    if done_epochs >= epochs:
        current_left = 0.0
    elif per_batch is not None and batches and (progress or {}).get("phase") == "train":
        current_left = per_batch * max(0, batches - batch) + per_epoch * (1 - 1 / _VALIDATION_ALLOWANCE)
    else:
        current_left = per_epoch * (1 - fraction)
    return max(0.0, current_left + per_epoch * max(0, epochs - done_epochs - 1))


#: An epoch that takes more than this many times the median epoch counts as this many: a
#: stall (another program, a swap) says nothing about the epochs to come.
STALL_FACTOR = 3.0

#: An epoch's time over its training batches' time, before any epoch has been timed whole
#: (validation on a quarter as many images as training, at a third of the cost per image).
_VALIDATION_ALLOWANCE = 1.1


def format_seconds(seconds: float | None, unknown: str = "—") -> str:
    """'45 s', '3 min 5 s', '2 h 10 min' (in the reader's language: :func:`cv_core.formatting.format_duration`),
    or ``unknown`` for None."""
    from cv_core.formatting import format_duration

    return format_duration(seconds, unknown=unknown)
