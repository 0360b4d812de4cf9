"""From a class for every pixel to objects: instances, boxes, and boxes scored as a detector's.

A semantic mask says *what* is at each pixel, not *which* object: two touching cats are one
blob of "cat". Splitting a class's pixels into connected regions gives instances (one per
separate object), and the box around each instance turns a segmentation model into a
detector — the chapter's route from segmentation to instance segmentation and detection.

>>> from cv_core.segmentation import mask_to_instances, instances_to_boxes
>>> cats = mask_to_instances(predicted_mask, class_index=1, min_area=20)
>>> instances_to_boxes(cats)                                # [(x0, y0, x1, y1), ...]

Masks are 2-D integer arrays of class indices. Boxes follow the datasets' convention:
pixels, x1/y1 exclusive, so a one-pixel object's box is one pixel wide and tall and no box is
ever empty. Pure numpy plus scikit-image (loaded on first use): importing this
module imports neither TensorFlow nor scikit-image.
"""

from __future__ import annotations

import numpy as np

from cv_core.detection.metrics import match_detections, mean_average_precision
from cv_core.segmentation.metrics import _check_mask, _is_int

__all__ = [
    "DEFAULT_MIN_AREA",
    "box_class_map",
    "instances_to_boxes",
    "mask_to_boxes",
    "mask_to_instances",
    "mask_to_objects",
    "region_sizes",
    "score_boxes",
]

#: Connected regions smaller than this many pixels are specks, not objects. The built-in
#: shapes dataset gives a true box only to objects with at least 4 visible pixels.
DEFAULT_MIN_AREA = 4


def _check_min_area(min_area) -> int:
    if not _is_int(min_area) or min_area < 1:
        raise ValueError(f"Expected `min_area` to be an integer >= 1. Received: min_area={min_area!r}")
    return int(min_area)


def _check_connectivity(connectivity) -> int:
    if connectivity not in (1, 2) or isinstance(connectivity, bool):
        raise ValueError(
            "Expected `connectivity` to be 1 (edge neighbours) or 2 (edge and corner neighbours). "
            f"Received: connectivity={connectivity!r}"
        )
    return connectivity


def _regions(mask, class_index, min_area, connectivity):
    """``skimage.measure.label`` of one class's pixels and the regions with at least ``min_area`` pixels."""
    from skimage.measure import label, regionprops

    labels = label(mask == class_index, background=0, connectivity=connectivity)
    return labels, [region for region in regionprops(labels) if region.area >= min_area]


def _box(region) -> tuple[int, int, int, int]:
    """A region's ``bbox`` (min_row, min_col, max_row, max_col; max exclusive) as ``(x0, y0, x1, y1)``."""
    min_row, min_col, max_row, max_col = region.bbox
    return int(min_col), int(min_row), int(max_col), int(max_row)


def mask_to_instances(mask, class_index, min_area=DEFAULT_MIN_AREA, connectivity=2) -> list[np.ndarray]:
    """Split the pixels of one class into its separate objects (connected regions).

    Uses ``skimage.measure.label``. Touching objects of the same class stay one instance:
    a semantic mask cannot tell them apart.

    Args:
        mask: (H, W) integer class indices.
        class_index: the class whose objects to find.
        min_area: regions with fewer pixels are dropped as specks.
        connectivity: 2 (default, scikit-image's default in 2-D) joins pixels that touch
            by an edge or a corner; 1 by an edge only.

    Returns:
        One (H, W) bool mask per object, in the order of their first pixel in reading order
        (top row first, left to right).

    Raises:
        ValueError: a mask that is not 2-D integer, a bad ``min_area`` or ``connectivity``.
    """
    mask = _check_mask(mask)
    if not _is_int(class_index):
        raise ValueError(f"Expected `class_index` to be an integer. Received: class_index={class_index!r}")
    labels, regions = _regions(mask, class_index, _check_min_area(min_area), _check_connectivity(connectivity))
    return [labels == region.label for region in regions]


