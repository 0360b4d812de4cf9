"""COCO mask AP: instance segmentation scored exactly as ``COCOeval(iouType="segm")`` scores it.

A predicted object is a mask, a class and a score; a true object is a mask and a class. Two masks
overlap by their **mask IoU** (shared pixels over pixels in either). For each class, predictions
are matched to truths greedily by score within each picture at every IoU threshold 0.50:0.05:0.95
(a truth is taken at most once; among the truths still free a prediction takes the one it overlaps
most, at or above the threshold); the precision over the pooled, score-ordered predictions of all
pictures is made monotone (the envelope from the right) and read at 101 recall points 0:0.01:1.
**AP** is the mean over thresholds, recall points and the classes that have at least one truth;
**AP50** and **AP75** the same at one threshold. This is pycocotools 2.0.11's ``evaluateImg`` and
``accumulate`` with area range "all" and ``maxDets`` 100, which COCO applies **per picture and
class** (the 100 best-scored predictions of each class in each picture). All truths count
(``iscrowd`` 0). The tests compare with pycocotools itself on random fixtures.

>>> square = np.zeros((8, 8), bool); square[2:6, 2:6] = True
>>> mask_average_precision([[{"mask": square, "class": 0, "score": 0.9}]], [[{"mask": square, "class": 0}]])
{'AP': 0.99999..., 'AP50': 0.99999..., 'AP75': 0.99999..., 'per_class': {0: {...}}}   # 1 / (1 + eps), as COCO

Pure numpy: importing this does not load TensorFlow.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cv_core.coco_accumulate import RECALL_THRESHOLDS, interpolated_precision

__all__ = ["IOU_THRESHOLDS", "MAX_DETECTIONS", "RECALL_THRESHOLDS", "mask_average_precision", "mask_iou_matrix"]

#: COCO's IoU thresholds 0.50:0.05:0.95, computed as pycocotools computes them.
IOU_THRESHOLDS = np.linspace(.5, 0.95, int(np.round((0.95 - .5) / .05)) + 1, endpoint=True)
#: COCO keeps the 100 best-scored predictions of each class in each picture.
MAX_DETECTIONS = 100


def mask_iou_matrix(predicted: Sequence[np.ndarray], true: Sequence[np.ndarray]) -> np.ndarray:
    """IoU of every predicted mask with every true mask: (P, T) float64 in 0..1 (0 where both are empty)."""
    if not len(predicted) or not len(true):
        return np.zeros((len(predicted), len(true)))
    p = np.stack([np.asarray(m, bool).ravel() for m in predicted]).astype(np.float64)
    t = np.stack([np.asarray(m, bool).ravel() for m in true]).astype(np.float64)
    inter = p @ t.T
    union = p.sum(1)[:, None] + t.sum(1)[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def _check(predictions, truths) -> None:
    if len(predictions) != len(truths):
        raise ValueError(f"Expected one list of predictions per picture: {len(truths)} pictures of truths, "
                         f"{len(predictions)} of predictions.")
    for index, (preds, gts) in enumerate(zip(predictions, truths)):
        shape = None
        for kind, entries, keys in (("prediction", preds, ("mask", "class", "score")), ("truth", gts, ("mask", "class"))):
            for entry in entries:
                missing = [k for k in keys if k not in entry]
                if missing:
                    raise ValueError(f"Expected every {kind} of picture {index} to have {keys}. Missing: {missing}.")
                mask = np.asarray(entry["mask"])
                if mask.ndim != 2:
                    raise ValueError(f"Expected each {kind}'s mask to be (H, W). Received shape {mask.shape} "
                                     f"in picture {index}.")
                if shape is not None and mask.shape != shape:
                    raise ValueError(f"Expected every mask of picture {index} to have one size. Received {shape} "
                                     f"and {mask.shape}.")
                shape = mask.shape
                if kind == "prediction" and not np.isfinite(float(entry["score"])):
                    raise ValueError(f"Expected finite scores. Received score={entry['score']!r} in picture {index}.")


def _evaluate_picture(preds: list, gts: list, max_detections: int):
    """One picture and class: (scores, matched (T, D)) as pycocotools' ``evaluateImg`` (no ignored truths)."""
    order = np.argsort([-float(p["score"]) for p in preds], kind="mergesort")[:max_detections]
    preds = [preds[i] for i in order]
    ious = mask_iou_matrix([p["mask"] for p in preds], [g["mask"] for g in gts])
    matched = np.zeros((len(IOU_THRESHOLDS), len(preds)), dtype=bool)
    for t, threshold in enumerate(IOU_THRESHOLDS):
        taken = np.zeros(len(gts), dtype=bool)
        for d in range(len(preds)):
            best, m = min(threshold, 1 - 1e-10), -1
            for g in range(len(gts)):
                if taken[g] or ious[d, g] < best:
                    continue
                best, m = ious[d, g], g
            if m > -1:
                matched[t, d] = taken[m] = True
    return np.array([float(p["score"]) for p in preds], dtype=np.float64), matched


