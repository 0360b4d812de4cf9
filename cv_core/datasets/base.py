"""What every dataset in the lab shares: samples, splits, class balance and a tf.data pipeline.

A dataset only has to say how many samples each split has and how to load sample ``i``;
this base class turns that into sample grids for the UI and batched ``tf.data`` pipelines
for classification or segmentation training.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cv_core.images import ImageInputError, resize_image, resize_nearest
from cv_core.i18n import N_, TranslatedError

__all__ = ["SPLITS", "Box", "Dataset", "DatasetError", "Sample", "resize_image", "resize_mask"]

SPLITS = ("train", "validation", "test")

#: (class_index, x0, y0, x1, y1) in pixels; x1 and y1 are exclusive.
Box = tuple[int, int, int, int, int]


class DatasetError(TranslatedError, ValueError):
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
        keypoints: one :class:`~cv_core.keypoints.KeypointInstance` per object (a person, a
            face) in the dataset's ``skeleton``: (K, 2) float32 points in pixels, (K,) COCO
            visibility 0/1/2, box, area, posture; empty for datasets without keypoints.
        instances: (H, W) uint16 instance map, or None without instances: 0 where no object is,
            ``i`` on the visible pixels of the object of ``boxes[i - 1]`` (its class is that box's),
            so an object cut in two by an occluder is one id on two regions.
    """

    image: np.ndarray
    label: int
    mask: np.ndarray | None = None
    boxes: list[Box] = field(default_factory=list)
    source: str = ""
    keypoints: list = field(default_factory=list)
    instances: np.ndarray | None = None


def resize_mask(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize an (H, W) class-index mask to ``size`` = (height, width) without mixing classes.

    :func:`cv_core.images.resize_nearest`, the lab's one label-map resizer.
    """
    return resize_nearest(mask, size)


def check_split(split: str) -> str:
    if split not in SPLITS:
        raise DatasetError(N_("Expected `split` to be one of {SPLITS}. Received: split={split}"), SPLITS=SPLITS, split=repr(split))
    return split


class Dataset:
    """Base class. Subclasses set the attributes below and implement ``_count``/``_load``.

    Attributes:
        name: the registry name, e.g. "shapes".
        class_names: image-level class names; ``Sample.label`` indexes this list.
        has_masks: whether samples carry segmentation masks.
        has_boxes: whether samples carry object boxes (``Sample.boxes``), for detection.
        has_instances: whether samples carry an instance map (``Sample.instances``), for
            instance segmentation.
        has_keypoints: whether samples carry keypoints (``Sample.keypoints``) in ``skeleton``.
        skeleton: the :class:`~cv_core.keypoints.Skeleton` of the keypoints, or None.
        mask_class_names: names of mask values 0..K-1, or None without masks.
        description: one paragraph for people, shown by the UI.
        mask_background: the mask value that means "nothing here" (left uncoloured in overlays).
        skipped: number of files skipped because they could not be read.
    """

    name: str = ""
    class_names: list[str]
    has_masks: bool = False
    has_boxes: bool = False
    has_instances: bool = False
    has_keypoints: bool = False
    skeleton = None
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
            sample = self.readable_sample(split, index)
            if sample is not None:
                out.append(sample)
            index += 1
        return out

    def readable_sample(self, split: str, index: int) -> Sample | None:
        """Sample ``index`` of ``split``, or None when its file cannot be decoded (counted in ``skipped``).

        What the training pipeline (:mod:`cv_core.pipeline`) reads, so that one bad file
        never stops a run.
        """
        try:
            return self.sample(split, index)
        except ImageInputError as exc:
            self._note_skip(f"{self._source(split, index)}: {exc}")
            return None

    def labels(self, split: str) -> np.ndarray:
        """(N,) int64: the class index of every sample of ``split``, in order (images are not decoded
        where the dataset knows its labels without them)."""
        return np.asarray(self._labels(check_split(split)), dtype=np.int64)

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
            task: a task whose entry encodes each sample on its own (its ``sample_targets``):
                "classification" yields ``(images, labels)`` with labels int32 (B,);
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

        The pipeline is :func:`cv_core.pipeline.batches`, the one every task trains on.
        """
        from cv_core.pipeline import batches
        from cv_core.runs.tasks import TASKS

        offered = tuple(name for name, entry in TASKS.items() if entry.sample_targets is not None)
        if task not in offered:
            raise DatasetError(N_("Expected `task` to be one of {offered}. Received: task={task}"), offered=offered, task=repr(task))
        return batches(self, split, TASKS[task].sample_targets, image_size=image_size, batch_size=batch_size,
                       shuffle=shuffle, seed=seed, cache=cache)

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
