"""A segmentation model's training data: images and masks, flipped and cropped together.

Its targets are each sample's mask (:data:`MASKS`), through the one pipeline
(:mod:`cv_core.pipeline`).

Random flips and crops move each image and its mask together (a crop that moved only the
picture would teach the model wrong pixels). TensorFlow is imported when a function needs
it, not with this module.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from cv_core.i18n import N_
from cv_core.datasets.base import Dataset, DatasetError, resize_mask
from cv_core.pipeline import TargetEncoding, batches

__all__ = ["MASKS", "MIN_CROP_SCALE", "augment_pairs", "segmentation_dataset"]

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


def _check_masks(dataset) -> None:
    if not dataset.has_masks:
        raise DatasetError(N_("The {name!r} dataset has no segmentation masks, so it cannot be used to train a "
                              "segmentation model. Choose 'shapes' or 'oxford_pets'."), name=dataset.name)


def _mask(sample, size) -> tuple[np.ndarray]:
    if sample is None:
        return (np.zeros(size, np.int32),)
    return (resize_mask(sample.mask, size).astype(np.int32),)


#: Each sample's mask at the picture's size (nearest pixel), int32: batches of ``(images, masks (B, H, W))``.
MASKS = TargetEncoding(encode=_mask, dtypes=("int32",), shapes=lambda height, width: ((height, width),),
                       check=_check_masks)


def _jointly_augmented(seed: int, min_scale: float) -> TargetEncoding:
    """:data:`MASKS`, each batch flipped and cropped with its masks (:func:`augment_pairs`), afresh every epoch."""

    def per_batch(tf, images, parts, draw):
        return augment_pairs(tf, images, parts[0], tf.stack([tf.constant(seed, tf.int64), draw]), min_scale)

    return dataclasses.replace(MASKS, per_batch=per_batch)


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
    encoding = _jointly_augmented(seed, min_scale) if augment else MASKS
    return batches(dataset, split, encoding, image_size=image_size, batch_size=batch_size, shuffle=shuffle,
                   seed=seed, cache=cache)
