"""Grid experiments: the runs of one grid summarised as mean ± spread per variant."""

from __future__ import annotations

import statistics
from collections.abc import Iterable

from cv_core.i18n import N_, _, ngettext
from cv_core.runs.folders import RunInfo
from cv_core.runs.labels import dataset_id_label

#: The presets' names in a title (the Train form's words).
PRESET_WORDS = {"tiny": N_("Tiny"), "quick": N_("Quick"), "book": N_("Book")}

__all__ = ["experiment_title", "summarise_experiment"]


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
        ``batchnorm``, ``task``, ``runs``, ``completed``, ``seeds`` and ``<metric>_mean`` /
        ``<metric>_std`` / ``<metric>_min`` / ``<metric>_max`` for ``best_score`` (the
        task's monitored metric, e.g. validation accuracy), ``test_score`` and
        ``seconds_per_epoch`` (None where no run has the value yet; std is the sample
        standard deviation, 0 for a single run). Runs still training count with the epochs
        they finished; the test score needs a completed run.
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
            "task": members[0].task.name,
            "runs": len(members),
            "completed": sum(r.state == "completed" for r in members),
            "seeds": [r.spec.seed for r in members],
        }
        for metric in ("best_score", "test_score", "seconds_per_epoch"):
            values = [v for v in (getattr(r, metric) for r in members) if v is not None]
            row[f"{metric}_mean"], row[f"{metric}_std"] = _mean_std(values)
            row[f"{metric}_min"] = min(values) if values else None
            row[f"{metric}_max"] = max(values) if values else None
        rows.append(row)
    return rows


def experiment_title(runs: Iterable[RunInfo]) -> str:
    """A name for a grid experiment that says its settings, in the reader's language, e.g.
    "Quick · shapes 64 px · 15 epochs · 3 seeds · 2 × 3 variants" (the dataset's id in English, its
    name in other languages: :func:`cv_core.runs.labels.dataset_id_label`)."""
    members = [r for r in runs if r.spec is not None]
    if not members:
        return _("Experiment")
    spec = members[0].spec
    seeds = sorted({r.spec.seed for r in members})
    convs = sorted({r.spec.conv_type for r in members})
    bns = sorted({r.spec.batchnorm for r in members})
    preset = spec.preset.capitalize() if spec.preset else N_("Custom")
    parts = [_(PRESET_WORDS.get(spec.preset, preset)),
             _("{dataset} {size} px").format(dataset=dataset_id_label(spec.dataset), size=spec.image_size),
             ngettext("{n} epoch", "{n} epochs", spec.epochs).format(n=spec.epochs),
             ngettext("{n} seed", "{n} seeds", len(seeds)).format(n=len(seeds)),
             _("{convs} × {batchnorms} variants").format(convs=len(convs), batchnorms=len(bns))]
    return " · ".join(parts)