def instances_to_boxes(instances) -> list[tuple[int, int, int, int]]:
    """The tightest box around each instance mask (``skimage.measure.regionprops``' ``bbox``).

    Args:
        instances: a sequence of (H, W) bool masks, each with at least one pixel set.

    Returns:
        One ``(x0, y0, x1, y1)`` per instance, ints, x1/y1 exclusive (the datasets'
        convention): a one-pixel object at (x, y) has the box (x, y, x + 1, y + 1), so every
        box is at least one pixel wide and tall; none is empty.

    Raises:
        ValueError: an instance that is not a 2-D mask or has no pixel set.
    """
    from skimage.measure import regionprops

    boxes = []
    for number, instance in enumerate(instances):
        instance = np.asarray(instance)
        if instance.ndim != 2:
            raise ValueError(f"Expected 2-D instance masks. Received: shape {instance.shape} (instance {number})")
        regions = regionprops((instance != 0).astype(np.uint8))  # one label: the whole instance
        if not regions:
            raise ValueError(f"Expected every instance to have at least one pixel. Instance {number} is empty.")
        boxes.append(_box(regions[0]))
    return boxes


def region_sizes(mask, background=0, connectivity=2) -> dict[int, tuple[int, int]]:
    """How many pixels each object class has in a mask, and how big its largest connected region is.

    Says why a mask with pixels of a class gives no object of that class: every region of it
    is smaller than the smallest object size (``min_area``).

    Args:
        mask: (H, W) integer class indices.
        background: the class that is not an object (left out).
        connectivity: as :func:`mask_to_instances`.

    Returns:
        ``{class_index: (pixels, largest region's pixels)}`` for each non-background class in
        the mask, by class.

    Raises:
        ValueError: a mask that is not 2-D integer or a bad ``connectivity``.
    """
    mask = _check_mask(mask)
    connectivity = _check_connectivity(connectivity)
    from skimage.measure import label

    sizes = {}
    for cls in np.unique(mask):
        if cls == background:
            continue
        areas = np.bincount(label(mask == cls, background=0, connectivity=connectivity).ravel())[1:]
        sizes[int(cls)] = (int(areas.sum()), int(areas.max()))
    return sizes


def mask_to_objects(mask, probabilities=None, background=0, min_area=DEFAULT_MIN_AREA, connectivity=2) -> list[dict]:
    """Every object in a mask: each non-background class split into instances, with boxes.

    Args:
        mask: (H, W) integer class indices (e.g. the arg-max of a model's prediction).
        probabilities: optional (H, W, C) per-pixel class probabilities the mask came from.
        background: the class that is not an object.
        min_area: instances with fewer pixels are dropped.
        connectivity: as :func:`mask_to_instances`.

    Returns:
        A list of dicts, by class then reading order, each with ``class_index`` (the mask
        value), ``area`` (pixels), ``box`` (``(x0, y0, x1, y1)``, x1/y1 exclusive),
        ``confidence`` (the mean probability of its class over its pixels, or None without
        ``probabilities``) and ``mask`` ((H, W) bool).

    Raises:
        ValueError: as :func:`mask_to_instances`, or probabilities whose shape does not match.
    """
    mask = _check_mask(mask)
    min_area, connectivity = _check_min_area(min_area), _check_connectivity(connectivity)
    probs = None
    if probabilities is not None:
        probs = np.asarray(probabilities)
        if probs.ndim != 3 or probs.shape[:2] != mask.shape or (mask.size and mask.max() >= probs.shape[2]):
            raise ValueError(
                "Expected `probabilities` of shape (H, W, C) matching the mask, with a channel for "
                f"every class in it. Received: {probs.shape} for a mask of shape {mask.shape}"
            )
    objects = []
    for cls in np.unique(mask):
        if cls == background:
            continue
        labels, regions = _regions(mask, int(cls), min_area, connectivity)
        for region in regions:
            instance = labels == region.label
            objects.append({
                "class_index": int(cls),
                "area": int(region.area),
                "box": _box(region),
                "confidence": None if probs is None else float(probs[..., int(cls)][instance].mean()),
                "mask": instance,
            })
    return objects


