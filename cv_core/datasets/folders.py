"""Datasets read from folders of image files: any class-per-folder tree, and the book's cats vs dogs."""

from __future__ import annotations

import os
import random
import re
from pathlib import Path

import numpy as np
from PIL import Image

from cv_core.datasets.base import SPLITS, Dataset, DatasetError, Sample
from cv_core.i18n import N_, LazyText
from cv_core.images import ALLOWED_FORMATS, ImageInputError, decode_image

__all__ = ["CatsVsDogsDataset", "FileDataset", "ImageFolderDataset"]

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif"}


def check_root(root: str | os.PathLike | None, what: str) -> Path:
    """Return ``root`` as a Path if it is an existing folder; raise a friendly DatasetError if not."""
    if root is None or str(root).strip() == "":
        raise DatasetError(N_("The {what} dataset needs a folder: please give its path."), what=LazyText(what))
    path = Path(os.path.expanduser(str(root)))
    if not path.exists():
        raise DatasetError(N_("The folder {str} does not exist. Check the path and try again."), str=repr(str(path)))
    if not path.is_dir():
        raise DatasetError(N_("{str} is a file, not a folder. Please give the folder that holds the images."), str=repr(str(path)))
    return path


def is_image_file(path: Path) -> bool:
    """A visible file with an image suffix (AppleDouble ``._x.jpg`` and dot-files excluded)."""
    return path.is_file() and not path.name.startswith(".") and path.suffix.lower() in IMAGE_SUFFIXES


def probe_image(path: Path) -> bool:
    """Cheap check that a file is a readable picture: parses the header only, decodes no pixels."""
    try:
        if path.stat().st_size == 0:
            return False
        with open(path, "rb") as handle, Image.open(handle, formats=ALLOWED_FORMATS) as image:
            width, height = image.size
            return width > 0 and height > 0
    except Exception:
        return False


class FileDataset(Dataset):
    """A dataset whose samples are image files with known labels, split into three lists."""

    has_masks = False
    has_boxes = False  # labels only: no masks, no boxes

    def __init__(self) -> None:
        super().__init__()
        self.files: dict[str, list[tuple[Path, int]]] = {split: [] for split in SPLITS}

    def _count(self, split: str) -> int:
        return len(self.files[split])

    def _labels(self, split: str) -> np.ndarray:
        return np.array([label for _, label in self.files[split]], dtype=np.int64)

    def _source(self, split: str, index: int) -> str:
        return str(self.files[split][index][0])

    def _load(self, split: str, index: int) -> Sample:
        path, label = self.files[split][index]
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ImageInputError(f"Could not read {path.name}: {exc.strerror or exc}.") from None
        return Sample(image=decode_image(data), label=label, source=path.name)

    def _keep_readable(self, paths: list[Path], limit: int | None = None) -> list[Path]:
        """The readable files of ``paths`` in order; stops probing once ``limit`` are kept."""
        kept = []
        for path in paths:
            if limit is not None and len(kept) >= limit:
                break
            if probe_image(path):
                kept.append(path)
            else:
                self._note_skip(str(path))
        return kept


def _split_indices(n: int, fractions: tuple[float, float], seed: int) -> dict[str, list[int]]:
    order = list(range(n))
    random.Random(seed).shuffle(order)
    n_val = int(round(n * fractions[0]))
    n_test = int(round(n * fractions[1]))
    return {
        "validation": sorted(order[:n_val]),
        "test": sorted(order[n_val:n_val + n_test]),
        "train": sorted(order[n_val + n_test:]),
    }


class ImageFolderDataset(FileDataset):
    """Any folder of class sub-folders (the ``image_dataset_from_directory`` convention).

    ``root/<class>/*.jpg``. If ``root`` instead holds ``train/``, ``validation/`` (or ``val/``)
    and ``test/`` folders, each with the same class sub-folders, those splits are used as they
    are; a split without its own folder is carved out of ``train/`` (``validation_split`` or
    ``test_split`` of each class). Without split folders a fixed, seeded shuffle assigns
    ``validation_split`` and ``test_split`` of each class to validation and test. Unreadable
    files are skipped and counted.

    Raises:
        DatasetError: missing or empty folder, fewer than two classes, splits out of range.
    """

    name = "image_folder"

    def __init__(self, root: str | os.PathLike | None, validation_split: float = 0.2,
                 test_split: float = 0.1, seed: int = 1337) -> None:
        super().__init__()
        root_path = check_root(root, N_("image folder"))
        if not (0 <= validation_split < 1 and 0 <= test_split < 1 and validation_split + test_split < 1):
            raise DatasetError(
                N_("Expected `validation_split` and `test_split` in [0, 1) with a sum below 1. Received: "
                   "validation_split={validation_split}, test_split={test_split}"), validation_split=validation_split, test_split=test_split
            )
        self.root = root_path
        split_dirs = self._split_dirs(root_path)
        if split_dirs:
            classes = sorted({d.name for folder in split_dirs.values() for d in _class_dirs(folder)})
            self._check_classes(classes, root_path)
            # Splits without a folder of their own are carved out of train, as without folders.
            carve = (validation_split if "validation" not in split_dirs else 0.0,
                     test_split if "test" not in split_dirs else 0.0)
            for split, folder in split_dirs.items():
                for label, cls in enumerate(classes):
                    class_dir = folder / cls
                    paths = sorted(p for p in class_dir.rglob("*") if is_image_file(p)) if class_dir.is_dir() else []
                    paths = self._keep_readable(paths)
                    if split != "train" or carve == (0.0, 0.0):
                        self.files[split] += [(p, label) for p in paths]
                        continue
                    for part, indices in _split_indices(len(paths), carve, seed + label).items():
                        self.files[part] += [(paths[i], label) for i in indices]
        else:
            classes = [d.name for d in _class_dirs(root_path)]
            self._check_classes(classes, root_path)
            for label, cls in enumerate(classes):
                paths = self._keep_readable(sorted(p for p in (root_path / cls).rglob("*") if is_image_file(p)))
                for split, indices in _split_indices(len(paths), (validation_split, test_split), seed + label).items():
                    self.files[split] += [(paths[i], label) for i in indices]
        self.class_names = classes
        if sum(len(v) for v in self.files.values()) == 0:
            raise DatasetError(
                f"No readable images were found in {str(root_path)!r}"
                + (f" ({self.skipped} files could not be read)." if self.skipped else ".")
            )
        self.description = LazyText(N_("Images from {folder}, one class per sub-folder."), folder=str(root_path))

    @staticmethod
    def _split_dirs(root: Path) -> dict[str, Path]:
        names = {"train": ["train"], "validation": ["validation", "val"], "test": ["test"]}
        found = {}
        for split, options in names.items():
            for option in options:
                if (root / option).is_dir() and _class_dirs(root / option):
                    found[split] = root / option
                    break
        return found if "train" in found else {}

    @staticmethod
    def _check_classes(classes: list[str], root: Path) -> None:
        if not classes:
            raise DatasetError(
                N_("The folder {str} has no class sub-folders. Put the images of each class in a sub-folder "
                   "named after the class, e.g. cats/ and dogs/."), str=repr(str(root))
            )
        if len(classes) < 2:
            raise DatasetError(
                N_("The folder {str} has a single class ({classes}). A classifier needs at least two "
                   "classes: add another sub-folder of images."), str=repr(str(root)), classes=repr(classes[0])
            )


