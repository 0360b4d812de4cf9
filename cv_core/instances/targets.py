"""What the instance model learns from a picture's class mask and instance map, and its training batches.

For every object (an id of the instance map, at the training size):

- **semantic**: the class mask itself (the segmentation model's target);
- **centre**: on the channel of the object's class, a Gaussian bump, exactly 1 at the pixel
  nearest the centre of mass of the object's *visible* pixels, of standard deviation
  ``max(1, sqrt(area) / 8)`` pixels (the largest value wins where bumps meet), as Panoptic-DeepLab's
  centre heatmap with CenterNet's exact-1 peak (for the focal loss) and one channel per class;
- **offset**: on each of the object's pixels, the vector to that centre of mass, ``(dy, dx)`` in
  units of :data:`~cv_core.instances.models.OFFSET_SCALE` pixels, and a mask that is 1 there (0 on
  the background, which belongs to no object).

An object cut in two by a bar has one centre of mass (on the bar, perhaps) and both halves point
at it: that is how the model learns to keep it whole. Decoding
(:func:`cv_core.instances.decode.decode_instances`) inverts these targets exactly (the tests check
mask AP 1 on targets decoded as if they were outputs).

Augmentation (training): each picture is mirrored left-right with probability 1/2, its targets
with it (the offsets' dx changes sign), drawn afresh every batch from the run's seed.
"""

from __future__ import annotations

import numpy as np

from cv_core.i18n import N_
from cv_core.datasets.base import DatasetError, resize_mask
from cv_core.instances.models import OFFSET_SCALE
from cv_core.pipeline import TargetEncoding, batches

__all__ = ["centre_sigma", "check_instance_dataset", "encode_instance_targets", "instance_batches",
           "targets_as_outputs"]


def centre_sigma(area: float) -> float:
    """The centre bump's standard deviation in pixels for an object of ``area`` visible pixels."""
    return max(1.0, float(np.sqrt(area)) / 8.0)


def check_instance_dataset(dataset) -> None:
    """Refuse a dataset without instance maps, with a message that says what to choose.

    Raises:
        DatasetError: the dataset's samples carry no instances.
    """
    if not getattr(dataset, "has_instances", False):
        raise DatasetError(N_("The {name!r} dataset has no instances (one mask per object), which instance "
                              "segmentation needs. Choose 'shapes' (its 'crowded' difficulty has touching objects)."),
                           name=getattr(dataset, "name", "?"))


def encode_instance_targets(class_mask: np.ndarray, instances: np.ndarray, num_classes: int) -> dict:
    """The targets of one picture (see the module docstring).

    Args:
        class_mask: (H, W) class indices.
        instances: (H, W) instance ids, 0 = no object.
        num_classes: the mask classes (the centre heatmap's channels).

    Returns:
        ``{"semantic": (H, W) int32, "centre": (H, W, num_classes) float32 in [0, 1], "offset":
        (H, W, 3) float32 (dy, dx in OFFSET_SCALE units, mask)}``.
    """
    class_mask, instances = np.asarray(class_mask), np.asarray(instances)
    h, w = instances.shape
    heat = np.zeros((h, w, num_classes), np.float32)
    offset = np.zeros((h, w, 3), np.float32)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    for i in np.unique(instances[instances > 0]):
        ys, xs = np.nonzero(instances == i)
        cls = int(np.bincount(class_mask[ys, xs].astype(np.int64)).argmax())
        cy, cx = ys.mean(), xs.mean()
        py, px = int(np.clip(np.rint(cy), 0, h - 1)), int(np.clip(np.rint(cx), 0, w - 1))
        sigma = centre_sigma(len(ys))
        bump = np.exp(-((yy - py) ** 2 + (xx - px) ** 2) / (2 * sigma * sigma))
        np.maximum(heat[..., cls], bump, out=heat[..., cls])
        offset[ys, xs, 0] = (cy - ys) / OFFSET_SCALE
        offset[ys, xs, 1] = (cx - xs) / OFFSET_SCALE
        offset[ys, xs, 2] = 1.0
    return {"semantic": class_mask.astype(np.int32), "centre": heat, "offset": offset}


def targets_as_outputs(targets: dict, num_classes: int) -> dict:
    """Targets shaped as the model's outputs (one-hot classes, offsets without their mask), for decoding tests."""
    semantic = np.eye(num_classes, dtype=np.float32)[np.asarray(targets["semantic"])]
    return {"semantic": semantic, "centre": np.asarray(targets["centre"]), "offset": np.asarray(targets["offset"])[..., :2]}


def _flip(tf, images, semantic, centre, offset, draw):
    seed = tf.stack([draw, tf.constant(17, tf.int64)])
    flip = tf.random.stateless_uniform((tf.shape(images)[0],), seed=seed) < 0.5
    pick = lambda a, b: tf.where(tf.reshape(flip, (-1,) + (1,) * (len(a.shape) - 1)), b, a)  # noqa: E731
    flipped_offset = tf.reverse(offset, axis=[2]) * tf.constant([1.0, -1.0, 1.0])
    return (pick(images, tf.reverse(images, axis=[2])), pick(semantic, tf.reverse(semantic, axis=[2])),
            pick(centre, tf.reverse(centre, axis=[2])), pick(offset, flipped_offset))


def instance_batches(dataset, split: str, image_size: tuple[int, int] | None = None, batch_size: int = 16,
                     shuffle: bool = False, seed: int = 0, augment: bool = False, cache: bool = True):
    """A batched ``tf.data.Dataset`` of one split for training or evaluating an instance model.

    Args:
        dataset: a dataset with instances (``has_instances``: shapes).
        split: "train", "validation" or "test".
        image_size: (height, width); the dataset's default if None.
        batch_size, shuffle, seed, cache: as :func:`cv_core.pipeline.batches`.
        augment: mirror pictures and targets left-right at random (training).

    Returns:
        ``tf.data.Dataset`` of ``(float32 images (B, H, W, 3) in [0, 255], {"semantic", "centre",
        "offset"})``, the targets of :func:`encode_instance_targets` batched.

    Raises:
        DatasetError: no instances, an empty split, a bad size.
    """
    height, width = image_size or dataset.default_image_size
    check_instance_dataset(dataset)
    classes = len(dataset.mask_class_names)

    def encode(sample, size):
        if sample is None:
            return (np.zeros(size, np.int32), np.zeros((*size, classes), np.float32),
                    np.zeros((*size, 3), np.float32))
        mask = resize_mask(sample.mask, size)
        instances = resize_mask(sample.instances, size) if sample.instances is not None else np.zeros(size, np.uint16)
        t = encode_instance_targets(mask, instances, classes)
        return t["semantic"], t["centre"], t["offset"]

    def per_batch(tf, images, parts, draw):
        semantic, centre, offset = parts
        if augment:
            images, semantic, centre, offset = _flip(tf, images, semantic, centre, offset, draw)
        return images, {"semantic": semantic, "centre": centre, "offset": offset}

    encoding = TargetEncoding(
        encode=encode, dtypes=("int32", "float32", "float32"),
        shapes=lambda h, w: ((h, w), (h, w, classes), (h, w, 3)), check=check_instance_dataset, per_batch=per_batch)
    return batches(dataset, split, encoding, (height, width), batch_size=batch_size, shuffle=shuffle, seed=seed,
                   cache=cache)
