"""How well one mask matches another: per-class IoU and Dice, from a confusion matrix of pixels.

>>> from cv_core.segmentation import iou, dice
>>> iou(true_mask, predicted_mask, num_classes=3)          # per-class IoU, NaN if absent

Masks are 2-D integer arrays of class indices. Pure numpy: importing this module imports
neither TensorFlow nor scikit-image.
"""

from __future__ import annotations

import numpy as np

__all__ = ["class_confusion", "dice", "dice_from_confusion", "iou", "iou_from_confusion"]


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _check_mask(mask, what: str = "mask", ndim: int | None = 2) -> np.ndarray:
    mask = np.asarray(mask)
    if not np.issubdtype(mask.dtype, np.integer):
        raise ValueError(
            f"Expected `{what}` to hold integer class indices. Received: dtype {mask.dtype}"
        )
    if ndim is not None and mask.ndim != ndim:
        raise ValueError(f"Expected `{what}` to be a 2-D (H, W) array. Received: shape {mask.shape}")
    return mask


def _check_num_classes(num_classes) -> int:
    if not _is_int(num_classes) or num_classes < 1:
        raise ValueError(f"Expected `num_classes` to be an integer >= 1. Received: num_classes={num_classes!r}")
    return int(num_classes)



def class_confusion(mask_a, mask_b, num_classes) -> np.ndarray:
    """Pixel counts of every (class in ``mask_a``, class in ``mask_b``) pair.

    Sum these over many images, then call :func:`iou_from_confusion` for a dataset's IoU
    (pixels pooled over the images, as ``keras.metrics.MeanIoU`` does).

    Args:
        mask_a: integer class indices in [0, num_classes), any shape (usually the truth).
        mask_b: the same shape (usually the prediction).
        num_classes: number of classes.

    Returns:
        (num_classes, num_classes) int64; entry [i, j] counts pixels of class i in ``mask_a``
        and class j in ``mask_b``.

    Raises:
        ValueError: different shapes, non-integer masks, values outside [0, num_classes).
    """
    k = _check_num_classes(num_classes)
    a = _check_mask(mask_a, "mask_a", ndim=None)
    b = _check_mask(mask_b, "mask_b", ndim=None)
    if a.shape != b.shape:
        raise ValueError(f"Expected masks of the same shape. Received: {a.shape} and {b.shape}")
    for name, m in (("mask_a", a), ("mask_b", b)):
        if m.size and (m.min() < 0 or m.max() >= k):
            raise ValueError(
                f"Expected `{name}` values in [0, {k}) for num_classes={k}. "
                f"Received: values from {m.min()} to {m.max()}"
            )
    flat = a.astype(np.int64).ravel() * k + b.astype(np.int64).ravel()
    return np.bincount(flat, minlength=k * k).reshape(k, k)


def iou_from_confusion(confusion) -> np.ndarray:
    """Per-class IoU = |A ∩ B| / |A ∪ B| from a :func:`class_confusion` matrix; NaN where the union is empty."""
    c = np.asarray(confusion, dtype=np.float64)
    intersection = np.diag(c)
    union = c.sum(axis=1) + c.sum(axis=0) - intersection
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(union > 0, intersection / union, np.nan)


def dice_from_confusion(confusion) -> np.ndarray:
    """Per-class Dice = 2 |A ∩ B| / (|A| + |B|) from a :func:`class_confusion` matrix; NaN where both are empty."""
    c = np.asarray(confusion, dtype=np.float64)
    total = c.sum(axis=1) + c.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, 2 * np.diag(c) / total, np.nan)


def iou(mask_a, mask_b, num_classes) -> np.ndarray:
    """Per-class intersection over union of two masks.

    Args:
        mask_a: integer class indices in [0, num_classes), e.g. the true mask (H, W).
        mask_b: the same shape, e.g. the predicted mask.
        num_classes: number of classes.

    Returns:
        (num_classes,) float64 in [0, 1]; NaN for a class absent from both masks (so
        ``numpy.nanmean`` gives the mean IoU over the classes that occur).

    Raises:
        ValueError: different shapes, non-integer masks, values outside [0, num_classes).
    """
    return iou_from_confusion(class_confusion(mask_a, mask_b, num_classes))


def dice(mask_a, mask_b, num_classes) -> np.ndarray:
    """Per-class Dice coefficient (F1 of the pixels) of two masks; ``2 IoU / (1 + IoU)``.

    Args, Raises: as :func:`iou`.

    Returns:
        (num_classes,) float64 in [0, 1]; NaN for a class absent from both masks.
    """
    return dice_from_confusion(class_confusion(mask_a, mask_b, num_classes))
