"""Looking at boxes one picture at a time, and two ways of finding them side by side.

A page that lets a person move a score threshold over a detector's boxes needs three small
things the scoring functions do not give directly:

- :func:`box_outcomes`: which predicted boxes of one picture hit a true box and which true
  boxes were missed (the same greedy matching as :func:`cv_core.detection.match_detections`:
  by descending score, each true box at most once, same class, IoU at least the threshold);
- :func:`candidates_from_boxes`: boxes found some other way — around the objects of a
  segmentation model's mask (:func:`cv_core.segmentation.mask_to_boxes`) — as
  :class:`~cv_core.detection.RawDetections`, so the same threshold and NMS apply to them;
- :func:`box_scores`: mAP@0.5, mAP@0.5:0.95 and per-class precision–recall curves of one
  approach's boxes on a set of pictures, to set a detector beside boxes from segmentation;
  :func:`curve_gaps` says why a class has no curve to see;
- :func:`drop_tiny_boxes`: candidates smaller than a pixel left out (an undertrained
  detector predicts sizes near zero: such a box covers no pixel and would read (27, 18, 27, 18)).

Pure numpy (plus Keras' box conversion in :func:`rescale_boxes`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from cv_core.detection.decode import RawDetections
from cv_core.detection.metrics import box_iou, coco_map, mean_average_precision, precision_recall_curves

__all__ = ["MIN_BOX_SIDE", "BoxScores", "box_outcomes", "box_scores", "candidates_from_boxes", "curve_gaps",
           "drop_tiny_boxes", "rescale_boxes"]

_IOU_TOLERANCE = 1e-9
#: Candidates narrower or shorter than this (input pixels) are no box: :func:`drop_tiny_boxes`.
MIN_BOX_SIDE = 1.0


def box_outcomes(predictions, truths, iou_threshold: float = 0.5) -> tuple[list[bool], list[bool]]:
    """Hits, false positives and misses in one picture.

    Args:
        predictions: ``(class_index, x0, y0, x1, y1, score)`` boxes of the picture.
        truths: ``(class_index, x0, y0, x1, y1)`` true boxes of the picture (same pixels).
        iou_threshold: IoU a predicted box needs with a true box of its class.

    Returns:
        ``(hit, found)``: per predicted box (in the given order) whether it matched a true box
        (else it is a false positive), and per true box whether a predicted box matched it
        (else it was missed). Boxes are taken by descending score; each true box matches once.
    """
    predicted = np.asarray(predictions, np.float64).reshape(-1, 6)
    true = np.asarray(truths, np.float64).reshape(-1, 5)
    hit, found = [False] * len(predicted), [False] * len(true)
    if not len(predicted) or not len(true):
        return hit, found
    overlaps = box_iou(predicted[:, 1:5], true[:, 1:])
    for index in np.argsort(-predicted[:, 5], kind="stable"):
        same = (true[:, 0] == predicted[index, 0]) & ~np.asarray(found)
        candidates = np.where(same, overlaps[index], -1.0)
        best = int(np.argmax(candidates))
        if candidates[best] >= iou_threshold - _IOU_TOLERANCE:
            hit[index], found[best] = True, True
    return hit, found


def candidates_from_boxes(boxes, image_size: tuple[int, int], num_classes: int) -> RawDetections:
    """One picture's scored boxes as candidates for :func:`cv_core.detection.filter_detections`.

    Args:
        boxes: ``(class_index, x0, y0, x1, y1, score)`` tuples, e.g. from
            :func:`cv_core.segmentation.mask_to_boxes`.
        image_size: ``(height, width)`` of the picture they are in.
        num_classes: box classes.

    Returns:
        :class:`~cv_core.detection.RawDetections` for a batch of one, best score first.
    """
    rows = np.asarray(boxes, np.float32).reshape(-1, 6)
    rows = rows[np.argsort(-rows[:, 5], kind="stable")]
    return RawDetections(boxes=rows[None, :, 1:5].copy(), scores=rows[None, :, 5].copy(),
                         classes=rows[None, :, 0].astype(np.int32), image_size=tuple(image_size),
                         num_classes=int(num_classes))


def drop_tiny_boxes(raw: RawDetections, min_side: float = MIN_BOX_SIDE) -> tuple[RawDetections, np.ndarray]:
    """Candidates less than ``min_side`` pixels wide or tall marked as no box (class -1).

    The decoder already marks boxes without area so; an undertrained detector also predicts
    sizes of a fraction of a pixel, boxes that cover no whole pixel and that a table rounds
    to zero size. :func:`cv_core.detection.filter_detections` skips them like the padding.

    Args:
        raw: candidates (:func:`cv_core.detection.predict_raw` or :func:`candidates_from_boxes`).
        min_side: the smallest width and height a box keeps, in input pixels.

    Returns:
        ``(candidates, dropped)``: the same candidates (scores unchanged) with the tiny ones'
        class set to -1, and a (B, K) bool array of the real candidates this dropped (so
        ``(dropped & (candidates.scores > threshold)).sum()`` counts those above a threshold).
    """
    sides = raw.boxes[..., 2:4] - raw.boxes[..., 0:2]
    tiny = (sides < min_side).any(axis=-1) & (raw.classes >= 0)
    classes = np.where(tiny, -1, raw.classes).astype(raw.classes.dtype)
    return replace(raw, classes=classes), tiny


def curve_gaps(curves, num_classes: int) -> dict[str, list[int]]:
    """Why classes have no precision–recall curve to see.

    Args:
        curves: ``{class_index: (recall, precision, ap)}`` (:func:`cv_core.detection.precision_recall_curves`,
            or :attr:`BoxScores.curves`).
        num_classes: box classes.

    Returns:
        ``{"no_truth": classes with no true box in the pictures (no curve at all),
        "no_box": classes with true boxes but no predicted box (an empty curve),
        "no_hit": classes whose predicted boxes never land on a true box (a curve at zero)}``.
    """
    gaps = {"no_truth": [], "no_box": [], "no_hit": []}
    for cls in range(int(num_classes)):
        if cls not in curves:
            gaps["no_truth"].append(cls)
            continue
        recall = np.asarray(curves[cls][0], float)
        if recall.size == 0:
            gaps["no_box"].append(cls)
        elif recall.max() <= 0:
            gaps["no_hit"].append(cls)
    return gaps


def rescale_boxes(boxes, source_size: tuple[int, int], target_size: tuple[int, int]) -> list[tuple]:
    """``(class_index, x0, y0, x1, y1[, score])`` boxes of a picture of ``source_size`` moved to the
    same picture resized to ``target_size`` (through relative corners with
    ``keras.utils.bounding_boxes.convert_format``, as the detector's data pipeline does)."""
    rows = np.asarray(boxes, np.float32)
    if rows.size == 0 or tuple(source_size) == tuple(target_size):
        return [(int(r[0]), *(float(v) for v in r[1:])) for r in rows]
    from cv_core._tf import keras as _keras

    convert = _keras().utils.bounding_boxes.convert_format
    relative = convert(rows[:, 1:5], source="xyxy", target="rel_xyxy", height=source_size[0], width=source_size[1])
    moved = np.asarray(convert(relative, source="rel_xyxy", target="xyxy", height=target_size[0],
                               width=target_size[1]))
    return [(int(r[0]), *(float(v) for v in m), *(float(v) for v in r[5:])) for r, m in zip(rows, moved)]


@dataclass
class BoxScores:
    """One approach's boxes scored on a set of pictures.

    Attributes:
        map50: mAP at IoU 0.5 (NaN without any true box).
        map50_95: COCO-style mAP over IoU 0.50:0.95.
        curves: ``{class_index: (recall, precision, ap)}`` at IoU 0.5 for each class with a true box.
        images: pictures scored.
        boxes: predicted boxes in all.
    """

    map50: float
    map50_95: float
    curves: dict = field(repr=False)
    images: int
    boxes: int

    def ap50(self, class_index: int) -> float:
        """AP@0.5 of one class (NaN when it has no true box)."""
        curve = self.curves.get(class_index)
        return math.nan if curve is None else float(curve[2])


def box_scores(predictions, truths) -> BoxScores:
    """mAP@0.5, mAP@0.5:0.95 and the per-class precision–recall curves of some boxes.

    Args:
        predictions: one list per picture of ``(class_index, x0, y0, x1, y1, score)``.
        truths: one list per picture of ``(class_index, x0, y0, x1, y1)``, in the same pixels.
    """
    return BoxScores(
        map50=mean_average_precision(predictions, truths, 0.5),
        map50_95=coco_map(predictions, truths),
        curves=precision_recall_curves(predictions, truths, 0.5),
        images=len(truths),
        boxes=sum(len(p) for p in predictions),
    )
