"""Small pieces every task's final scores share: which splits are scored, and numbers that JSON can hold.

A task entry's ``final_scores`` scores the best model on the splits that have pictures, and its
``score_rows`` reads back the splits that were scored (``scores.json`` of a run, which may be old or
partial); a score that does not exist (no true object to find: NaN) is written as ``null``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from cv_core.i18n import _

__all__ = ["SCORED_SPLITS", "json_number", "score_each_split", "score_row", "scored_splits", "splits_with_pictures"]

#: The splits a run's best model is scored on after training, in this order.
SCORED_SPLITS = ("validation", "test")


def json_number(value) -> float | None:
    """``value`` as a float, or None for None and NaN (a score of nothing: no truth to find)."""
    return None if value is None or value != value else float(value)


def splits_with_pictures(dataset) -> list[str]:
    """The :data:`SCORED_SPLITS` of ``dataset`` that have at least one picture."""
    return [split for split in SCORED_SPLITS if dataset.count(split)]


def score_each_split(dataset, image_size: int, samples: Callable, score: Callable[..., dict]) -> dict:
    """A task's final scores: ``{split: score(images, truths)}`` for each split of ``dataset`` with pictures.

    ``samples(dataset, split, (image_size, image_size))`` reads a split's pictures at the model's
    input size and their truths (e.g. :func:`cv_core.detection.detection_samples`).
    """
    size = (image_size, image_size)
    return {split: score(*samples(dataset, split, size)) for split in splits_with_pictures(dataset)}


def scored_splits(scores: Mapping) -> list[str]:
    """The :data:`SCORED_SPLITS` present in a run's ``scores.json`` (as a mapping each)."""
    return [split for split in SCORED_SPLITS if isinstance(scores.get(split), Mapping)]


def score_row(label: str, scores: Mapping, splits: Sequence[str], value: Callable[[Mapping], object],
              digits: int = 3) -> dict:
    """One row of a task's final-scores table: ``label`` under "score", then one column per split.

    Args:
        label: what the row is, for people (already translated).
        scores: a run's ``scores.json``.
        splits: the splits to show (:func:`scored_splits`), each a column named by the split, translated.
        value: reads the row's value from one split's scores; None where there is none.
        digits: numbers are rounded to this many decimals; anything else (a sentence) is shown as it is.
    """
    columns = {"validation": _("validation"), "test": _("test")}
    row = {_("score"): label}
    for split in splits:
        v = value(scores[split])
        row[columns.get(split, split)] = round(v, digits) if isinstance(v, (int, float)) and not isinstance(v, bool) \
            else v
    return row
