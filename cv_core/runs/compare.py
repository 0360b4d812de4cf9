"""Comparing runs: the comparison table, the configuration diff, and time left for a live run.

Pure functions over :class:`~cv_core.runs.store.RunInfo` and plain dicts; no TensorFlow.
"""

from __future__ import annotations

import math

from cv_core.runs.folders import RunInfo

__all__ = ["compare_table", "config_diff", "eta_seconds", "format_seconds"]


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


def eta_seconds(status: dict, progress: dict | None, metrics: list[dict], now: float | None = None) -> float | None:
    """Seconds left for a running run, or None while there is nothing honest to go on.

    After an epoch has finished, epochs are timed by the mean of the finished ones (leaving
    out the first, which includes tracing and filling the data cache, when there are
    more). Before that, the estimate needs the batch rate that the worker measures once
    the first batches of an epoch (``WARMUP_BATCHES``: tracing, pipeline warm-up) are past
    (``progress["seconds_per_batch"]``); until then it returns None and the UI says
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
    times = [r["seconds"] for r in metrics if _finite(r.get("seconds"))]
    if len(times) > 1:
        times = times[1:]
    done_epochs = len(metrics)
    if times:
        per_epoch = sum(times) / len(times)
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


#: An epoch's time over its training batches' time, before any epoch has been timed whole
#: (validation on a quarter as many images as training, at a third of the cost per image).
_VALIDATION_ALLOWANCE = 1.1


def format_seconds(seconds: float | None, unknown: str = "—") -> str:
    """'45 s', '3 min 5 s', '2 h 10 min', or ``unknown`` for None."""
    if seconds is None or not _finite(seconds):
        return unknown
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"
