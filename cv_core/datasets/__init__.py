"""Datasets for classification, segmentation and detection, all behind one API.

>>> from cv_core.datasets import open_dataset
>>> ds = open_dataset("shapes")            # built in: no files, no download
>>> ds.class_names, ds.count("train")
(['circle', 'square', 'triangle', 'star', 'cross'], 2000)
>>> sample = ds.samples("train", count=1)[0]   # image, label, mask, boxes
>>> train = ds.tf_dataset("train", task="segmentation", image_size=(64, 64), batch_size=32)
>>> people = open_dataset("people")       # stick figures with joints: sample.keypoints
"""

from __future__ import annotations

import os

from cv_core.datasets.base import SPLITS, Box, Dataset, DatasetError, Sample, resize_image, resize_mask
from cv_core.datasets.coco_keypoints import CocoKeypointDataset
from cv_core.datasets.folders import CatsVsDogsDataset, ImageFolderDataset
from cv_core.datasets.landmarks import LandmarksDataset, render_landmarks
from cv_core.datasets.oxford_pets import OxfordPetsDataset, download_oxford_pets
from cv_core.datasets.people import PeopleDataset, render_people
from cv_core.datasets.shapes import SHAPE_CLASSES, ShapesDataset, render_shapes, showcase_sample
from cv_core.datasets.user_keypoints import KEYPOINTS_PREFIX, UserKeypointDataset, UserKeypointStore
from cv_core.datasets.user_masks import USER_PREFIX, UserMaskDataset, UserMaskStore
from cv_core.i18n import N_

__all__ = [
    "DATASETS", "KEYPOINT_DATASETS", "SPLITS", "Box", "CatsVsDogsDataset", "CocoKeypointDataset", "Dataset",
    "DatasetError", "ImageFolderDataset", "KEYPOINTS_PREFIX", "LandmarksDataset", "OxfordPetsDataset", "PeopleDataset",
    "SHAPE_CLASSES", "Sample", "ShapesDataset", "download_oxford_pets", "open_dataset", "render_landmarks",
    "render_people", "render_shapes", "resize_image", "resize_mask", "showcase_sample", "UserKeypointDataset",
    "UserKeypointStore", "UserMaskDataset", "UserMaskStore",
]

#: Registry: name -> (class, needs a folder, one-line description for people: marked, shown with ``_``).
DATASETS = {
    "shapes": (ShapesDataset, False, N_("Built-in synthetic shapes with labels, masks and boxes (no files)")),
    "image_folder": (ImageFolderDataset, True, N_("Any folder with one sub-folder of images per class")),
    "cats_vs_dogs": (CatsVsDogsDataset, True, N_("The book's cats vs dogs subset, from a local copy")),
    "oxford_pets": (OxfordPetsDataset, True, N_("Oxford-IIIT Pets photos with trimap masks, from a local copy")),
}

#: Keypoint datasets, same shape as ``DATASETS``. A separate table until the keypoint task and its
#: pages land: the classification, segmentation and detection pickers list ``DATASETS`` only.
KEYPOINT_DATASETS = {
    "people": (PeopleDataset, False, "Built-in stick-figure people with 14 joints, boxes and postures (no files)"),
    "landmarks": (LandmarksDataset, False, "Built-in cartoon faces, turned and tilted, with 6 landmarks (no files)"),
    "coco_keypoints": (CocoKeypointDataset, True, "A folder of pictures with a COCO keypoint file (*.json)"),
}


def open_dataset(name: str, root: str | os.PathLike | None = None, **options) -> Dataset:
    """Open a dataset by name.

    Args:
        name: one of ``DATASETS``: "shapes", "image_folder", "cats_vs_dogs", "oxford_pets";
            one of ``KEYPOINT_DATASETS``: "people", "landmarks", "coco_keypoints";
            "user:<name>" for a user mask dataset (:class:`UserMaskDataset`); or "userkp:<name>" for
            a user keypoint dataset (:class:`UserKeypointDataset`).
        root: the folder of a local dataset (ignored by "shapes"); for "user:<name>", the
            user mask store's folder (None: ``$CONVNET_LAB_DATA/user_masks`` or ``./data/user_masks``).
        **options: passed to the dataset's class, e.g. ``seed``, ``image_size``, ``train_size``
            for shapes, ``validation_split`` for image folders, ``labels="breed"`` for pets.

    Returns:
        A :class:`Dataset`.

    Raises:
        DatasetError: unknown name, missing/wrong/empty folder, single class, bad option.
    """
    if isinstance(name, str) and name.startswith(USER_PREFIX):
        try:
            return UserMaskDataset(name[len(USER_PREFIX):], root, **options)
        except TypeError as exc:
            raise DatasetError(N_("Unknown option for the {name} dataset: {exc}."), name=repr(name), exc=exc) from None
    if isinstance(name, str) and name.startswith(KEYPOINTS_PREFIX):
        try:
            return UserKeypointDataset(name[len(KEYPOINTS_PREFIX):], root, **options)
        except TypeError as exc:
            raise DatasetError(N_("Unknown option for the {name} dataset: {exc}."), name=repr(name), exc=exc) from None
    registry = {**DATASETS, **KEYPOINT_DATASETS}
    if name not in registry:
        raise DatasetError(N_("Expected a dataset name in {tuple}. Received: name={name}"), tuple=tuple(registry), name=repr(name))
    cls, needs_root, _ = registry[name]
    try:
        return cls(root, **options) if needs_root else cls(**options)
    except TypeError as exc:
        raise DatasetError(N_("Unknown option for the {name} dataset: {exc}."), name=repr(name), exc=exc) from None
