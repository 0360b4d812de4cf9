"""A user mask dataset opened for training: items split 70 / 15 / 15 by a seeded hash of their ids."""

from __future__ import annotations

import hashlib
import os

import numpy as np

from cv_core.datasets.base import SPLITS, Dataset, DatasetError, Sample
from cv_core.datasets.user_masks.files import USER_PREFIX, mask_label
from cv_core.datasets.user_masks.store import UserMaskStore
from cv_core.images import ImageInputError
from cv_core.i18n import N_

_SPLIT_FRACTIONS = (0.70, 0.15)  # train, validation; the rest is test


def _split_of(seed: int, item_id: str) -> tuple[str, float]:
    """A stable pseudo-random number in [0, 1) per item, and the split it falls in."""
    digest = hashlib.sha256(f"{seed}:{item_id}".encode()).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64
    train, validation = _SPLIT_FRACTIONS
    return ("train" if u < train else "validation" if u < train + validation else "test"), u


def split_items(item_ids, seed: int = 1337) -> dict[str, list[str]]:
    """Split item ids 70 / 15 / 15 by a seeded hash of each id.

    An item's split depends only on its id and the seed, so saving more masks never moves
    an existing item into another split (no test image ever becomes a training image). Two
    fix-ups keep small datasets usable: with at least 2 items there is at least one
    validation item, and with at least 1 there is at least one training item.
    """
    splits: dict[str, list[tuple[float, str]]] = {s: [] for s in SPLITS}
    for item_id in item_ids:
        split, u = _split_of(seed, item_id)
        splits[split].append((u, item_id))
    middle = _SPLIT_FRACTIONS[0] + _SPLIT_FRACTIONS[1] / 2
    if len(item_ids) >= 2 and not splits["validation"]:
        donor = "test" if splits["test"] else "train"
        moved = min(splits[donor], key=lambda pair: abs(pair[0] - middle))
        splits[donor].remove(moved)
        splits["validation"].append(moved)
    if item_ids and not splits["train"]:
        donor = "test" if splits["test"] else "validation"
        moved = min(splits[donor])
        splits[donor].remove(moved)
        splits["train"].append(moved)
    return {split: sorted(item for _, item in pairs) for split, pairs in splits.items()}


class UserMaskDataset(Dataset):
    """A user mask dataset, as opened by ``open_dataset("user:<name>")``.

    ``mask_class_names`` are the class names saved with it, ``mask_background`` its
    background index. Image-level labels (``class_names``, the same list) are each mask's
    non-background class with the most pixels, or the background for a mask with no object.
    Boxes are the mask's instances (:func:`cv_core.segmentation.mask_to_objects`), their
    class the mask value; where an instance map lies beside a mask (``instances/<id>.png``, a
    single-channel PNG of ids, 0 = no object, ids may skip numbers) the sample carries it
    (``Sample.instances``, renumbered 1..N) and its boxes are its objects' (an instance map of
    another size than its picture, or an id with no pixels on an object, makes that item
    unreadable: skipped and counted, with the message in ``skipped_files``). In a dataset with
    instance maps, an item saved without one (a plain class mask) has one object per connected
    region of each class, as its boxes say. Splits: :func:`split_items` (70 / 15 / 15 by a seeded hash of
    each id, stable as the dataset grows, at least one validation item from 2 items on).

    Args:
        name: the dataset's name in the store (without ``user:``).
        root: the store's folder (see :class:`UserMaskStore`); None for the default.
        seed: the split seed.
        min_area: objects with fewer pixels get no box.

    Raises:
        DatasetError: a bad name, no such dataset, or a dataset without any saved mask.
    """

    has_masks = True
    has_boxes = True

    def __init__(self, name: str, root: str | os.PathLike | None = None, seed: int = 1337,
                 min_area: int = 4) -> None:
        super().__init__()
        if isinstance(min_area, bool) or not isinstance(min_area, int) or min_area < 1:
            raise DatasetError(N_("Expected `min_area` to be a whole number >= 1. Received: min_area={min_area}"), min_area=repr(min_area))
        self.store = UserMaskStore(root)
        info = self.store.dataset_info(name)
        self.dataset_name = name
        self.name = USER_PREFIX + name
        self.class_names = list(info["class_names"])
        self.mask_class_names = list(info["class_names"])
        self.mask_background = info["background"]
        self.min_area = min_area
        self.default_image_size = (200, 200)
        items = self.store.list_items(name)
        if not items:
            raise DatasetError(
                N_("The user dataset {name} has no saved masks yet. Draw and save at least one first."), name=repr(name)
            )
        self.items = split_items(items, seed)
        # An instance map beside a class mask (instances/<id>.png): instance segmentation can use it.
        self.instances_folder = self.store.root / name / "instances"
        self.has_instances = self.instances_folder.is_dir() and any(
            not p.name.startswith(".") for p in self.instances_folder.glob("*.png"))
        self.description = (
            f"Your masks in {name!r}: {len(items)} pictures, classes "
            + ", ".join(self.class_names) + "."
        )

    def _count(self, split: str) -> int:
        return len(self.items[split])

    def _source(self, split: str, index: int) -> str:
        return f"{self.items[split][index]}.png"

    def _labels(self, split: str) -> np.ndarray:
        labels = []
        for item_id in self.items[split]:
            try:
                labels.append(mask_label(self.store.load_mask(self.dataset_name, item_id), self.mask_background))
            except (DatasetError, ImageInputError):
                labels.append(self.mask_background)
        return np.array(labels, dtype=np.int64)

    def _load(self, split: str, index: int) -> Sample:
        from cv_core.segmentation import mask_to_objects

        item_id = self.items[split][index]
        try:
            image, mask = self.store.load_item(self.dataset_name, item_id)
        except DatasetError as exc:
            raise ImageInputError(str(exc)) from None
        from cv_core.instances.data import instances_from_maps

        instances = None
        try:
            found = self.store.load_instances(self.dataset_name, item_id)
            if found is not None:  # its objects are the instance map's (ids may skip numbers)
                found = instances_from_maps(mask, found, image.shape, background=self.mask_background,
                                            source=f"instances/{item_id}.png")
        except DatasetError as exc:  # (InstanceDataError is one)
            raise ImageInputError(str(exc)) from None
        if found is not None:
            instances, boxes = found.instances, found.boxes
        else:
            objects = mask_to_objects(mask, background=self.mask_background, min_area=self.min_area)
            boxes = [(obj["class_index"], *obj["box"]) for obj in objects]
            if self.has_instances:  # a mask saved without objects, in a dataset with them: its regions
                instances = np.zeros(mask.shape, np.uint16)
                for number, obj in enumerate(objects, start=1):
                    instances[obj["mask"]] = number
        return Sample(image=image, label=mask_label(mask, self.mask_background), mask=mask,
                      boxes=boxes, source=f"{item_id}.png", instances=instances)
