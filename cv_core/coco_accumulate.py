"""COCO's ``accumulate`` step, shared by mask AP (:mod:`cv_core.instances.metrics`) and keypoint AP
(:mod:`cv_core.keypoints.metrics`): from matched, score-ordered predictions to interpolated precision.

This is pycocotools 2.0.11's ``COCOeval.accumulate`` for one category, area range and ``maxDets``:
the predictions of all pictures are pooled and sorted by score (a stable sort, so ties keep their
order), true and false positives are summed cumulatively at each threshold (predictions matched to
an ignored truth count neither way), the precision is made monotone from the right (the envelope)
and read at the 101 recall points 0:0.01:1 (0 past the last recall reached). Pure numpy.
"""

from __future__ import annotations

import numpy as np

__all__ = ["RECALL_THRESHOLDS", "interpolated_precision"]

#: COCO's 101 recall points 0:0.01:1, computed as pycocotools computes them.
RECALL_THRESHOLDS = np.linspace(.0, 1.00, int(np.round((1.00 - .0) / .01)) + 1, endpoint=True)


def interpolated_precision(scores: list[np.ndarray], matched: list[np.ndarray], counted: int,
                           ignored: list[np.ndarray] | None = None) -> np.ndarray:
    """(T, 101) interpolated precision at each of T thresholds, as pycocotools accumulates it.

    Args:
        scores: per picture, the (D,) scores of its kept predictions.
        matched: per picture, (T, D) bool: prediction d matched a truth at threshold t.
        counted: the number of truths that count (not ignored), at least 1.
        ignored: per picture, (T, D) bool: prediction d matched an ignored truth (or None: none is).

    Returns:
        float64 array ``(T, len(RECALL_THRESHOLDS))``.
    """
    order = np.argsort(-np.concatenate(scores), kind="mergesort")
    hits = np.concatenate(matched, axis=1)[:, order]
    counts = ~np.concatenate(ignored, axis=1)[:, order] if ignored is not None else np.ones_like(hits)
    tp_sum = np.cumsum(hits & counts, axis=1).astype(float)
    fp_sum = np.cumsum(~hits & counts, axis=1).astype(float)
    precision = np.zeros((len(hits), len(RECALL_THRESHOLDS)))
    for t, (tp, fp) in enumerate(zip(tp_sum, fp_sum)):
        if not len(tp):
            continue
        recall = tp / counted
        pr = tp / (fp + tp + np.spacing(1))
        pr = np.maximum.accumulate(pr[::-1])[::-1]  # precision envelope, right to left
        inds = np.searchsorted(recall, RECALL_THRESHOLDS, side="left")
        precision[t] = np.where(inds < len(pr), pr[np.minimum(inds, len(pr) - 1)], 0.0)
    return precision