def box_class_map(mask_class_names, class_names) -> dict[int, int]:
    """Which box class each mask value stands for, matched by name.

    A dataset's boxes index its ``class_names``; its masks index ``mask_class_names``. On
    ``shapes`` mask value 1 is "circle", box class 0 ("circle"); on a user mask dataset both
    lists are the same. Mask values whose name is not a box class (background, the pets'
    boundary) map to nothing.

    Returns:
        ``{mask value: box class index}``.
    """
    index = {name: i for i, name in enumerate(class_names)}
    return {value: index[name] for value, name in enumerate(mask_class_names) if name in index}


def mask_to_boxes(mask, probabilities=None, class_map=None, background=0, min_area=DEFAULT_MIN_AREA,
                  connectivity=2) -> list[tuple[int, int, int, int, int, float]]:
    """A predicted mask's objects as detections, ready for :func:`score_boxes` or mAP.

    Args:
        mask, probabilities, background, min_area, connectivity: as :func:`mask_to_objects`.
        class_map: ``{mask value: box class}`` (see :func:`box_class_map`); objects of mask
            values not in it are left out. None keeps mask values as box classes.

    Returns:
        ``(class_index, x0, y0, x1, y1, score)`` per object; the score is the object's mean
        confidence, or 1.0 without ``probabilities``.
    """
    detections = []
    for obj in mask_to_objects(mask, probabilities, background, min_area, connectivity):
        cls = obj["class_index"] if class_map is None else class_map.get(obj["class_index"])
        if cls is None:
            continue
        score = 1.0 if obj["confidence"] is None else obj["confidence"]
        detections.append((int(cls), *obj["box"], score))
    return detections


def score_boxes(predicted_boxes, true_boxes, iou_threshold=0.5, class_agnostic=False) -> dict:
    """Precision, recall and average precision of predicted boxes against true boxes.

    Boxes are matched as in :func:`cv_core.detection.mean_average_precision` (greedily by
    score within each image, each true box at most once, IoU >= ``iou_threshold``).

    Args:
        predicted_boxes: one list per image of ``(class_index, x0, y0, x1, y1, score)``,
            e.g. ``[mask_to_boxes(m, p, class_map) for m, p in ...]``.
        true_boxes: one list per image of ``(class_index, x0, y0, x1, y1)`` (``Sample.boxes``).
        iou_threshold: IoU needed for a match.
        class_agnostic: ignore classes (every box is class 0): "is there an object here?".

    Returns:
        ``{"precision", "recall", "ap", "true_positives", "false_positives",
        "false_negatives", "num_predictions", "num_truths"}``. Precision and recall count
        every prediction (no score threshold): TP / predictions and TP / true boxes, NaN when
        the denominator is 0; a prediction of a class with no true box in its image is a
        false positive. ``ap`` is the mAP over classes with true boxes (NaN if none).

    Raises:
        ValueError: as :func:`cv_core.detection.match_detections`.
    """
    if class_agnostic:
        predicted_boxes = [[(0, *tuple(b)[1:]) for b in image] for image in predicted_boxes]
        true_boxes = [[(0, *tuple(b)[1:]) for b in image] for image in true_boxes]
    matches = match_detections(predicted_boxes, true_boxes, iou_threshold)
    tp = sum(int(m.true_positive.sum()) for m in matches.values())
    n_pred = sum(len(m.scores) for m in matches.values())
    n_true = sum(m.num_truths for m in matches.values())
    return {
        "precision": tp / n_pred if n_pred else float("nan"),
        "recall": tp / n_true if n_true else float("nan"),
        "ap": mean_average_precision(predicted_boxes, true_boxes, iou_threshold),
        "true_positives": tp,
        "false_positives": n_pred - tp,
        "false_negatives": n_true - tp,
        "num_predictions": n_pred,
        "num_truths": n_true,
    }
