"""What every dataset in the lab shares: samples, splits, class balance and a tf.data pipeline.

A dataset only has to say how many samples each split has and how to load sample ``i``;
this base class turns that into sample grids for the UI and batched ``tf.data`` pipelines
for classification or segmentation training.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from cv_core.images import ImageInputError

__all__ = ["SPLITS", "TASKS", "Box", "Dataset", "DatasetError", "Sample", "resize_image", "resize_mask"]

SPLITS = ("train", "validation", "test")
TASKS = ("classification", "segmentation")

#: (class_index, x0, y0, x1, y1) in pixels; x1 and y1 are exclusive.
Box = tuple[int, int, int, int, int]


class DatasetError(ValueError):
    """A dataset cannot be opened or used as asked; the message says what to change."""


@dataclass
class Sample:
    """One example: an image with its label, and where known its mask and boxes.

    Attributes:
        image: (H, W, 3) uint8 RGB.
        label: index into the dataset's ``class_names``.
        mask: (H, W) uint8 indices into ``mask_class_names``, or None.
        boxes: one (class_index, x0, y0, x1, y1) per object, x1/y1 exclusive; may be empty.
        source: where it came from (a file name, or "shapes/train/12"), for captions.
    """

    image: np.ndarray
    label: int
    mask: np.ndarray | None = None
    boxes: list[Box] = field(default_factory=list)
    source: str = ""


def resize_image(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize an (H, W, 3) uint8 image to ``size`` = (height, width) with bilinear filtering."""
    height, width = size
    if image.shape[:2] == (height, width):
        return image
    return np.asarray(Image.fromarray(image).resize((width, height), Image.Resampling.BILINEAR))


