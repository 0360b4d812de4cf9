"""How the field scores a detector: average precision per class, and its mean (mAP).

A detector's output for one image is a list of scored boxes ``(class_index, x0, y0, x1, y1,
score)``; the truth is a list of boxes ``(class_index, x0, y0, x1, y1)``. As everywhere in
the lab, x1 and y1 are exclusive, so a box's area is simply ``(x1 - x0) * (y1 - y0)`` pixels.

Scoring one class at one IoU threshold, as PASCAL VOC does:

1. **Matching**, image by image: predictions of the class are taken by descending score;
   each one takes the still-unmatched true box of its class with the highest IoU, if that
   IoU is at least the threshold (a true positive); otherwise it is a false positive. Each
   true box is matched at most once, so a second box on the same object is a false
   positive. (The VOC devkit instead picks the highest-IoU true box even when it is already
   taken, making the prediction a false positive; both rules agree unless true boxes
   overlap each other by more than the threshold.)
2. **The precision–recall curve**: all predictions of the class over all images, by
   descending score; after each distinct score, precision = TP / predictions so far and
   recall = TP / true boxes. Predictions with the same score form one point: no score
   threshold can separate them, so their order in the input never changes the result.
3. **Average precision** is the area under that curve with all-point interpolation
   (VOC 2010 onwards): precision at recall r is the best precision at any recall >= r.

mAP is the mean AP over the classes that have at least one true box; predictions of a class
with no true box anywhere are ignored, and a class with true boxes but no predictions has
AP 0. Without any true box the mean is undefined and the functions return NaN.

Pure numpy: importing this module does not import TensorFlow or Keras, so pages and tests
can score boxes without paying for it. (``keras.utils.bounding_boxes.compute_iou`` computes
the same IoU on tensors, but would load TensorFlow for a few multiplications.)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "COCO_IOU_THRESHOLDS",
    "ClassMatches",
    "average_precision",
    "box_iou",
    "coco_map",
    "match_detections",
    "mean_average_precision",
    "mean_average_precisions",
    "precision_recall_curves",
]

#: IoU thresholds of COCO's headline mAP: 0.50, 0.55, ..., 0.95.
COCO_IOU_THRESHOLDS = tuple(round(0.5 + 0.05 * i, 2) for i in range(10))

# IoUs are ratios of whole pixel counts; this absorbs float rounding so that an IoU of
# exactly 0.7 passes a threshold of 0.7.
_IOU_TOLERANCE = 1e-9


@dataclass
class ClassMatches:
    """Matching results of one class over all images.

    Attributes:
        scores: (N,) float64 scores of the class's predictions, in descending order.
        true_positive: (N,) bool, whether each of those predictions matched a true box.
        num_truths: how many true boxes of the class there are in all images.
    """

    scores: np.ndarray
    true_positive: np.ndarray
    num_truths: int


def box_iou(boxes_a, boxes_b) -> np.ndarray:
    """Intersection over union of every box of ``boxes_a`` with every box of ``boxes_b``.

    Args:
        boxes_a: (N, 4) ``x0, y0, x1, y1`` with x1/y1 exclusive (ints or floats).
        boxes_b: (M, 4) likewise.

    Returns:
        (N, M) float64 array in [0, 1]; 0 where the union is empty (two empty boxes).
    """
    a = np.asarray(boxes_a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(boxes_b, dtype=np.float64).reshape(-1, 4)
    width = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
    height = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
    intersection = np.clip(width, 0, None) * np.clip(height, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - intersection
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(union > 0, intersection / np.where(union > 0, union, 1), 0.0)


def _check_threshold(iou_threshold) -> float:
    if (
        isinstance(iou_threshold, bool)
        or not isinstance(iou_threshold, (int, float))
        or not 0 < iou_threshold <= 1
    ):
        raise ValueError(
            f"Expected `iou_threshold` in (0, 1]. Received: iou_threshold={iou_threshold!r}"
        )
    return float(iou_threshold)


def _parse(entries, width: int, what: str, image: int) -> tuple[np.ndarray, np.ndarray]:
    """Classes (K,) int64 and values (K, width - 1) float64 of one image's boxes, checked."""
    if isinstance(entries, np.ndarray) and entries.ndim == 2 and entries.shape[1] == width:
        rows = entries  # already one row per box: no per-row checks in Python
    else:
        rows = list(entries)
        for row in rows:
            if isinstance(row, (str, bytes)) or not isinstance(row, (Sequence, np.ndarray)) or len(row) != width:
                raise ValueError(
                    f"Expected each of an image's {what} to be a tuple of {width} numbers "
                    f"(class_index, x0, y0, x1, y1{', score' if width == 6 else ''}). "
                    f"Received: {row!r} in image {image}"
                )
    if not len(rows):
        return np.zeros(0, np.int64), np.zeros((0, width - 1), np.float64)
    try:
        values = np.asarray(rows, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"Expected numbers in the {what} of image {image}. Received: {rows!r}") from None
    classes = values[:, 0]
    if not np.all(np.isfinite(values)) or np.any(classes != np.round(classes)) or np.any(classes < 0):
        raise ValueError(
            f"Expected finite numbers and whole class indices >= 0 in the {what} of image {image}. "
            f"Received: {rows!r}"
        )
    boxes = values[:, 1:5]
    if np.any(boxes[:, 2] < boxes[:, 0]) or np.any(boxes[:, 3] < boxes[:, 1]):
        raise ValueError(
            f"Expected boxes with x1 >= x0 and y1 >= y0 in the {what} of image {image}. Received: {rows!r}"
        )
    return classes.astype(np.int64), values[:, 1:]