def _class_precision(predictions, truths, cls: int, max_detections: int) -> np.ndarray:
    """(T, R) interpolated precision of one class (pycocotools' ``accumulate``); -1 without truths."""
    all_scores, all_matched, counted = [], [], 0
    for preds, gts in zip(predictions, truths):
        p = [e for e in preds if int(e["class"]) == cls]
        g = [e for e in gts if int(e["class"]) == cls]
        if not p and not g:
            continue
        scores, matched = _evaluate_picture(p, g, max_detections)
        all_scores.append(scores)
        all_matched.append(matched)
        counted += len(g)
    if counted == 0:
        return -np.ones((len(IOU_THRESHOLDS), len(RECALL_THRESHOLDS)))
    return interpolated_precision(all_scores, all_matched, counted)


def _mean(values: np.ndarray) -> float:
    kept = values[values > -1]
    return float(np.mean(kept)) if kept.size else float("nan")


def mask_average_precision(predictions: Sequence[Sequence[dict]], truths: Sequence[Sequence[dict]],
                           max_detections: int = MAX_DETECTIONS) -> dict:
    """COCO mask AP, AP50 and AP75 of a set of pictures, as ``COCOeval(iouType="segm")`` computes them.

    Args:
        predictions: ``predictions[i]`` lists picture i's predicted objects, each
            ``{"mask": (H, W) bool array, "class": int, "score": float}``.
        truths: ``truths[i]`` lists picture i's true objects, each ``{"mask": (H, W) bool array,
            "class": int}`` (all count, as COCO's ``iscrowd`` 0).
        max_detections: predictions kept per picture and class, best scores first (COCO: 100).

    Returns:
        ``{"AP": mean over IoU 0.50:0.05:0.95, "AP50": at 0.50, "AP75": at 0.75}`` (floats in 0..1,
        means over the classes that have a truth; NaN when no class has one) and ``"per_class"``:
        ``{class: {"AP", "AP50", "AP75", "truths"}}`` for every class with a truth.

    Raises:
        ValueError: lists of different lengths, an entry without its keys, masks of different
            sizes within a picture, or a score that is not finite.
    """
    _check(predictions, truths)
    classes = sorted({int(e["class"]) for gts in truths for e in gts}
                     | {int(e["class"]) for preds in predictions for e in preds})
    if not classes:
        return {"AP": float("nan"), "AP50": float("nan"), "AP75": float("nan"), "per_class": {}}
    precision = np.stack([_class_precision(predictions, truths, c, max_detections) for c in classes], axis=-1)
    fifty, seventy_five = int(np.argmin(np.abs(IOU_THRESHOLDS - .5))), int(np.argmin(np.abs(IOU_THRESHOLDS - .75)))
    per_class = {}
    for k, cls in enumerate(classes):
        if precision[0, 0, k] > -1:
            per_class[cls] = {"AP": _mean(precision[..., k]), "AP50": _mean(precision[fifty, :, k]),
                              "AP75": _mean(precision[seventy_five, :, k]),
                              "truths": sum(int(e["class"]) == cls for gts in truths for e in gts)}
    return {"AP": _mean(precision), "AP50": _mean(precision[fifty]), "AP75": _mean(precision[seventy_five]),
            "per_class": per_class}
