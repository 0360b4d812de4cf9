"""Scoring found objects against true ones: mask AP and touching same-class pairs separated (pure numpy).

A way of finding objects (the instance model, or connected components of a semantic mask) is scored
by COCO mask AP (:func:`cv_core.instances.mask_average_precision`) and by **touching pairs
separated**: of the pairs of true objects of one class that touch or overlap
(:func:`cv_core.instances.data.touching_pairs`), those for which each object of the pair has its
own prediction of its class with mask IoU >= 0.5 (two different predictions). Connected
components can never separate a pair whose visible pixels touch.
"""

from __future__ import annotations

import numpy as np

from cv_core.datasets.base import resize_image, resize_mask
from cv_core.instances.data import touching_pairs
from cv_core.instances.metrics import mask_average_precision, mask_iou_matrix

__all__ = ["instance_samples", "score_instances", "separated_pairs", "truth_objects"]


def truth_objects(class_mask: np.ndarray, instances: np.ndarray, background: int = 0) -> list[dict]:
    """The true objects of an instance map, each with its class mask's class (the most frequent on its pixels).

    Returns:
        ``{"mask": (H, W) bool, "class": int}`` per id with pixels on an object, in id order.
    """
    class_mask, instances = np.asarray(class_mask), np.asarray(instances)
    out = []
    for i in np.unique(instances[instances > 0]):
        mask = (instances == i) & (class_mask != background)
        if mask.any():
            out.append({"mask": mask, "class": int(np.bincount(class_mask[mask].astype(np.int64)).argmax())})
    return out


def instance_samples(dataset, split: str, size: tuple[int, int], limit: int | None = None,
                     ) -> tuple[np.ndarray, list[list[dict]]]:
    """The first ``limit`` readable pictures of a split at ``size``, with their true objects.

    Returns:
        ``(images (N, H, W, 3) uint8, truths)``, ``truths[i]`` as :func:`truth_objects` gives them.
    """
    count = dataset.count(split) if limit is None else min(limit, dataset.count(split))
    images, truths = [], []
    for sample in dataset.samples(split, count=count):
        mask = resize_mask(sample.mask, size)
        images.append(resize_image(sample.image, size))
        instances = resize_mask(sample.instances, size) if sample.instances is not None else np.zeros(size, np.uint16)
        truths.append(truth_objects(mask, instances, dataset.mask_background))
    return (np.stack(images) if images else np.zeros((0, *size, 3), np.uint8)), truths


def separated_pairs(predictions: list[list[dict]], truths: list[list[dict]], min_iou: float = 0.5) -> tuple[int, int]:
    """``(separated, pairs)``: touching same-class true pairs, and those each found by its own prediction.

    A pair is separated when two *different* predictions of the pair's class overlap one object
    each with mask IoU >= ``min_iou``.
    """
    separated = total = 0
    for preds, gts in zip(predictions, truths):
        pairs = touching_pairs(gts)
        total += len(pairs)
        if not pairs or not preds:
            continue
        ious = mask_iou_matrix([p["mask"] for p in preds], [g["mask"] for g in gts])
        same = np.array([[int(p["class"]) == int(g["class"]) for g in gts] for p in preds])
        good = (ious >= min_iou) & same
        for i, j in pairs:
            a, b = np.nonzero(good[:, i])[0], np.nonzero(good[:, j])[0]
            if any(x != y for x in a for y in b):
                separated += 1
    return separated, total


def score_instances(predictions: list[list[dict]], truths: list[list[dict]]) -> dict:
    """Mask AP (AP, AP50, AP75, per class) and touching pairs separated of one way of finding objects."""
    ap = mask_average_precision(predictions, truths)
    separated, pairs = separated_pairs(predictions, truths)
    return {"mask_ap": ap["AP"], "mask_ap50": ap["AP50"], "mask_ap75": ap["AP75"],
            "per_class": {int(c): v for c, v in ap["per_class"].items()},
            "pairs_separated": separated, "touching_pairs": pairs}
