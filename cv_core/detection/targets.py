"""What the detector learns to predict: true boxes turned into heatmaps, sizes and offsets.

For each true box ``(class, x0, y0, x1, y1)`` (input pixels, x1/y1 exclusive) and a grid
``s = output_stride`` pixels per cell, all in continuous coordinates where cell ``j`` spans
``[j, j + 1)``:

1. **Centre.** ``c = ((x0 + x1) / 2, (y0 + y1) / 2) / s`` in cells; the object belongs to
   the cell ``floor(c)``.
2. **Heatmap.** Channel ``class`` gets a Gaussian bump centred on that cell, 1 at the cell
   and fading with the radius of CenterNet's rule (:func:`gaussian_radius`): the largest
   shift of a corner that keeps a box's IoU with the truth at 0.7, so a near-miss centre is
   penalised less than a far one. Overlapping bumps keep the maximum.
3. **Size** ``(w, h) = ((x1 - x0) / s, (y1 - y0) / s)`` and **offset** ``c - floor(c)`` are
   written at the centre cell only, with a third channel, the *mask*, set to 1 there: the
   losses look at sizes and offsets only where an object is.

Decoding (:mod:`cv_core.detection.decode`) inverts this exactly: centre ``(j + offset) * s``,
corners at half the size on either side. With a power-of-two stride and whole-pixel boxes
every step is exact in float32, so a perfect prediction gives the true boxes back to the bit.

:func:`tf_dataset` feeds the detector: any dataset with ``has_boxes`` (shapes, Oxford pets,
user mask datasets), boxes rescaled with the image, optional box-aware augmentation through
Keras preprocessing layers, and targets encoded in numpy through ``tf.numpy_function``, all
as steps of the one pipeline (:func:`cv_core.pipeline.batches`).
"""

from __future__ import annotations

import math

import numpy as np

from cv_core.datasets.base import Dataset, DatasetError
from cv_core.i18n import N_
from cv_core.pipeline import TargetEncoding, batches

__all__ = [
    "MIN_OVERLAP",
    "augmentation_layers",
    "check_detection_dataset",
    "draw_gaussian",
    "encode_batch",
    "encode_targets",
    "gaussian_radius",
    "targets_as_outputs",
    "tf_dataset",
]

#: IoU that a box moved by the heatmap's radius still keeps with the truth (CenterNet's 0.7).
MIN_OVERLAP = 0.7


def gaussian_radius(height: float, width: float, min_overlap: float = MIN_OVERLAP) -> float:
    """CenterNet's heatmap radius for a box of ``height`` x ``width`` cells.

    The smallest of three radii (from CornerNet): how far both corners may move together,
    one corner alone inwards, or one alone outwards, keeping an IoU of ``min_overlap`` with
    the true box; each is a root of a quadratic. The formula is the one CenterNet's code
    uses (it halves the sum of b and the root's square root in all three cases), so the
    heatmaps match those the published detectors were trained on.

    Returns:
        The radius in cells (a float >= 0; :func:`encode_targets` rounds it down).
    """
    h, w, m = float(height), float(width), float(min_overlap)
    b1, c1 = h + w, w * h * (1 - m) / (1 + m)
    r1 = (b1 + math.sqrt(max(b1 * b1 - 4 * c1, 0.0))) / 2
    b2, c2 = 2 * (h + w), (1 - m) * w * h
    r2 = (b2 + math.sqrt(max(b2 * b2 - 16 * c2, 0.0))) / 2
    a3, b3, c3 = 4 * m, -2 * m * (h + w), (m - 1) * w * h
    r3 = (b3 + math.sqrt(max(b3 * b3 - 4 * a3 * c3, 0.0))) / 2
    return max(0.0, min(r1, r2, r3))