def _check_lists(predictions, truths) -> None:
    for name, value in (("predictions", predictions), ("truths", truths)):
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise ValueError(
                f"Expected `{name}` to be a list with one list of boxes per image. "
                f"Received: {type(value).__name__}"
            )
    if len(predictions) != len(truths):
        raise ValueError(
            "Expected `predictions` and `truths` to have one entry per image each. "
            f"Received: {len(predictions)} and {len(truths)} images"
        )


def match_detections(predictions, truths, iou_threshold=0.5) -> dict[int, ClassMatches]:
    """Match predicted boxes to true boxes, image by image (see the module docstring).

    Args:
        predictions: one list per image of ``(class_index, x0, y0, x1, y1, score)`` (or an
            (N, 6) array per image).
        truths: one list per image of ``(class_index, x0, y0, x1, y1)`` (or an (M, 5) array);
            the same number of images.
        iou_threshold: the IoU a prediction needs with a true box of its class to count.

    Returns:
        ``{class_index: ClassMatches}`` for every class that has a prediction or a true box.
        Within a class, predictions are sorted by descending score; equal scores keep the
        image order, then their order within the image.

    Raises:
        ValueError: different numbers of images, malformed tuples, boxes with x1 < x0 or
            y1 < y0, scores that are not finite, a threshold outside (0, 1].
    """
    return _match_at(predictions, truths, (_check_threshold(iou_threshold),))[0]


def _greedy_hits(overlaps: np.ndarray, best_overlap: np.ndarray, limits: np.ndarray) -> np.ndarray:
    """The greedy matching of one image's predictions of one class, at every threshold at once.

    Args:
        overlaps: (K, T) IoU of each prediction (by descending score) with each true box.
        best_overlap: (K,) each prediction's best IoU (-1 without true boxes).
        limits: (L,) the IoU thresholds, less the rounding tolerance.

    Returns:
        (L, K) bool: which predictions are true positives at each threshold.
    """
    hit = np.zeros((len(limits), len(best_overlap)), bool)
    taken = np.zeros((len(limits), overlaps.shape[1]), bool)
    levels = np.arange(len(limits))
    # Only a prediction that overlaps some true box enough can take one: the others are false
    # positives whatever came before them (most of a detector's low-scored boxes).
    for k in np.flatnonzero(best_overlap >= limits.min()):
        candidates = np.where(taken, -1.0, overlaps[k])  # (L, T): the true boxes still free at each level
        best = np.argmax(candidates, axis=1)
        took = candidates[levels, best] >= limits
        taken[levels[took], best[took]] = True
        hit[took, k] = True
        if taken.all():  # every true box is matched at every level: the rest are false positives
            break
    return hit


def _match_at(predictions, truths, thresholds) -> list[dict[int, ClassMatches]]:
    """:func:`match_detections` at several IoU thresholds, parsing and measuring overlaps once."""
    _check_lists(predictions, truths)
    limits = np.asarray(thresholds, np.float64) - _IOU_TOLERANCE
    scores: dict[int, list[np.ndarray]] = {}
    hits: list[dict[int, list[np.ndarray]]] = [{} for _ in thresholds]
    counts: dict[int, int] = {}
    for image, (predicted, true) in enumerate(zip(predictions, truths)):
        p_classes, p_values = _parse(predicted, 6, "predictions", image)
        t_classes, t_values = _parse(true, 5, "truths", image)
        for cls in np.unique(t_classes):
            counts[int(cls)] = counts.get(int(cls), 0) + int(np.sum(t_classes == cls))
        for cls in np.unique(p_classes):
            cls = int(cls)
            mine = p_values[p_classes == cls]
            order = np.argsort(-mine[:, 4], kind="stable")
            mine = mine[order]
            true_boxes = t_values[t_classes == cls]
            overlaps = box_iou(mine[:, :4], true_boxes)
            best_overlap = overlaps.max(axis=1) if len(true_boxes) else np.full(len(mine), -1.0)
            scores.setdefault(cls, []).append(mine[:, 4])
            hit = _greedy_hits(overlaps, best_overlap, limits)
            for row, found in zip(hit, hits):
                found.setdefault(cls, []).append(row)
    results = []
    for found in hits:
        result = {}
        for cls in sorted(set(scores) | set(counts)):
            s = np.concatenate(scores.get(cls, [np.zeros(0)]))
            h = np.concatenate(found.get(cls, [np.zeros(0, bool)]))
            order = np.argsort(-s, kind="stable")
            result[cls] = ClassMatches(scores=s[order], true_positive=h[order], num_truths=counts.get(cls, 0))
        results.append(result)
    return results


