"""A segmentation model's scores over a split: per-class IoU and Dice, and its masks' boxes.

:func:`evaluate_segmenter` scores a whole split class by class (IoU and Dice, pixels pooled
over the images, as ``keras.metrics.MeanIoU`` does); :func:`score_predicted_boxes` turns each
predicted mask into objects and boxes (:mod:`cv_core.segmentation.objects`) and scores them
against the dataset's true boxes, as a detector would be scored. TensorFlow is imported when
a function needs it, not with this module.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from cv_core.datasets.base import Dataset, resize_image, resize_mask
from cv_core.segmentation.metrics import class_confusion, dice_from_confusion, iou_from_confusion
from cv_core.segmentation.objects import DEFAULT_MIN_AREA, mask_to_boxes, score_boxes
from cv_core.segmentation.predict import MaskPrediction, model_input_size, predict_probabilities, resize_probabilities

__all__ = ["box_predictions", "evaluate_segmenter", "score_predicted_boxes"]

def _listed(values: np.ndarray) -> list:
    """Floats for JSON, None where a value is NaN (a class absent from truth and prediction)."""
    return [None if np.isnan(v) else float(v) for v in values]


def _split_batches(dataset: Dataset, split: str, batch_size: int, limit: int | None):
    """(samples, done, total) of a split in batches; unreadable samples are skipped."""
    count = dataset.count(split) if limit is None else min(limit, dataset.count(split))
    for start in range(0, count, batch_size):
        samples = dataset.samples(split, count=min(batch_size, count - start), start=start)
        yield samples, start + min(batch_size, count - start), count


def evaluate_segmenter(model, dataset: Dataset, split: str, image_size: tuple[int, int] | None = None,
                       batch_size: int = 32, limit: int | None = None,
                       progress: Callable[[int, int], None] | None = None) -> dict:
    """Per-class IoU and Dice of a segmentation model over one split.

    Args:
        model: a segmentation model whose output has one channel per mask class.
        dataset: a dataset with masks.
        split: "train", "validation" or "test".
        image_size: (height, width) to score at; the model's input size if None.
        batch_size: images per forward pass.
        limit: score only the first ``limit`` images.
        progress: called with (images done, images in all) after every batch.

    Returns:
        ``{"split", "images", "class_names", "iou", "dice", "mean_iou", "mean_dice",
        "pixel_accuracy"}``: ``iou`` and ``dice`` one value per mask class (None for a class
        absent from both the truth and the prediction), the means over the other classes.
    """
    size = tuple(image_size or model_input_size(model))
    names = list(dataset.mask_class_names or [])
    confusion = np.zeros((len(names), len(names)), np.int64)
    images = 0
    for samples, done, total in _split_batches(dataset, split, batch_size, limit):
        if samples:
            pictures = np.stack([resize_image(s.image, size) for s in samples])
            truths = np.stack([resize_mask(s.mask, size) for s in samples])
            predicted = predict_probabilities(model, pictures, batch_size).argmax(axis=-1)
            confusion += class_confusion(truths, predicted, len(names))
            images += len(samples)
        if progress is not None:
            progress(done, total)
    iou, dice = iou_from_confusion(confusion), dice_from_confusion(confusion)
    pixels = confusion.sum()
    return {
        "split": split,
        "images": images,
        "class_names": names,
        "iou": _listed(iou),
        "dice": _listed(dice),
        "mean_iou": float(np.nanmean(iou)) if np.isfinite(iou).any() else None,
        "mean_dice": float(np.nanmean(dice)) if np.isfinite(dice).any() else None,
        "pixel_accuracy": float(np.trace(confusion) / pixels) if pixels else None,
    }


def box_predictions(model, dataset: Dataset, split: str = "validation", start: int = 0, count: int | None = None,
                    class_map: dict | None = None, min_area: int = DEFAULT_MIN_AREA,
                    batch_size: int = 32) -> tuple[list, list]:
    """The boxes around the objects of each predicted mask, with the true boxes, for some pictures.

    Every picture is predicted at the model's input size and its probabilities resized to
    the picture's own size (where the true boxes are); each connected region of a
    non-background class becomes a box scored by its mean confidence
    (:func:`cv_core.segmentation.mask_to_boxes`).

    Args:
        model: a segmentation model.
        dataset: a dataset with masks and boxes.
        split: the split to read.
        start, count: the pictures ``start`` to ``start + count - 1`` (to the end if None).
        class_map: ``{mask value: box class}`` (:func:`cv_core.segmentation.box_class_map`).
        min_area: regions with fewer pixels are specks, not objects.
        batch_size: pictures per forward pass.

    Returns:
        ``(predictions, truths)``: per readable picture, a list of ``(class, x0, y0, x1, y1,
        score)`` and a list of ``(class, x0, y0, x1, y1)``.
    """
    size = model_input_size(model)
    total = dataset.count(split)
    stop = total if count is None else min(total, start + count)
    predictions, truths = [], []
    for first in range(start, stop, batch_size):
        samples = dataset.samples(split, count=min(batch_size, stop - first), start=first)
        if not samples:
            continue
        pictures = np.stack([resize_image(s.image, size) for s in samples])
        for sample, probabilities in zip(samples, predict_probabilities(model, pictures, batch_size)):
            reading = MaskPrediction(resize_probabilities(probabilities, sample.image.shape[:2]))
            predictions.append(mask_to_boxes(reading.mask, reading.probabilities, class_map,
                                             background=dataset.mask_background, min_area=min_area))
            truths.append(list(sample.boxes))
    return predictions, truths


def score_predicted_boxes(model, dataset: Dataset, split: str = "validation", class_map: dict | None = None,
                          min_area: int = DEFAULT_MIN_AREA, iou_threshold: float = 0.5, batch_size: int = 32,
                          limit: int | None = None, progress: Callable[[int, int], None] | None = None) -> dict:
    """Boxes around the objects of each predicted mask, scored against the dataset's true boxes.

    A segmentation model as a detector: :func:`box_predictions` over the split, then
    :func:`cv_core.segmentation.score_boxes` (precision, recall and average precision at
    IoU >= ``iou_threshold``).

    Args:
        model, dataset, split, class_map, min_area, batch_size: as :func:`box_predictions`.
        iou_threshold: the IoU a box needs to match a true box.
        limit: score only the first ``limit`` pictures.
        progress: called with (pictures done, pictures in all) after every batch.

    Returns:
        :func:`cv_core.segmentation.score_boxes`' dict (precision, recall, ap, counts) plus
        ``images``.
    """
    total = dataset.count(split) if limit is None else min(limit, dataset.count(split))
    predictions, truths = [], []
    for start in range(0, total, batch_size):
        found, true = box_predictions(model, dataset, split, start, min(batch_size, total - start), class_map,
                                      min_area, batch_size)
        predictions += found
        truths += true
        if progress is not None:
            progress(min(total, start + batch_size), total)
    scores = score_boxes(predictions, truths, iou_threshold)
    scores["images"] = len(truths)
    return scores