def draw_gaussian(heatmap: np.ndarray, centre: tuple[int, int], radius: int) -> None:
    """Raise ``heatmap`` (H, W) in place to a Gaussian bump at ``centre`` = (x, y) cells.

    The bump is ``exp(-(dx² + dy²) / (2 σ²))`` with ``σ = (2 radius + 1) / 6``, on the
    ``(2 radius + 1)²`` cells around the centre (cut at the edges); it is exactly 1 at the
    centre. Each cell keeps the larger of its value and the bump's.
    """
    x, y = centre
    height, width = heatmap.shape
    sigma = (2 * radius + 1) / 6
    left, right = min(x, radius), min(width - x - 1, radius)
    top, bottom = min(y, radius), min(height - y - 1, radius)
    dy = np.arange(-top, bottom + 1, dtype=np.float64)[:, None]
    dx = np.arange(-left, right + 1, dtype=np.float64)[None, :]
    bump = np.exp(-(dx * dx + dy * dy) / (2 * sigma * sigma)).astype(heatmap.dtype)
    window = heatmap[y - top:y + bottom + 1, x - left:x + right + 1]
    np.maximum(window, bump, out=window)


def _grid(image_size, output_stride: int) -> tuple[int, int]:
    height, width = image_size
    if height % output_stride or width % output_stride:
        raise ValueError(
            f"Expected `image_size` to be a multiple of `output_stride` ({output_stride}). "
            f"Received: image_size={tuple(image_size)!r}"
        )
    return height // output_stride, width // output_stride


def encode_targets(boxes, image_size, num_classes: int, output_stride: int = 4) -> dict[str, np.ndarray]:
    """The detector's training targets for one image (see the module docstring).

    Args:
        boxes: ``(class_index, x0, y0, x1, y1)`` tuples (or an (N, 5) array) in the pixels of
            an image of ``image_size``, x1/y1 exclusive. Boxes with a class outside
            ``[0, num_classes)`` (e.g. -1 padding) or no area are left out.
        image_size: ``(height, width)`` of the image, multiples of ``output_stride``.
        num_classes: heatmap channels.
        output_stride: input pixels per output cell.

    Returns:
        ``{"heatmap": (H/s, W/s, num_classes), "size": (H/s, W/s, 3) = (w, h, mask),
        "offset": (H/s, W/s, 3) = (dx, dy, mask)}``, float32. Two objects whose centres fall
        in the same cell share its size and offset (the later box wins).
    """
    grid_h, grid_w = _grid(image_size, output_stride)
    heatmap = np.zeros((grid_h, grid_w, num_classes), np.float32)
    size = np.zeros((grid_h, grid_w, 3), np.float32)
    offset = np.zeros((grid_h, grid_w, 3), np.float32)
    rows = np.asarray(boxes, dtype=np.float32).reshape(-1, 5)
    for cls, x0, y0, x1, y1 in rows:
        cls = int(cls)
        if not 0 <= cls < num_classes:
            continue
        x0, y0, x1, y1 = (np.float32(v) / np.float32(output_stride) for v in (x0, y0, x1, y1))
        box_w, box_h = x1 - x0, y1 - y0
        if not (box_w > 0 and box_h > 0):
            continue
        cx, cy = (x0 + x1) / np.float32(2), (y0 + y1) / np.float32(2)
        ix, iy = min(int(np.floor(cx)), grid_w - 1), min(int(np.floor(cy)), grid_h - 1)
        ix, iy = max(ix, 0), max(iy, 0)
        radius = int(gaussian_radius(box_h, box_w))
        draw_gaussian(heatmap[:, :, cls], (ix, iy), radius)
        size[iy, ix] = (box_w, box_h, 1.0)
        offset[iy, ix] = (cx - np.float32(ix), cy - np.float32(iy), 1.0)
    return {"heatmap": heatmap, "size": size, "offset": offset}