def _class_dirs(folder: Path) -> list[Path]:
    return sorted(
        d for d in folder.iterdir()
        if d.is_dir() and not d.name.startswith((".", "_")) and any(is_image_file(p) for p in d.rglob("*"))
    )


_KAGGLE_NAME = re.compile(r"^(cat|dog)\.(\d+)\.jpe?g$", re.IGNORECASE)


class CatsVsDogsDataset(FileDataset):
    """The book's cats vs dogs subset, from a local copy of the original data.

    ``root`` may be Kaggle's ``train/`` folder (``cat.0.jpg``, ``dog.0.jpg`` …), a folder that
    contains it, Microsoft's ``PetImages/`` (``Cat/0.jpg``, ``Dog/0.jpg``) or a folder that
    contains that. As in the book, the first 1000 images of each class (by number) train, the
    next 500 validate and the next 1000 test. A smaller copy is split in the same 2:1:2
    proportions. Files that are empty or not readable pictures (Microsoft's copy has some) are
    skipped and counted.
    """

    name = "cats_vs_dogs"
    BOOK_SPLITS = {"train": (0, 1000), "validation": (1000, 1500), "test": (1500, 2500)}

    @classmethod
    def names_before_opening(cls, **options) -> dict[str, list[str]]:
        """The name lists this dataset has whatever its folder holds (a model's size shows before it is typed)."""
        return {"class_names": ["cat", "dog"]}

    def __init__(self, root: str | os.PathLike | None) -> None:
        super().__init__()
        root_path = check_root(root, "cats vs dogs")
        self.root = root_path
        per_class = self._find(root_path)
        if per_class is None:
            raise DatasetError(
                N_("{str} does not look like the cats vs dogs data. Expected Kaggle's train/ folder "
                   "(cat.0.jpg, dog.0.jpg, …) or Microsoft's PetImages/ folder (Cat/, Dog/)."), str=repr(str(root_path))
            )
        self.class_names = self.names_before_opening()["class_names"]
        for label, numbered in enumerate(per_class):
            # The book uses the first 2500 readable pictures: the other 10000 need no probing.
            ordered = [path for _, path in sorted(numbered)]
            paths = self._keep_readable(ordered, limit=self.BOOK_SPLITS["test"][1])
            for split, (start, stop) in self._ranges(len(paths)).items():
                self.files[split] += [(p, label) for p in paths[start:stop]]
        if not all(self.files[s] for s in SPLITS):
            raise DatasetError(N_("Too few readable cat and dog pictures in {str} to make three splits."), str=repr(str(root_path)))
        self.description = LazyText(N_("The book's cats vs dogs subset: 2000 training, 1000 validation and 2000 test images."))

    @classmethod
    def _ranges(cls, n: int) -> dict[str, tuple[int, int]]:
        if n >= cls.BOOK_SPLITS["test"][1]:  # 2500: enough for the book's exact ranges
            return cls.BOOK_SPLITS
        n_train, n_val = round(n * 0.4), round(n * 0.2)
        return {"train": (0, n_train), "validation": (n_train, n_train + n_val), "test": (n_train + n_val, n)}

    @staticmethod
    def _find(root: Path) -> list[list[tuple[int, Path]]] | None:
        for folder in (root, root / "train"):
            if folder.is_dir():
                cats, dogs = [], []
                for path in folder.iterdir():
                    match = _KAGGLE_NAME.match(path.name)
                    if match and path.is_file():
                        (cats if match.group(1).lower() == "cat" else dogs).append((int(match.group(2)), path))
                if cats and dogs:
                    return [cats, dogs]
        for folder in (root, root / "PetImages"):
            if (folder / "Cat").is_dir() and (folder / "Dog").is_dir():
                lists = []
                for name in ("Cat", "Dog"):
                    lists.append([(int(p.stem), p) for p in (folder / name).iterdir()
                                  if p.stem.isdigit() and is_image_file(p)])
                if all(lists):
                    return lists
        return None
