"""The one data pipeline every task trains on: decode, skip unreadable files, cache, shuffle, batch.

What differs between tasks is what a sample becomes, a :class:`TargetEncoding` that the task
supplies (a class index, a mask, boxes then heatmaps); the skeleton is the same for all:

1. every sample of the split is read (an unreadable file is skipped and counted in the
   dataset's ``skipped``), its picture resized to ``image_size`` and its target encoded in
   numpy (``encode``), then turned into tensors one sample at a time (``per_sample``);
2. the uint8 pictures and their targets are cached after the first epoch, shuffled every
   epoch with ``seed``, and batched;
3. each batch's pictures become float32 in [0, 255], and the task finishes the batch
   (``per_batch``: augmentation that moves pictures and targets together, encoding that needs
   the whole batch, with a fresh random draw per batch and epoch), then batches are prefetched.

:meth:`cv_core.datasets.Dataset.tf_dataset` gives the batches of a task whose entry names a
per-sample encoding (classification's labels, segmentation's masks); a task whose targets also
depend on its model (detection's output stride) calls :func:`batches` with its own encoding.

:func:`class_balanced_batches` reads a split the same way (step 1) but draws every batch as P
classes × K pictures of each (metric learning needs positives in every batch: image
similarity); :func:`balanced_indices` is its sampler, in numpy.
TensorFlow is imported when a pipeline is built, not with this module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from cv_core.datasets.base import DatasetError, check_split, resize_image

__all__ = ["TargetEncoding", "balanced_indices", "batches", "class_balanced_batches"]


@dataclass(frozen=True)
class TargetEncoding:
    """What one task's model learns from a sample, in the shared pipeline (:func:`batches`).

    Attributes:
        encode: ``(sample, (height, width)) -> tuple`` of numpy arrays, the sample's target
            parts at that picture size; ``sample`` is None for an unreadable file (its blank
            parts of the same shapes and dtypes, dropped before batching).
        dtypes: the TensorFlow dtype name of each part (``"int32"``...).
        shapes: ``(height, width) -> tuple`` of each part's shape.
        check: ``dataset -> None``, raising :class:`~cv_core.datasets.DatasetError` for a
            dataset this task cannot train on (no masks, no boxes), or None.
        per_sample: ``(tf, parts, (height, width)) -> parts``: tensor steps on one sample before
            caching (detection rescales its boxes), or None.
        per_batch: ``(tf, images, parts, draw) -> (images, targets)``: the last steps on each
            batch (augmentation that moves pictures and targets together, encoding that needs
            the batch), given float32 images, the batched parts and ``draw``, an int64 scalar
            drawn afresh for every batch of every epoch from the pipeline's ``seed`` (for
            stateless random ops); None yields ``(images, target)`` of a one-part target.
    """

    encode: Callable
    dtypes: tuple[str, ...]
    shapes: Callable
    check: Callable | None = None
    per_sample: Callable | None = None
    per_batch: Callable | None = None


def batches(dataset, split: str, encoding: TargetEncoding, image_size: tuple[int, int] | None = None,
            batch_size: int = 32, shuffle: bool = False, seed: int = 0, cache: bool = True,
            size_multiple: int = 1):
    """A batched, prefetched ``tf.data.Dataset`` of one split, its targets encoded by ``encoding``.

    Args:
        dataset: a :class:`~cv_core.datasets.Dataset`.
        split: "train", "validation" or "test".
        encoding: the task's :class:`TargetEncoding`.
        image_size: (height, width) every picture is resized to; the dataset's default if None.
        batch_size: samples per batch (the last batch may be smaller).
        shuffle: reshuffle the order every epoch (with ``seed``), for training.
        seed: shuffle seed.
        cache: keep decoded, resized uint8 samples in memory after the first epoch.
        size_multiple: the picture's sides must be multiples of it (a detector's output stride).

    Returns:
        ``tf.data.Dataset`` of ``(float32 (B, H, W, 3) in [0, 255], targets)``.

    Raises:
        DatasetError: a dataset the task cannot use, a bad split or size, an empty split.
    """
    size = _checked_size(dataset, split, encoding, image_size, batch_size, size_multiple)
    from cv_core._tf import tensorflow

    tf = tensorflow()
    ds = _readable_samples(tf, dataset, split, encoding, size)
    if cache:
        ds = ds.cache()
    if shuffle:
        ds = ds.shuffle(min(dataset.count(split), 4096), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    return _finish(tf, ds, encoding, seed)


def _checked_size(dataset, split: str, encoding: TargetEncoding, image_size, batch_size, size_multiple: int = 1):
    """The checks every pipeline makes before reading anything; returns (height, width)."""
    if encoding.check is not None:
        encoding.check(dataset)
    check_split(split)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
        raise DatasetError(f"Expected a positive whole `batch_size`. Received: {batch_size!r}")
    height, width = image_size or dataset.default_image_size
    if size_multiple > 1 and (height < 8 or width < 8 or height % size_multiple or width % size_multiple):
        raise DatasetError(
            f"Expected an image size of at least 8 x 8 and a multiple of the output stride "
            f"({size_multiple}). Received: {height} x {width}"
        )
    if height < 8 or width < 8:
        raise DatasetError(f"Expected an image size of at least 8 x 8. Received: {height} x {width}")
    if dataset.count(split) == 0:
        raise DatasetError(f"The {split!r} split of {dataset.name!r} is empty.")
    return height, width


def _readable_samples(tf, dataset, split: str, encoding: TargetEncoding, size):
    """Step 1: ``(uint8 image, *target parts)`` of every readable sample of the split, in order."""
    height, width = size
    dtypes = tuple(getattr(tf, name) for name in encoding.dtypes)
    shapes = encoding.shapes(height, width)

    def load(index):
        sample = dataset.readable_sample(split, int(index))
        if sample is None:
            return (np.zeros((height, width, 3), np.uint8), *encoding.encode(None, size), False)
        return (resize_image(sample.image, size), *encoding.encode(sample, size), True)

    def load_tensors(index):
        image, *parts, ok = tf.numpy_function(load, [index], (tf.uint8, *dtypes, tf.bool))
        parts = [tf.ensure_shape(part, shape) for part, shape in zip(parts, shapes)]
        if encoding.per_sample is not None:
            parts = encoding.per_sample(tf, parts, size)
        return (tf.ensure_shape(image, (height, width, 3)), *parts, tf.ensure_shape(ok, ()))

    def readable(*element):
        return element[-1]

    def drop_flag(*element):
        return element[:-1]

    ds = tf.data.Dataset.range(dataset.count(split))
    ds = ds.map(load_tensors, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.filter(readable).map(drop_flag)


def _finish(tf, ds, encoding: TargetEncoding, seed: int):
    """Step 3: float32 pictures, the task's last steps on each batch (``per_batch``), prefetching."""

    def to_float(images, *parts):
        return (tf.cast(images, tf.float32), *parts)

    def finish(element, draw):
        images, *parts = element
        return encoding.per_batch(tf, tf.cast(images, tf.float32), parts, draw)

    if encoding.per_batch is None:
        ds = ds.map(to_float)
    else:
        draws = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
        ds = tf.data.Dataset.zip((ds, draws)).map(finish, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.prefetch(tf.data.AUTOTUNE)


def balanced_indices(labels, batch_size: int, per_class: int, rng: np.random.Generator) -> np.ndarray:
    """One P × K batch: the positions in ``labels`` of K pictures of each of P classes.

    P = ``batch_size // per_class`` classes (at least 2, at most the classes that have two
    pictures or more), drawn without replacement; the batch's places are shared between them
    as evenly as possible (K or K + 1 each). Within a class, pictures are drawn without
    replacement while the class has enough. A class with a single picture is never drawn (it
    could not give its picture a positive).

    Args:
        labels: (N,) class of every picture.
        batch_size: pictures in the batch, at least 4 (two classes of two).
        per_class: the K aimed at, at least 2.
        rng: the random generator of this batch.

    Returns:
        (batch_size,) int64 positions in ``labels``, grouped by class.

    Raises:
        DatasetError: fewer than two classes with two pictures, or a batch too small.
    """
    labels = np.asarray(labels)
    if per_class < 2 or batch_size < 4:
        raise DatasetError(f"Expected a batch of at least 4 pictures with at least 2 per class. "
                           f"Received: batch_size={batch_size}, per_class={per_class}")
    classes, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    eligible = np.flatnonzero(counts >= 2)
    if eligible.size < 2:
        raise DatasetError(f"Expected at least two classes with two pictures each, so that every batch holds "
                           f"pictures alike and pictures not alike. Received: {eligible.size} such class(es) "
                           f"among {classes.size}.")
    drawn = min(eligible.size, max(2, batch_size // per_class))
    chosen = rng.choice(eligible, size=drawn, replace=False)
    shares = np.full(drawn, batch_size // drawn)
    shares[:batch_size % drawn] += 1
    picks = []
    for cls, share in zip(chosen, shares):
        members = np.flatnonzero(inverse == cls)
        picks.append(rng.choice(members, size=share, replace=members.size < share))
    return np.concatenate(picks).astype(np.int64)


def class_balanced_batches(dataset, split: str, encoding: TargetEncoding, image_size: tuple[int, int] | None = None,
                           batch_size: int = 32, per_class: int = 4, seed: int = 0, steps: int | None = None):
    """Batches of P classes × K pictures each (:func:`balanced_indices`), for metric learning.

    The split is read once as :func:`batches` reads it (unreadable files skipped and counted)
    and kept in memory as uint8, as :func:`batches` caches it; each batch is then drawn afresh
    from ``seed`` (a new draw every batch and epoch) and finished as :func:`batches` finishes
    its batches. The encoding's first target part is the sample's class (a scalar).

    Args:
        dataset, split, encoding, image_size, seed: as :func:`batches`.
        batch_size: pictures per batch (every batch is full), at least 4.
        per_class: the K pictures of each class aimed at (see :func:`balanced_indices`).
        steps: batches per pass; ``dataset.steps_per_epoch(split, batch_size)`` (one epoch's
            worth of pictures) when None.

    Returns:
        ``tf.data.Dataset`` of ``steps`` batches ``(float32 (B, H, W, 3) in [0, 255], targets)``.

    Raises:
        DatasetError: as :func:`batches`, a class target that is not a scalar, or a split
            without two classes of two readable pictures.
    """
    size = _checked_size(dataset, split, encoding, image_size, batch_size)
    if batch_size < 4 or isinstance(per_class, bool) or not isinstance(per_class, int) or per_class < 2:
        raise DatasetError(f"Expected a batch of at least 4 pictures with at least 2 per class, so that every "
                           f"batch holds pictures alike and pictures not alike. Received: batch_size={batch_size}, "
                           f"per_class={per_class!r}")
    if encoding.shapes(*size)[0] != ():
        raise DatasetError("Expected a target encoding whose first part is the sample's class (a scalar).")
    from cv_core._tf import tensorflow

    tf = tensorflow()
    columns = list(zip(*_readable_samples(tf, dataset, split, encoding, size).batch(256).as_numpy_iterator()))
    if not columns:
        raise DatasetError(f"No picture of the {split!r} split of {dataset.name!r} could be read.")
    images, *parts = (np.concatenate(column) for column in columns)
    balanced_indices(parts[0], batch_size, per_class, np.random.default_rng(seed))  # refuses one class now
    dtypes = tuple(getattr(tf, name) for name in encoding.dtypes)
    shapes = encoding.shapes(*size)

    def draw_batch(draw):
        chosen = balanced_indices(parts[0], batch_size, per_class, np.random.default_rng(int(draw) & 0x7FFFFFFF))
        return (images[chosen], *(part[chosen] for part in parts))

    def draw_tensors(draw):
        picked, *targets = tf.numpy_function(draw_batch, [draw], (tf.uint8, *dtypes))
        targets = [tf.ensure_shape(part, (batch_size, *shape)) for part, shape in zip(targets, shapes)]
        return (tf.ensure_shape(picked, (batch_size, *size, 3)), *targets)

    steps = dataset.steps_per_epoch(split, batch_size) if steps is None else steps
    draws = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).take(steps)
    ds = draws.map(draw_tensors, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return _finish(tf, ds, encoding, seed + 1)