def encode_batch(boxes, labels, image_size, num_classes: int, output_stride: int = 4):
    """:func:`encode_targets` for a padded batch, as ``tf.numpy_function`` needs it.

    Args:
        boxes: (B, N, 4) ``x0, y0, x1, y1`` pixels; labels: (B, N) class indices, -1 for padding.

    Returns:
        ``(heatmap, size, offset)``: float32 arrays (B, H/s, W/s, num_classes), (B, H/s, W/s, 3)
        and (B, H/s, W/s, 3).
    """
    boxes = np.asarray(boxes, np.float32)
    labels = np.asarray(labels).astype(np.float32)
    encoded = [
        encode_targets(np.concatenate([lab[:, None], box], axis=1), image_size, num_classes, output_stride)
        for box, lab in zip(boxes, labels)
    ]
    grid_h, grid_w = _grid(image_size, output_stride)
    if not encoded:
        return (np.zeros((0, grid_h, grid_w, num_classes), np.float32),
                np.zeros((0, grid_h, grid_w, 3), np.float32), np.zeros((0, grid_h, grid_w, 3), np.float32))
    return tuple(np.stack([e[key] for e in encoded]) for key in ("heatmap", "size", "offset"))


def targets_as_outputs(targets: dict) -> dict:
    """The outputs a perfect detector would give for these targets (masks dropped).

    Feeding them to :func:`cv_core.detection.decode_detections` gives the encoded boxes back.
    Works on one image's targets or a batch's.
    """
    return {"heatmap": targets["heatmap"], "size": targets["size"][..., :2], "offset": targets["offset"][..., :2]}


def check_detection_dataset(dataset: Dataset) -> Dataset:
    """Refuse a dataset without object boxes before any training starts.

    Raises:
        DatasetError: ``dataset.has_boxes`` is false, with a message that says what to choose.
    """
    if not getattr(dataset, "has_boxes", False):
        raise DatasetError(
            N_("The {name!r} dataset has no object boxes, so it cannot be used to train a detector. Choose "
               "'shapes', 'oxford_pets' (its pet or head boxes) or one of your mask datasets (boxes around each "
               "object of its masks)."), name=getattr(dataset, "name", "?"))
    return dataset


def augmentation_layers(seed: int | None = None) -> list:
    """Box-aware augmentation: Keras preprocessing layers that move boxes with the pixels.

    A horizontal flip and a translation of up to 10% each way, filling with black (mirrored
    fill would paint copies of objects that have no box). Both take
    ``{"images": ..., "bounding_boxes": {"boxes": ..., "labels": ...}}`` in ``"xyxy"`` pixels,
    clip the boxes to the picture, and set the label of a box pushed out entirely to -1.
    """
    from cv_core._tf import keras as _keras

    layers = _keras().layers
    return [
        layers.RandomFlip("horizontal", bounding_box_format="xyxy", seed=seed, name="augment_flip"),
        layers.RandomTranslation(
            0.1, 0.1, fill_mode="constant", bounding_box_format="xyxy",
            seed=None if seed is None else seed + 1, name="augment_translation",
        ),
    ]


def augment_batch(images, boxes, labels, layers):
    """Apply box-aware ``layers`` (see :func:`augmentation_layers`) to a batch, in training mode.

    Returns:
        ``(images, boxes, labels)``: float32 (B, H, W, 3), float32 (B, N, 4), int32 (B, N).
    """
    import tensorflow as tf  # plain import: this runs inside tf.data's traced functions

    data = {"images": images, "bounding_boxes": {"boxes": boxes, "labels": labels}}
    for layer in layers:
        data = layer(data, training=True)
    return (
        tf.cast(data["images"], tf.float32),
        tf.cast(data["bounding_boxes"]["boxes"], tf.float32),
        tf.cast(data["bounding_boxes"]["labels"], tf.int32),
    )


