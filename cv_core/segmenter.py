"""A segmentation model at work: its training data, its predictions, and its scores over a split.

Training feeds it batches of images and their masks, where random flips and crops move
each image and its mask together (a crop that moved only the picture would teach the model
wrong pixels). After training, :func:`predict_mask` turns a picture of any size into a class
for every pixel, with the probabilities behind it; :func:`evaluate_segmenter` scores a whole
split class by class (IoU and Dice, pixels pooled over the images, as
``keras.metrics.MeanIoU`` does); :func:`score_predicted_boxes` turns each predicted mask
into objects and boxes (:mod:`cv_core.segmentation`) and scores them against the dataset's
true boxes, as a detector would be scored.

>>> from cv_core.segmenter import predict_mask
>>> prediction = predict_mask(model, picture)          # any (H, W, 3) uint8 picture
>>> prediction.mask, prediction.confidence              # (H, W) class indices and their probability

TensorFlow is imported when a function needs it, not with this module.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from cv_core.datasets.base import Dataset, resize_image, resize_mask
from cv_core.segmentation import (
    DEFAULT_MIN_AREA,
    class_confusion,
    dice_from_confusion,
    iou_from_confusion,
    mask_to_boxes,
    score_boxes,
)

__all__ = [
    "MIN_CROP_SCALE",
    "MaskPrediction",
    "augment_pairs",
    "box_predictions",
    "evaluate_segmenter",
    "model_input_size",
    "predict_mask",
    "predict_probabilities",
    "score_predicted_boxes",
    "segmentation_dataset",
]

#: The smallest random crop, as a fraction of the image's side.
MIN_CROP_SCALE = 0.7


# --------------------------------------------------------------------------------------
# Training data: images and masks, flipped and cropped together
# --------------------------------------------------------------------------------------


def augment_pairs(tf, images, masks, seed, min_scale: float = MIN_CROP_SCALE):
    """Flip and crop a batch of images and their masks together, with one random draw per image.

    Each image gets a square crop of a random side between ``min_scale`` and 1 of its own at a
    random place, mirrored left to right half of the time, resized back to the full size:
    the image with bilinear interpolation, its mask with the nearest pixel (a mask value is
    a class, not a quantity to blend). ``tf.image.crop_and_resize`` does both in one op; a
    box whose x1 < x0 samples the crop mirrored.

    Args:
        tf: the TensorFlow module.
        images: float32 (B, H, W, 3).
        masks: int32 (B, H, W).
        seed: an int64 tensor of shape (2,) for the stateless random ops.
        min_scale: the smallest crop side, as a fraction of the image's.

    Returns:
        ``(images, masks)`` of the same shapes and dtypes.
    """
    batch = tf.shape(images)[0]
    height, width = images.shape[1], images.shape[2]
    draws = tf.random.stateless_uniform((batch, 4), seed=seed)
    scale = min_scale + (1.0 - min_scale) * draws[:, 0]
    y0 = (1.0 - scale) * draws[:, 1]
    x0 = (1.0 - scale) * draws[:, 2]
    y1, x1 = y0 + scale, x0 + scale
    flip = draws[:, 3] < 0.5
    boxes = tf.stack([y0, tf.where(flip, x1, x0), y1, tf.where(flip, x0, x1)], axis=1)
    indices = tf.range(batch)
    images = tf.image.crop_and_resize(images, boxes, indices, (height, width), method="bilinear")
    masks = tf.image.crop_and_resize(tf.cast(masks[..., None], tf.float32), boxes, indices, (height, width),
                                     method="nearest")
    return images, tf.cast(tf.round(masks[..., 0]), tf.int32)


def segmentation_dataset(dataset: Dataset, split: str, image_size: tuple[int, int], batch_size: int = 32,
                         shuffle: bool = False, seed: int = 0, augment: bool = False, cache: bool = True,
                         min_scale: float = MIN_CROP_SCALE):
    """Batches of ``(images, masks)`` of one split, optionally flipped and cropped together.

    Args:
        dataset: a dataset with masks.
        split: "train", "validation" or "test".
        image_size: (height, width) every image and mask is resized to.
        batch_size, shuffle, seed, cache: as :meth:`cv_core.datasets.Dataset.tf_dataset`.
        augment: random flips and crops that move each image and its mask together
            (:func:`augment_pairs`), drawn afresh every epoch from ``seed``.
        min_scale: the smallest crop side, as a fraction of the image's.

    Returns:
        ``tf.data.Dataset`` of float32 images (B, H, W, 3) in [0, 255] and int32 masks (B, H, W).

    Raises:
        DatasetError: a dataset without masks, an empty split, bad sizes.
    """
    ds = dataset.tf_dataset(split, task="segmentation", image_size=image_size, batch_size=batch_size,
                            shuffle=shuffle, seed=seed, cache=cache)
    if not augment:
        return ds
    from cv_core._tf import tensorflow

    tf = tensorflow()
    draws = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)

    def jitter(pair, draw):
        images, masks = pair
        return augment_pairs(tf, images, masks, tf.stack([tf.constant(seed, tf.int64), draw]), min_scale)

    return tf.data.Dataset.zip((ds, draws)).map(jitter, num_parallel_calls=tf.data.AUTOTUNE,
                                                deterministic=True).prefetch(tf.data.AUTOTUNE)


# --------------------------------------------------------------------------------------
# Prediction
# --------------------------------------------------------------------------------------

_FORWARD: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_FORWARD_LOCK = threading.Lock()


def _forward(model):
    """A compiled forward pass of ``model`` (traced once per model and batch size, kept while the model lives)."""
    with _FORWARD_LOCK:
        function = _FORWARD.get(model)
        if function is None:
            from cv_core._tf import tensorflow

            tf = tensorflow()
            shape = tuple(model.input_shape[1:])

            @tf.function(input_signature=[tf.TensorSpec((None, *shape), tf.float32)])
            def function(x):
                return model(x, training=False)

            _FORWARD[model] = function
        return function


def model_input_size(model) -> tuple[int, int]:
    """(height, width) a segmentation model takes."""
    height, width = model.input_shape[1:3]
    return int(height), int(width)


def predict_probabilities(model, images, batch_size: int = 32) -> np.ndarray:
    """Per-pixel class probabilities of a batch of images at the model's input size.

    Args:
        model: a segmentation model (output (B, H, W, C) probabilities).
        images: (N, H, W, 3) at the model's input size, float or uint8 in [0, 255].
        batch_size: images per forward pass.

    Returns:
        (N, H, W, C) float32.
    """
    images = np.asarray(images, np.float32)
    forward = _forward(model)
    parts = [np.asarray(forward(images[start:start + batch_size])) for start in range(0, len(images), batch_size)]
    return np.concatenate(parts) if parts else np.zeros((0, *model.output_shape[1:]), np.float32)


@dataclass(frozen=True)
class MaskPrediction:
    """A model's reading of one picture, pixel by pixel.

    Attributes:
        probabilities: (H, W, C) float32, the class distribution of every pixel.
    """

    probabilities: np.ndarray

    @property
    def mask(self) -> np.ndarray:
        """(H, W) uint8 (int32 above 256 classes): the most probable class of each pixel."""
        mask = self.probabilities.argmax(axis=-1)
        return mask.astype(np.uint8 if self.probabilities.shape[-1] <= 256 else np.int32)

    @property
    def confidence(self) -> np.ndarray:
        """(H, W) float32 in [0, 1]: the probability of each pixel's predicted class."""
        return self.probabilities.max(axis=-1)