def _curve(matches: ClassMatches) -> tuple[np.ndarray, np.ndarray]:
    """Recall and precision after each distinct score (ties form one point)."""
    if matches.num_truths == 0 or len(matches.scores) == 0:
        return np.zeros(0), np.zeros(0)
    tp = np.cumsum(matches.true_positive)
    seen = np.arange(1, len(tp) + 1)
    # The last prediction of each group of equal scores closes that group's point.
    last_of_score = np.append(matches.scores[1:] != matches.scores[:-1], True)
    tp, seen = tp[last_of_score], seen[last_of_score]
    return tp / matches.num_truths, tp / seen


def average_precision(recall, precision) -> float:
    """Area under a precision–recall curve with all-point interpolation (PASCAL VOC 2010+).

    Args:
        recall: (N,) non-decreasing recalls in [0, 1].
        precision: (N,) the precision at each of those recalls.

    Returns:
        AP in [0, 1]; 0.0 for an empty curve.
    """
    recall = np.asarray(recall, dtype=np.float64)
    precision = np.asarray(precision, dtype=np.float64)
    if recall.size == 0:
        return 0.0
    r = np.concatenate([[0.0], recall, [1.0]])
    p = np.concatenate([[0.0], precision, [0.0]])
    p = np.maximum.accumulate(p[::-1])[::-1]  # the best precision at this recall or beyond
    steps = np.flatnonzero(r[1:] != r[:-1])
    return float(np.sum((r[steps + 1] - r[steps]) * p[steps + 1]))


def precision_recall_curves(predictions, truths, iou_threshold=0.5) -> dict[int, tuple[np.ndarray, np.ndarray, float]]:
    """Per-class precision–recall curves and average precisions.

    Args:
        predictions: one list per image of ``(class_index, x0, y0, x1, y1, score)``.
        truths: one list per image of ``(class_index, x0, y0, x1, y1)``.
        iou_threshold: IoU needed for a match.

    Returns:
        ``{class_index: (recall, precision, ap)}`` for each class with at least one true box
        (the classes mAP averages over), sorted by class: float64 arrays with one point per
        distinct score, highest score first, and the class's AP. A class with true boxes but
        no predictions has empty arrays and AP 0.

    Raises:
        ValueError: as :func:`match_detections`.
    """
    return _curves(match_detections(predictions, truths, iou_threshold))


def _curves(matched: dict[int, ClassMatches]) -> dict[int, tuple[np.ndarray, np.ndarray, float]]:
    curves = {}
    for cls, matches in matched.items():
        if matches.num_truths == 0:
            continue
        recall, precision = _curve(matches)
        curves[cls] = (recall, precision, average_precision(recall, precision))
    return curves


def mean_average_precision(predictions, truths, iou_threshold=0.5) -> float:
    """Mean average precision at one IoU threshold (mAP@0.5 by default, as PASCAL VOC).

    Args:
        predictions: one list per image of ``(class_index, x0, y0, x1, y1, score)``, x1/y1
            exclusive.
        truths: one list per image of ``(class_index, x0, y0, x1, y1)``, the same images in
            the same order.
        iou_threshold: IoU a prediction needs with a true box of its class to count.

    Returns:
        The mean over classes with at least one true box of their AP, in [0, 1]; NaN when
        there is no true box at all (including no images).

    Raises:
        ValueError: as :func:`match_detections`.
    """
    curves = precision_recall_curves(predictions, truths, iou_threshold)
    if not curves:
        return math.nan
    return float(np.mean([ap for _, _, ap in curves.values()]))


def coco_map(predictions, truths) -> float:
    """COCO-style mAP: :func:`mean_average_precision` averaged over IoU 0.50, 0.55, ..., 0.95.

    It rewards boxes that fit tightly, not just boxes in the right place. Unlike the COCO
    toolkit, each AP uses all-point interpolation (not 101 recall points) and there are no
    area ranges or per-image detection limits.

    Returns:
        A float in [0, 1]; NaN when there is no true box at all.

    Raises:
        ValueError: as :func:`match_detections`.
    """
    values = mean_average_precisions(predictions, truths, COCO_IOU_THRESHOLDS)
    return float(np.mean(values)) if not any(math.isnan(v) for v in values) else math.nan


def mean_average_precisions(predictions, truths, iou_thresholds=COCO_IOU_THRESHOLDS) -> list[float]:
    """:func:`mean_average_precision` at each of several IoU thresholds, matching in one pass.

    The boxes are checked and their overlaps measured once for all thresholds, so
    ``mean_average_precisions(p, t)`` gives mAP@0.5 (its first value) and the ten values
    :func:`coco_map` averages for little more than the cost of one.

    Returns:
        One float per threshold (NaN when there is no true box).

    Raises:
        ValueError: as :func:`match_detections`.
    """
    thresholds = tuple(_check_threshold(t) for t in iou_thresholds)
    values = []
    for matched in _match_at(predictions, truths, thresholds):
        curves = _curves(matched)
        values.append(float(np.mean([ap for _, _, ap in curves.values()])) if curves else math.nan)
    return values