def tf_dataset(
    dataset: Dataset,
    split: str,
    image_size: tuple[int, int] | None = None,
    batch_size: int = 32,
    shuffle: bool = False,
    seed: int = 0,
    augment: bool = False,
    output_stride: int = 4,
    cache: bool = True,
    max_boxes: int = 64,
):
    """A batched ``tf.data.Dataset`` of one split for training or evaluating a detector.

    Each image is resized to ``image_size`` and its boxes with it (through
    ``keras.utils.bounding_boxes.convert_format``, to relative corners and back); batches are
    optionally augmented (:func:`augmentation_layers`), then encoded (:func:`encode_targets`).

    Args:
        dataset: any :class:`~cv_core.datasets.Dataset` with ``has_boxes``.
        split: "train", "validation" or "test".
        image_size: (height, width), multiples of ``output_stride``; the dataset's default if None.
        batch_size: images per batch (the last batch may be smaller).
        shuffle: reshuffle every epoch with ``seed``.
        seed: shuffle and augmentation seed.
        augment: flip and shift the images, and their boxes with them (for training).
        output_stride: the detector's ``output_stride``.
        cache: keep decoded, resized images and their boxes in memory after the first epoch.
        max_boxes: boxes kept per image (the first ones); the rest are dropped.

    Returns:
        ``tf.data.Dataset`` of ``(images, targets)``: float32 images (B, H, W, 3) in [0, 255]
        and ``{"heatmap", "size", "offset"}`` as :func:`encode_targets`, batched; what
        ``model.fit`` needs for :func:`cv_core.detection.build_detector`. Unreadable files are
        skipped and counted in ``dataset.skipped``.

    Raises:
        DatasetError: no boxes in this dataset, an empty split, bad sizes.
    """
    check_detection_dataset(dataset)
    if isinstance(max_boxes, bool) or not isinstance(max_boxes, int) or max_boxes <= 0:
        raise DatasetError(f"Expected a positive whole `max_boxes`. Received: {max_boxes!r}")
    num_classes = len(dataset.class_names)

    def encode(sample, size):
        """Up to ``max_boxes`` boxes (label -1 pads) in the source picture's pixels, and its size."""
        boxes = np.zeros((max_boxes, 4), np.float32)
        labels = np.full((max_boxes,), -1, np.int32)
        if sample is None:
            return boxes, labels, np.int32(1), np.int32(1)
        rows = np.asarray(sample.boxes, np.float32).reshape(-1, 5)[:max_boxes]
        boxes[:len(rows)] = rows[:, 1:]
        labels[:len(rows)] = rows[:, 0].astype(np.int32)
        source_h, source_w = sample.image.shape[:2]
        return boxes, labels, np.int32(source_h), np.int32(source_w)

    def per_sample(tf, parts, size):
        """The boxes rescaled with the picture (``keras.utils.bounding_boxes.convert_format``)."""
        from cv_core._tf import keras as _keras

        bounding_boxes = _keras().utils.bounding_boxes
        boxes, labels, source_h, source_w = parts
        relative = bounding_boxes.convert_format(
            boxes, source="xyxy", target="rel_xyxy", height=source_h, width=source_w
        )
        boxes = bounding_boxes.convert_format(
            relative, source="rel_xyxy", target="xyxy", height=size[0], width=size[1]
        )
        return boxes, labels

    height, width = image_size or dataset.default_image_size  # checked by the pipeline
    layers = augmentation_layers(seed) if augment else []

    def per_batch(tf, images, parts, draw):
        """Box-aware augmentation if asked, then the heatmap, size and offset targets."""
        boxes, labels = parts
        if layers:
            images, boxes, labels = augment_batch(images, boxes, labels, layers)
        heatmap, sizes, offset = tf.numpy_function(
            lambda b, l: encode_batch(b, l, (height, width), num_classes, output_stride),
            [boxes, labels],
            (tf.float32, tf.float32, tf.float32),
        )
        grid = (height // output_stride, width // output_stride)
        targets = {
            "heatmap": tf.ensure_shape(heatmap, (None, *grid, num_classes)),
            "size": tf.ensure_shape(sizes, (None, *grid, 3)),
            "offset": tf.ensure_shape(offset, (None, *grid, 3)),
        }
        return tf.ensure_shape(images, (None, height, width, 3)), targets

    encoding = TargetEncoding(
        encode=encode, dtypes=("float32", "int32", "int32", "int32"),
        shapes=lambda height, width: ((max_boxes, 4), (max_boxes,), (), ()),
        per_sample=per_sample, per_batch=per_batch,
    )
    return batches(dataset, split, encoding, image_size=image_size, batch_size=batch_size, shuffle=shuffle,
                   seed=seed, cache=cache, size_multiple=output_stride)