def resize_mask(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize an (H, W) class-index mask to ``size`` = (height, width) without mixing classes."""
    height, width = size
    if mask.shape[:2] == (height, width):
        return mask
    return np.asarray(Image.fromarray(mask).resize((width, height), Image.Resampling.NEAREST))


def check_split(split: str) -> str:
    if split not in SPLITS:
        raise DatasetError(f"Expected `split` to be one of {SPLITS}. Received: split={split!r}")
    return split


class Dataset:
    """Base class. Subclasses set the attributes below and implement ``_count``/``_load``.

    Attributes:
        name: the registry name, e.g. "shapes".
        class_names: image-level class names; ``Sample.label`` indexes this list.
        has_masks: whether samples carry segmentation masks.
        has_boxes: whether samples carry object boxes (``Sample.boxes``), for detection.
        mask_class_names: names of mask values 0..K-1, or None without masks.
        description: one paragraph for people, shown by the UI.
        mask_background: the mask value that means "nothing here" (left uncoloured in overlays).
        skipped: number of files skipped because they could not be read.
    """

    name: str = ""
    class_names: list[str]
    has_masks: bool = False
    has_boxes: bool = False
    mask_class_names: list[str] | None = None
    mask_background: int = 0
    description: str = ""
    default_image_size: tuple[int, int] = (180, 180)

    def __init__(self) -> None:
        self.skipped = 0
        self.skipped_files: list[str] = []

    # -- what subclasses provide -------------------------------------------------------
    def _count(self, split: str) -> int:
        raise NotImplementedError

    def _load(self, split: str, index: int) -> Sample:
        raise NotImplementedError

    def _source(self, split: str, index: int) -> str:
        """Where sample ``index`` comes from, for messages (a file name where there is one)."""
        return f"{split}/{index}"

    def _labels(self, split: str) -> np.ndarray:
        """Labels of a split without decoding images; subclasses override when cheap."""
        return np.array([self._load(split, i).label for i in range(self._count(split))])

    # -- public API ----------------------------------------------------------------------
    def count(self, split: str) -> int:
        """Number of samples in ``split`` ("train", "validation" or "test")."""
        return self._count(check_split(split))

    def sample(self, split: str, index: int) -> Sample:
        """Load sample ``index`` of ``split``.

        Raises:
            IndexError: index out of range.
            cv_core.images.ImageInputError: the file behind it cannot be decoded.
        """
        n = self.count(split)
        if not 0 <= index < n:
            raise IndexError(f"Expected an index in [0, {n}). Received: index={index}")
        return self._load(split, index)

    def samples(self, split: str = "train", count: int = 8, start: int = 0) -> list[Sample]:
        """Up to ``count`` readable samples of ``split`` from ``start`` on, in a fixed order.

        Unreadable files are skipped (and counted in ``skipped``), so a grid of samples never
        fails because of one bad file.
        """
        out: list[Sample] = []
        n = self.count(split)
        index = start
        while len(out) < count and index < n:
            try:
                out.append(self._load(split, index))
            except ImageInputError as exc:
                self._note_skip(f"{self._source(split, index)}: {exc}")
            index += 1
        return out

    def class_counts(self, split: str) -> dict[str, int]:
        """How many samples of each class ``split`` holds (the class balance)."""
        labels = self._labels(check_split(split))
        counts = np.bincount(labels.astype(int), minlength=len(self.class_names)) if len(labels) else []
        return {name: int(counts[i]) if len(labels) else 0 for i, name in enumerate(self.class_names)}

    def tf_dataset(
        self,
        split: str,
        task: str = "classification",
        image_size: tuple[int, int] | None = None,
        batch_size: int = 32,
        shuffle: bool = False,
        seed: int = 0,
        cache: bool = True,
    ):
        """A batched ``tf.data.Dataset`` of this split for training or evaluation.

        Args:
            split: "train", "validation" or "test".
            task: "classification" yields ``(images, labels)`` with labels int32 (B,);
                "segmentation" yields ``(images, masks)`` with masks int32 (B, H, W).
            image_size: (height, width) every image is resized to; the dataset's default if None.
            batch_size: samples per batch (the last batch may be smaller).
            shuffle: reshuffle the order every epoch (with ``seed``), for training.
            seed: shuffle seed.
            cache: keep decoded, resized uint8 samples in memory after the first epoch.

        Returns:
            ``tf.data.Dataset`` of ``(float32 (B, H, W, 3) in [0, 255], targets)``, prefetched.
            Files that fail to decode are skipped and counted in ``skipped``.

        Raises:
            DatasetError: unknown task, segmentation on a dataset without masks, bad sizes.
        """
        from cv_core._tf import tensorflow

        if task not in TASKS:
            raise DatasetError(f"Expected `task` to be one of {TASKS}. Received: task={task!r}")
        if task == "segmentation" and not self.has_masks:
            raise DatasetError(
                f"The {self.name!r} dataset has no segmentation masks, so it cannot be used to "
                "train a segmentation model. Choose 'shapes' or 'oxford_pets'."
            )
        if not isinstance(batch_size, int) or batch_size <= 0:
            raise DatasetError(f"Expected a positive whole `batch_size`. Received: {batch_size!r}")
        height, width = image_size or self.default_image_size
        if height < 8 or width < 8:
            raise DatasetError(f"Expected an image size of at least 8 x 8. Received: {height} x {width}")
        n = self.count(split)
        if n == 0:
            raise DatasetError(f"The {split!r} split of {self.name!r} is empty.")
        tf = tensorflow()
        segmentation = task == "segmentation"
        target_shape = (height, width) if segmentation else ()

        def load(index):
            try:
                sample = self._load(split, int(index))
            except ImageInputError as exc:
                self._note_skip(f"{self._source(split, int(index))}: {exc}")
                return (np.zeros((height, width, 3), np.uint8), np.zeros(target_shape, np.int32), False)
            image = resize_image(sample.image, (height, width))
            if segmentation:
                target = resize_mask(sample.mask, (height, width)).astype(np.int32)
            else:
                target = np.int32(sample.label)
            return image, target, True

        def load_tensors(index):
            image, target, ok = tf.numpy_function(load, [index], (tf.uint8, tf.int32, tf.bool))
            image = tf.ensure_shape(image, (height, width, 3))
            target = tf.ensure_shape(target, target_shape)
            return image, target, tf.ensure_shape(ok, ())

        def readable(image, target, ok):
            return ok

        def drop_flag(image, target, ok):
            return image, target

        def to_float(images, targets):
            return tf.cast(images, tf.float32), targets

        ds = tf.data.Dataset.range(n)
        ds = ds.map(load_tensors, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        ds = ds.filter(readable).map(drop_flag)
        if cache:
            ds = ds.cache()
        if shuffle:
            ds = ds.shuffle(min(n, 4096), seed=seed, reshuffle_each_iteration=True)
        ds = ds.batch(batch_size)
        ds = ds.map(to_float)
        return ds.prefetch(tf.data.AUTOTUNE)

    def steps_per_epoch(self, split: str, batch_size: int) -> int:
        """Batches in one pass over ``split`` (the last, partial batch included)."""
        return -(-self.count(split) // batch_size)

    def _note_skip(self, what: str) -> None:
        self.skipped += 1
        if len(self.skipped_files) < 100:
            self.skipped_files.append(what)

    def __repr__(self) -> str:
        counts = ", ".join(f"{s}={self.count(s)}" for s in SPLITS)
        return f"<{type(self).__name__} {self.name!r}: {len(self.class_names)} classes, {counts}>"
