"""Oxford-IIIT Pets: photos of 37 cat and dog breeds with trimap segmentation masks.

The book's segmentation data. Read from a local folder holding ``images/*.jpg`` and
``annotations/trimaps/*.png`` (the two official archives unpacked side by side);
:func:`download_oxford_pets` fetches and unpacks them for a connected user.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Callable

import numpy as np

from cv_core.datasets.base import SPLITS, Dataset, DatasetError, Sample
from cv_core.datasets.folders import check_root
from cv_core.download import DownloadProgress, download_file, extract_archive
from cv_core.i18n import N_, LazyText
from cv_core.images import ImageInputError, decode_image, decode_label_map

__all__ = ["OXFORD_PETS_ARCHIVES", "OXFORD_PETS_URL", "OxfordPetsDataset", "download_oxford_pets", "mask_boxes"]

OXFORD_PETS_URL = "https://www.robots.ox.ac.uk/~vgg/data/pets/data/"
#: Official archives and their published MD5 checksums.
OXFORD_PETS_ARCHIVES = {
    "images.tar.gz": "5c4f3ee8e5d25df40f4fd59a7f44e54c",
    "annotations.tar.gz": "95a8c909bbe2e81eed6a22bccdf3f68f",
}
FOREGROUND, BACKGROUND, BOUNDARY = 0, 1, 2


def mask_boxes(mask: np.ndarray, label: int, foreground_values=(FOREGROUND, BOUNDARY)) -> list[tuple[int, int, int, int, int]]:
    """One box around the pixels of ``mask`` whose value is in ``foreground_values``.

    Returns:
        ``[(label, x0, y0, x1, y1)]`` with x1/y1 exclusive, or ``[]`` when there is no foreground.
    """
    ys, xs = np.nonzero(np.isin(mask, foreground_values))
    if len(xs) == 0:
        return []
    return [(int(label), int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)]


class OxfordPetsDataset(Dataset):
    """Oxford-IIIT Pets from ``root/images`` and ``root/annotations/trimaps``.

    Labels are the species (``class_names == ["cat", "dog"]``; cat breeds' file names start
    with a capital letter), or the 37 breeds with ``labels="breed"``. Masks follow the book:
    trimap values 1, 2, 3 become 0, 1, 2 (``mask_class_names == ["foreground", "background",
    "boundary"]``). Each sample has one box around the pet (foreground and boundary pixels),
    or with ``boxes="head"`` the pet's head box from ``annotations/xmls/<name>.xml`` (the
    dataset's detection annotations, :mod:`cv_core.datasets.pets_xml`): then only the images
    with a readable XML file are used (trainval images; the official test images have none),
    and malformed XML files and trainval images without one are skipped and counted.
    **Instances** (``has_instances``, with the default ``boxes="pet"``): one animal a picture,
    so ``Sample.instances`` is 1 on the pet's trimap foreground and boundary pixels (what its
    box surrounds) and 0 elsewhere; its class is the box's (the species or breed label). A
    trimap with no foreground gives an all-zero map and no box. With ``boxes="head"`` the box
    is the head, not the pet, so there are no instances (``has_instances`` is False).
    Splits: the image names sorted, shuffled with ``random.Random(seed)`` (1337, as the book),
    then 12.5% validation, 12.5% test, the rest training. Stray files (``._*`` AppleDouble
    files, images without a trimap, trimaps without an image) are skipped and counted.
    """

    name = "oxford_pets"
    has_masks = True
    has_boxes = True  # one box around each pet (from its trimap)

    @classmethod
    def names_before_opening(cls, labels: str = "species", **options) -> dict[str, list[str]]:
        """The name lists this dataset has whatever its folder holds (a model's size shows before it is
        typed): the species and the trimap classes; the breeds come from the files."""
        names = {"mask_class_names": ["foreground", "background", "boundary"]}
        if labels == "species":
            names["class_names"] = ["cat", "dog"]
        return names

    def __init__(self, root: str | os.PathLike | None, labels: str = "species", seed: int = 1337,
                 boxes: str = "pet") -> None:
        super().__init__()
        if labels not in ("species", "breed"):
            raise DatasetError(N_("Expected `labels` to be one of ('species', 'breed'). Received: labels={labels!r}"),
                               labels=labels)
        if boxes not in ("pet", "head"):
            raise DatasetError(N_("Expected `boxes` to be one of ('pet', 'head'). Received: boxes={boxes!r}"), boxes=boxes)
        root_path = check_root(root, "Oxford-IIIT Pets")
        images_dir, trimaps_dir = root_path / "images", root_path / "annotations" / "trimaps"
        if not images_dir.is_dir() or not trimaps_dir.is_dir():
            raise DatasetError(N_("{folder!r} does not hold the Oxford-IIIT Pets layout. Expected the folders images/ "
                                  "(the .jpg photos) and annotations/trimaps/ (the .png masks), as unpacked from "
                                  "images.tar.gz and annotations.tar.gz."), folder=str(root_path))
        self.root = root_path
        trimaps = {p.stem: p for p in trimaps_dir.glob("*.png") if not p.name.startswith(".")}
        pairs = []
        for image in sorted(images_dir.glob("*.jpg")):
            if image.name.startswith("."):
                self._note_skip(str(image))
            elif image.stem in trimaps:
                pairs.append((image, trimaps.pop(image.stem)))
            else:
                self._note_skip(f"{image} (no trimap)")
        for trimap in sorted(trimaps.values()):  # left over: no photo of that name
            self._note_skip(f"{trimap} (no photo)")
        self.boxes_kind = boxes
        self.head_boxes: dict[str, tuple[int, int, int, int]] = {}
        if boxes == "head":
            pairs = self._with_head_boxes(root_path, pairs)
        if not pairs:
            raise DatasetError(N_("No photos with trimaps were found under {folder!r}."), folder=str(root_path))
        breeds = sorted({_breed(img.stem) for img, _ in pairs}, key=str.lower)
        self.labels_kind = labels
        known = self.names_before_opening(labels)
        self.class_names = known.get("class_names", breeds)
        self.has_masks = True
        self.has_instances = boxes == "pet"  # one pet a picture: the trimap's foreground and boundary
        self.mask_class_names = known["mask_class_names"]
        self.mask_background = BACKGROUND
        self.default_image_size = (200, 200)
        random.Random(seed).shuffle(pairs)
        n_val = n_test = round(len(pairs) * 0.125)
        chunks = {"validation": pairs[:n_val], "test": pairs[n_val:n_val + n_test], "train": pairs[n_val + n_test:]}
        self.files = {split: [(img, tri, self._label(img.stem, breeds)) for img, tri in chunks[split]] for split in SPLITS}
        self.description = LazyText(N_("Oxford-IIIT Pets: cat and dog photos with foreground / background / boundary trimaps."))

    def _with_head_boxes(self, root_path: Path, pairs: list) -> list:
        """Keep the photos that have a head box; count malformed and missing XML files."""
        from cv_core.datasets.pets_xml import PetsXmlError, read_pet_head_boxes

        try:
            self.head_boxes, problems = read_pet_head_boxes(root_path)
        except PetsXmlError as exc:
            raise DatasetError(N_("{error} Head boxes need annotations.tar.gz unpacked next to images/."),
                               error=exc) from None
        for problem in problems:
            self._note_skip("head box " + problem)  # a skip note stays English, as the others (str + LazyText)
        kept = [(image, trimap) for image, trimap in pairs if image.stem in self.head_boxes]
        if not kept:
            raise DatasetError(N_("No photo under {folder!r} has a readable head box in annotations/xmls/."),
                               folder=str(root_path))
        return kept

    def _label(self, stem: str, breeds: list[str]) -> int:
        if self.labels_kind == "species":
            return 0 if stem[:1].isupper() else 1
        return breeds.index(_breed(stem))

    def _count(self, split: str) -> int:
        return len(self.files[split])

    def _labels(self, split: str) -> np.ndarray:
        return np.array([label for _, _, label in self.files[split]], dtype=np.int64)

    def _source(self, split: str, index: int) -> str:
        return str(self.files[split][index][0])

    def _load(self, split: str, index: int) -> Sample:
        image_path, trimap_path, label = self.files[split][index]
        try:
            image = decode_image(image_path.read_bytes())
            trimap = decode_label_map(trimap_path.read_bytes())
        except OSError as exc:
            raise ImageInputError(N_("Could not read {file}: {error}."), file=image_path.name,
                                  error=exc.strerror or exc) from None
        if trimap.shape != image.shape[:2]:
            raise ImageInputError(N_("The trimap of {file} is {width} x {height} pixels but the photo is "
                                     "{photo_width} x {photo_height}."), file=image_path.name, width=trimap.shape[1],
                                  height=trimap.shape[0], photo_width=image.shape[1], photo_height=image.shape[0])
        mask = (np.clip(trimap, 1, 3) - 1).astype(np.uint8)
        if self.boxes_kind == "head":
            x0, y0, x1, y1 = self.head_boxes[image_path.stem]
            height, width = mask.shape
            x1, y1 = min(x1, width), min(y1, height)  # the XML's <size> may disagree with the photo
            boxes = [(label, x0, y0, x1, y1)] if x1 > x0 and y1 > y0 else []
        else:
            boxes = mask_boxes(mask, label)
        instances = None
        if self.has_instances:
            pet = np.isin(mask, (FOREGROUND, BOUNDARY))
            instances = pet.astype(np.uint16) if boxes else np.zeros(mask.shape, np.uint16)
        return Sample(image=image, label=label, mask=mask, boxes=boxes, source=image_path.name, instances=instances)


def _breed(stem: str) -> str:
    return stem.rsplit("_", 1)[0]


def download_oxford_pets(
    root: str | os.PathLike,
    *,
    base_url: str = OXFORD_PETS_URL,
    checksums: dict[str, str] | None = None,
    progress: Callable[[str, DownloadProgress], None] | None = None,
    timeout: float = 30.0,
) -> Path:
    """Download and unpack the two official Oxford-IIIT Pets archives into ``root``.

    Archives go to ``root/downloads`` and are resumed if a previous attempt stopped; each is
    checked against its MD5 before it is unpacked (safely: no paths outside ``root``). Calling
    it again after success does nothing but re-check the files.

    Args:
        root: the dataset folder; afterwards it holds ``images/`` and ``annotations/``.
        base_url: where the archives live (a local server in tests).
        checksums: ``{archive name: md5}``; defaults to the official :data:`OXFORD_PETS_ARCHIVES`.
        progress: called with ``(archive name, DownloadProgress)`` as bytes arrive.
        timeout: seconds to wait for the server on each read.

    Returns:
        ``root`` as a Path, ready for ``open_dataset("oxford_pets", root)``.

    Raises:
        cv_core.download.DownloadError: offline, server error, incomplete or corrupt archive.
    """
    root_path = Path(root)
    checksums = OXFORD_PETS_ARCHIVES if checksums is None else checksums
    for name, md5 in checksums.items():
        archive = download_file(
            base_url.rstrip("/") + "/" + name,
            root_path / "downloads" / name,
            checksum=md5,
            algorithm="md5",
            progress=(lambda p, name=name: progress(name, p)) if progress else None,
            timeout=timeout,
        )
        marker = root_path / "downloads" / (name + ".unpacked")
        if not marker.exists():
            extract_archive(archive, root_path)
            marker.write_text(md5 or "")
    return root_path