def _resize_probabilities(probabilities: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of (h, w, C) probabilities to ``size``, renormalised to sum to 1."""
    from PIL import Image

    if probabilities.shape[:2] == tuple(size):
        return probabilities
    height, width = size
    channels = [np.asarray(Image.fromarray(probabilities[..., c], mode="F").resize((width, height),
                                                                                     Image.Resampling.BILINEAR))
                for c in range(probabilities.shape[-1])]
    out = np.stack(channels, axis=-1)
    return (out / np.maximum(out.sum(axis=-1, keepdims=True), 1e-12)).astype(np.float32)


def predict_mask(model, picture: np.ndarray, output_size: tuple[int, int] | None = None) -> MaskPrediction:
    """The model's mask of one picture of any size.

    The picture is resized to the model's input (what it was trained on), and the
    probabilities are resized back, bilinearly, to ``output_size``.

    Args:
        model: a segmentation model.
        picture: (H, W, 3) uint8 RGB.
        output_size: (height, width) of the result; the picture's own size if None.

    Returns:
        A :class:`MaskPrediction` at ``output_size``.
    """
    picture = np.asarray(picture, np.uint8)
    size = model_input_size(model)
    view = resize_image(picture, size)
    probabilities = predict_probabilities(model, view[None])[0]
    return MaskPrediction(_resize_probabilities(probabilities, output_size or picture.shape[:2]))


# --------------------------------------------------------------------------------------
# Scores over a split
# --------------------------------------------------------------------------------------


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
            reading = MaskPrediction(_resize_probabilities(probabilities, sample.image.shape[:2]))
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
