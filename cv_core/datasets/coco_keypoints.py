"""A folder of pictures with a COCO keypoint file (a COCO subset, a Label Studio or CVAT export) as a dataset.

>>> ds = open_dataset("coco_keypoints", "data/my_people")      # pictures + one *.json
>>> sample = ds.sample("train", 0)
>>> sample.keypoints[0].points.shape, ds.skeleton.joints[:2]
((17, 2), ('nose', 'left_eye'))

The file is read and checked by :func:`cv_core.keypoints.coco.read_coco_keypoints` (every
problem is a :class:`~cv_core.datasets.DatasetError` naming it). The pictures are split into
train / validation / test by a seeded shuffle of their file names, so a picture keeps its split
when pictures are added elsewhere in the file only if the seed and the set are unchanged.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from cv_core.datasets.base import SPLITS, Dataset, DatasetError, Sample
from cv_core.datasets.folders import check_root
from cv_core.i18n import N_, LazyText
from cv_core.images import ImageInputError, decode_image

__all__ = ["CocoKeypointDataset"]


def _find_annotations(root: Path, annotations: str | os.PathLike | None) -> Path:
    if annotations is not None:
        path = Path(annotations)
        path = path if path.is_absolute() else root / path
        if not path.is_file():
            raise DatasetError(N_("The annotation file {path!r} does not exist."), path=str(path))
        return path
    found = sorted(p for folder in (root, root / "annotations") if folder.is_dir() for p in folder.glob("*.json"))
    if len(found) != 1:
        listed = ", ".join(p.name for p in found[:5]) or LazyText(N_("none"))
        raise DatasetError(N_("Expected one COCO keypoint file (*.json) in {root} or its annotations/ folder; found "
                              "{count} ({listed}). Name the one to read with `annotations`."), root=root,
                           count=len(found), listed=listed)
    return found[0]


class CocoKeypointDataset(Dataset):
    """Pictures with COCO keypoint annotations, split by a seeded shuffle.

    Args:
        root: the folder of the pictures (or holding them in ``images/``) and the JSON file.
        annotations: the JSON file, relative to ``root`` or absolute; None: the one ``*.json``
            in ``root`` or ``root/annotations``.
        category: the keypoint category to read (name or id) when the file has several.
        validation_split, test_split: the share of pictures in each (the rest trains).
        seed: the shuffle that splits them.
    """

    name = "coco_keypoints"
    has_keypoints = True
    has_boxes = True
    has_masks = False

    def __init__(self, root: str | os.PathLike | None, annotations: str | os.PathLike | None = None,
                 category=None, validation_split: float = 0.15, test_split: float = 0.15, seed: int = 0) -> None:
        from cv_core.keypoints.coco import CocoFormatError, read_coco_keypoints

        super().__init__()
        root = check_root(root, "COCO keypoints")
        for name, value in (("validation_split", validation_split), ("test_split", test_split)):
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value < 1:
                raise DatasetError(N_("Expected `{name}` between 0 and 1. Received: {name}={value!r}"), name=name, value=value)
        if validation_split + test_split >= 1:
            raise DatasetError(N_("Expected `validation_split` + `test_split` below 1, so that something trains."))
        path = _find_annotations(root, annotations)
        pictures = root / "images" if (root / "images").is_dir() else root
        try:
            data = read_coco_keypoints(path, images_folder=pictures, category=category)
        except CocoFormatError as exc:
            raise DatasetError(N_("{file}: {error}"), file=path.name, error=exc) from None
        self.data, self.folder, self.annotations = data, pictures, path
        self.skeleton = data.skeleton
        self.warnings = list(data.warnings)
        self.class_names = [data.category_name]
        items = sorted(data.items(), key=lambda item: item[0].file_name)
        order = np.random.default_rng(seed).permutation(len(items))
        n_val, n_test = int(round(len(items) * validation_split)), int(round(len(items) * test_split))
        chosen = {"validation": order[:n_val], "test": order[n_val:n_val + n_test], "train": order[n_val + n_test:]}
        self.items = {split: [items[i] for i in sorted(chosen[split])] for split in SPLITS}
        self.description = (f"{len(items)} pictures with {data.category_name!r} keypoints "
                            f"({data.skeleton.num_joints} joints) read from {path.name}.")

    def _count(self, split: str) -> int:
        return len(self.items[split])

    def _labels(self, split: str) -> np.ndarray:
        return np.zeros(self._count(split), dtype=np.int64)

    def _source(self, split: str, index: int) -> str:
        return self.items[split][index][0].file_name

    def _load(self, split: str, index: int) -> Sample:
        from cv_core.keypoints.pose import scale_instances

        image_info, instances = self.items[split][index]
        path = self.folder / image_info.file_name
        try:
            image = decode_image(path.read_bytes())
        except OSError as exc:
            raise ImageInputError(f"Could not read {path.name}: {exc.strerror or exc}.") from None
        height, width = image.shape[:2]
        if (height, width) != (image_info.height, image_info.width):
            if abs(width / height - image_info.width / image_info.height) > 0.02:
                raise ImageInputError(
                    f"{path.name} is {width}×{height} once decoded (turned by its EXIF orientation?), but its "
                    f"keypoints are for {image_info.width}×{image_info.height}.")
            instances = scale_instances(instances, (image_info.height, image_info.width), (height, width))
        boxes = [(0, int(np.floor(i.box[0])), int(np.floor(i.box[1])), int(np.ceil(i.box[2])), int(np.ceil(i.box[3])))
                 for i in instances if not i.crowd]
        return Sample(image=image, label=0, boxes=boxes, source=path.name, keypoints=list(instances))
